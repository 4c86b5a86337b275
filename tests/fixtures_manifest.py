"""Fixtures for the manifest subsystem (loaded by the root conftest.py)."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import EXAMPLE_MANIFEST

_EXAMPLE = json.loads(EXAMPLE_MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture
def example_manifest() -> dict:
    """A fresh, mutable copy of examples/lighthouse.json (valid)."""
    return copy.deepcopy(_EXAMPLE)
