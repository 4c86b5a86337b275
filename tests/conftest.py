"""Fixtures shared by every subsystem's tests. Subsystem fixtures live in
tests/fixtures_<name>.py (loaded by the root conftest.py)."""

from __future__ import annotations

import contextlib
import os
import signal
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


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (from /proc: no psutil in the test venv)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                # the field after "(comm)" is the state, then the parent pid
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """After every fixture's teardown: no server, A1111 or browser a test left behind outlives this
    pytest process. Orphans would keep loading the machine (and the next run on it).
    Each xdist worker sweeps its own; the controller's children are the workers."""
    if session.config.pluginmanager.getplugin("dsession") is not None:
        return
    for pid in descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
