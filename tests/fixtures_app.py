"""Fixtures for the app server, journal and runner: a real uvicorn server
on a free loopback port (in a thread), with an AppContext the test controls."""

from __future__ import annotations

import time

import pytest

from movieminter.testing.server_thread import ServerThread

WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil account 1
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


@pytest.fixture
def app_context(tmp_path):
    from movieminter.app.context import AppContext
    from movieminter.config import Settings

    ctx = AppContext(Settings(data_dir=tmp_path / "data"))
    ctx.chain_id = 31337
    ctx.contract_address = CONTRACT
    ctx.sse_heartbeat = 0.5
    return ctx


@pytest.fixture
def serve_app():
    """serve_app(app) -> ServerThread, stopped at the end of the test."""
    servers = []

    def start(app):
        s = ServerThread(app).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def wait_state(journal, job_id: int, states, timeout: float = 30):
    states = {states} if isinstance(states, str) else set(states)
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = journal.get(job_id)
        if job.state in states:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} stayed {journal.get(job_id).state}, expected {states}")


HOLD_LIMIT = 300  # seconds: a held job that nobody cancels or stops fails instead of spinning forever


def hold_step(ctx, job):
    """A step that waits until the job is cancelled or the server stops (at most HOLD_LIMIT seconds)."""
    from movieminter.errors import MovieMinterError

    deadline = time.monotonic() + HOLD_LIMIT
    while time.monotonic() < deadline:
        job.check()
        time.sleep(0.02)
    raise MovieMinterError(f"the test's held step was neither cancelled nor stopped within {HOLD_LIMIT} s")


def holding_steps():
    from movieminter.app.runner import Step

    return [Step("queued", "models_ready", hold_step)]
