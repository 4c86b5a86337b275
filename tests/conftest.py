"""Fixtures shared by every subsystem's tests. Subsystem fixtures live in
tests/fixtures_<name>.py (loaded by the root conftest.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MANIFEST = ROOT / "examples" / "lighthouse.json"


def free_port() -> int:
    """A free TCP port on loopback (tests run in parallel: never hard-code one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def example_manifest_path() -> Path:
    return EXAMPLE_MANIFEST
