"""The SQLite job journal: keys, transitions, persistence across re-opening."""

from __future__ import annotations

import sqlite3

import pytest

from movieminter.app.journal import JobNotFound, Journal, JournalError
from movieminter.errors import MovieMinterError
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


# ------------------------------------------------------------- a damaged journal file (issue 13, item 10)
PAGE = 4096


def journal_with_jobs(path, count=12) -> dict[int, int]:
    """A real journal with `count` jobs (about two per page); returns job id -> the page holding it."""
    j = Journal(path)
    for i in range(count):
        job, _ = j.create(31337, CONTRACT, 1, i, WALLET, {"note": f"marker-job-{i + 1}-" + "x" * 1500})
        j.transition(job.id, "models_ready", {"models": []})
        j.transition(job.id, "cancelled" if i % 2 else "failed", error=None if i % 2 else {"message": "boom"})
    j.close()  # the WAL is checkpointed into the file
    data = path.read_bytes()
    assert int.from_bytes(data[16:18], "big") == PAGE
    return {i + 1: data.index(f"marker-job-{i + 1}-".encode()) // PAGE for i in range(count)}


def write_garbage(path, page: int, seed: int = 7) -> None:
    import random

    rnd = random.Random(seed)
    with open(path, "r+b") as f:
        f.seek(page * PAGE)
        f.write(bytes(rnd.randrange(256) for _ in range(PAGE)))


def app_client(tmp_path):
    from fastapi.testclient import TestClient

    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.config import Settings
    from tests.fixtures_app import holding_steps

    ctx = AppContext(Settings(data_dir=tmp_path / "data"))
    ctx.chain_id = 31337
    ctx.contract_address = CONTRACT
    ctx.steps = holding_steps()
    return TestClient(create_app(ctx, ui=False, run_jobs=True, proxy_secret=""), raise_server_exceptions=False)


def test_a_damaged_page_costs_only_its_jobs_and_the_app_says_which(tmp_path, caplog):
    path = tmp_path / "data" / "journal.sqlite3"
    pages = journal_with_jobs(path)
    bad_page = pages[5]
    lost = {job for job, page in pages.items() if page == bad_page}
    assert 5 in lost and len(lost) < len(pages) // 2
    write_garbage(path, bad_page)
    with pytest.raises(sqlite3.DatabaseError):  # the file really is damaged
        sqlite3.connect(path).execute("SELECT * FROM jobs").fetchall()

    with caplog.at_level("ERROR", logger="movieminter.journal"), app_client(tmp_path) as c:
        r = c.get("/api/v1/jobs")
        assert r.status_code == 200, r.text
        assert {j["id"] for j in r.json()["jobs"]} == set(pages) - lost
        status = c.get("/api/v1/journal").json()
        assert status["ok"] is True and status["repaired"] is True
        assert {j["id"] for j in status["lost_jobs"]} == lost
        assert all(j["state"] in ("failed", "cancelled") for j in status["lost_jobs"])  # from their transitions
        assert "job 5" in status["message"] and "damaged" in status["message"] and status["hint"]
        copy = status["recoveries"][0]["damaged_copy"]
        assert copy and (tmp_path / "data" / copy.rsplit("/", 1)[-1]).exists()  # kept for a closer look
        # The good jobs work as before: details, transitions, retry.
        good = min(set(pages) - lost)
        detail = c.get(f"/api/v1/jobs/{good}").json()
        assert [t["to"] for t in detail["transitions"]] == ["queued", "models_ready", detail["state"]]
        # A lost job says so; its segment can be queued again, under a new id.
        r = c.get("/api/v1/jobs/5")
        assert r.status_code == 410 and "lost" in r.json()["detail"]["message"]
        again, created = c.app.state.ctx.journal.create(31337, CONTRACT, 1, 4, WALLET, {})
        assert created and again.id > max(pages)
        assert c.get(f"/api/v1/jobs/{again.id}").status_code == 200
    assert any("job 5" in rec.getMessage() and "lost" in rec.getMessage() for rec in caplog.records)

    with app_client(tmp_path) as c:  # the next start finds a sound journal that remembers the loss
        status = c.get("/api/v1/journal").json()
        assert len(status["recoveries"]) == 1 and {j["id"] for j in status["lost_jobs"]} == lost
        assert c.get("/api/v1/jobs").status_code == 200


def test_a_file_that_is_no_database_at_all_starts_empty_and_says_so(tmp_path):
    path = tmp_path / "data" / "journal.sqlite3"
    journal_with_jobs(path, count=4)
    write_garbage(path, 0)  # the header page: SQLite calls it "file is not a database"
    with app_client(tmp_path) as c:
        assert c.get("/api/v1/jobs").json() == {"jobs": []}
        status = c.get("/api/v1/journal").json()
        assert status["recoveries"][0]["unreadable"] is True
        assert "none of its jobs could be read" in status["message"]


def test_rows_that_do_not_decode_are_set_aside(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal_with_jobs(path, count=4)
    db = sqlite3.connect(path)
    db.execute("UPDATE jobs SET data='{\"cut off' WHERE id=2")
    db.execute("UPDATE jobs SET state='teleported' WHERE id=3")
    db.commit()
    db.close()
    j = Journal(path)
    assert [job.id for job in j.list()] == [4, 1]
    lost = {x["id"]: x for x in j.status()["lost_jobs"]}
    assert set(lost) == {2, 3} and lost[2]["reason"] == "undecodable" and lost[2]["segment"] == 1
    # The raw row is kept, and the segment can be queued again.
    raw = sqlite3.connect(path).execute("SELECT row FROM damaged_jobs WHERE id=2").fetchone()[0]
    assert "cut off" in raw
    again, created = j.create(31337, CONTRACT, 1, 1, WALLET, {})
    assert created and again.id == 5
    with pytest.raises(JobNotFound):
        j.get(99)


def test_damage_found_while_running_hides_only_the_rows_it_hits(tmp_path):
    path = tmp_path / "j.sqlite3"
    pages = journal_with_jobs(path)
    j = Journal(path)
    assert j.status()["ok"] and j.status()["message"] == ""
    write_garbage(path, pages[5])
    j._db.execute("PRAGMA shrink_memory")  # drop the page cache: the next reads go to the file
    lost = {job for job, page in pages.items() if page == pages[5]}
    assert {job.id for job in j.list()} == set(pages) - lost
    status = j.status()
    assert status["ok"] is False and "restarts" in status["message"] and status["damaged_now"]
    with pytest.raises(MovieMinterError) as err:
        j.get(5)
    assert err.value.status == 503
