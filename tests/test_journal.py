"""The SQLite job journal: keys, transitions, persistence across re-opening."""

from __future__ import annotations

import sqlite3

import pytest

from movieminter.app.journal import JobNotFound, Journal, JournalError
from tests.fixtures_app import CONTRACT, WALLET


def test_same_segment_and_wallet_is_queued_once(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    a, created_a = j.create(31337, CONTRACT, 1, 4, WALLET, {"x": 1})
    # Same key with other letter case: still the same job.
    b, created_b = j.create(31337, CONTRACT.upper().replace("0X", "0x"), 1, 4, WALLET.lower(), {"x": 2})
    assert created_a and not created_b and a.id == b.id
    assert b.params == {"x": 1}
    c, created_c = j.create(31337, CONTRACT, 1, 5, WALLET, {})
    assert created_c and c.id != a.id
    assert [x.id for x in j.unfinished()] == [a.id, c.id]


def test_transitions_are_durable_and_guarded(tmp_path):
    path = tmp_path / "j.sqlite3"
    j = Journal(path)
    job, _ = j.create(1, CONTRACT, 2, 0, WALLET, {})
    j.transition(job.id, "models_ready", {"models": ["a"]}, expect="queued")
    with pytest.raises(JournalError, match="is models_ready, not queued"):
        j.transition(job.id, "models_ready", {}, expect="queued")
    j.save(job.id, "render", {"deforum_job": "batch(1)-0"})
    j.close()

    again = Journal(path)  # a restarted process sees exactly what was written
    job = again.get(job.id)
    assert job.state == "models_ready"
    assert job.data == {"models_ready": {"models": ["a"]}, "_render": {"deforum_job": "batch(1)-0"}}
    assert [(t["from"], t["to"]) for t in again.transitions(job.id)] == [(None, "queued"), ("queued", "models_ready")]
    # WAL mode, so the web server can read while a job thread writes.
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_failed_job_reopens_where_it_stopped(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    job, _ = j.create(1, CONTRACT, 2, 0, WALLET, {})
    j.transition(job.id, "models_ready", {})
    j.transition(job.id, "failed", error={"message": "boom"})
    running, _ = j.create(1, CONTRACT, 3, 0, WALLET, {})
    with pytest.raises(JournalError, match="only failed or cancelled"):
        j.reopen(running.id)
    job = j.reopen(job.id)
    assert job.state == "models_ready" and job.error is None and job.resume_state is None


def test_unknown_job_and_state(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    with pytest.raises(JobNotFound):
        j.get(42)
    job, _ = j.create(1, CONTRACT, 2, 0, WALLET, {})
    with pytest.raises(JournalError, match="unknown job state"):
        j.transition(job.id, "teleported")
