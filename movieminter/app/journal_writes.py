"""The journal's writes: each method is one SQLite transaction (BEGIN IMMEDIATE ... COMMIT under
the journal's lock), so a job's state and that state's data always land together."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

from movieminter.app.journal_records import (
    ALL_STATES,
    Job,
    JobNotFound,
    JournalError,
    damaged_error,
    is_corruption,
    norm_key,
    stored_data,
)

_RECORD_TRANSITION = "INSERT INTO transitions (job_id, from_state, to_state, data, at) VALUES (?,?,?,?,?)"


class JournalWrites:
    """Mixed into Journal, which provides the connection, the lock, get() and _note_damage()."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def get(self, job_id: int) -> Job:  # pragma: no cover - provided by Journal
        raise NotImplementedError

    def _note_damage(self, problem) -> None:  # pragma: no cover - provided by Journal
        raise NotImplementedError

    def _tx(self) -> _Tx:
        return _Tx(self)

    def create(self, chain_id, contract, movie_id, segment, wallet, params: dict) -> tuple[Job, bool]:
        """Queue a job, or return the existing one for the same key (created=False)."""
        key = norm_key(chain_id, contract, movie_id, segment, wallet)
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE chain_id=? AND contract=? AND movie_id=? AND segment=? AND wallet=?", key
            ).fetchone()
            if row:
                return self.get(row["id"]), False
            cur = db.execute(
                "INSERT INTO jobs (chain_id, contract, movie_id, segment, wallet, state, params, data, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                key + ("queued", json.dumps(params), "{}", now, now),
            )
            db.execute(_RECORD_TRANSITION, (cur.lastrowid, None, "queued", None, now))
            job_id = cur.lastrowid
        return self.get(job_id), True

    def transition(
        self,
        job_id: int,
        to_state: str,
        data: dict | None = None,
        *,
        expect: str | None = None,
        error: dict | None = None,
    ) -> Job:
        """Move a job to `to_state`, storing `data` as that state's data.

        `expect` guards against two writers racing: the move happens only if
        the job is still in that state (otherwise JournalError)."""
        if to_state not in ALL_STATES:
            raise JournalError(f"unknown job state {to_state!r}")
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT state, data FROM jobs WHERE id=?", (int(job_id),)).fetchone()
            if row is None:
                raise JobNotFound(f"no job with id {job_id}")
            if expect is not None and row["state"] != expect:
                raise JournalError(f"job {job_id} is {row['state']}, not {expect}")
            merged = stored_data(job_id, row["data"])
            if data is not None:
                merged[to_state] = data
            resume = row["state"] if to_state in ("failed", "cancelled") else None
            db.execute(
                "UPDATE jobs SET state=?, data=?, error=?, resume_state=?, updated_at=? WHERE id=?",
                (to_state, json.dumps(merged), json.dumps(error) if error else None, resume, now, int(job_id)),
            )
            recorded = json.dumps(data if data is not None else error) if (data or error) else None
            db.execute(_RECORD_TRANSITION, (int(job_id), row["state"], to_state, recorded, now))
        return self.get(job_id)

    def save(self, job_id: int, key: str, value) -> None:
        """Store working data inside a state (render progress state, a tx hash)
        without changing state: `data["_" + key]`, kept across retries."""
        with self._tx() as db:
            row = db.execute("SELECT data FROM jobs WHERE id=?", (int(job_id),)).fetchone()
            if row is None:
                raise JobNotFound(f"no job with id {job_id}")
            merged = stored_data(job_id, row["data"])
            merged["_" + key] = value
            db.execute(
                "UPDATE jobs SET data=?, updated_at=? WHERE id=?", (json.dumps(merged), time.time(), int(job_id))
            )

    def request_cancel(self, job_id: int, flag: bool = True) -> Job:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET cancel_requested=?, updated_at=? WHERE id=?", (int(flag), time.time(), int(job_id))
            )
        return self.get(job_id)

    def reopen(self, job_id: int) -> Job:
        """Retry a failed or cancelled job: back to the state it stopped in,
        with all the data finished before (nothing is redone)."""
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT state, resume_state FROM jobs WHERE id=?", (int(job_id),)).fetchone()
            if row is None:
                raise JobNotFound(f"no job with id {job_id}")
            if row["state"] not in ("failed", "cancelled"):
                raise JournalError(f"job {job_id} is {row['state']}; only failed or cancelled jobs can be retried")
            back = row["resume_state"] or "queued"
            db.execute(
                "UPDATE jobs SET state=?, error=NULL, resume_state=NULL, cancel_requested=0, updated_at=? WHERE id=?",
                (back, now, int(job_id)),
            )
            db.execute(_RECORD_TRANSITION, (int(job_id), row["state"], back, json.dumps({"retry": True}), now))
        return self.get(job_id)


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT under the journal's lock; SQLite damage becomes JournalDamaged."""

    def __init__(self, journal: JournalWrites):
        self.j = journal

    def __enter__(self):
        self.j._lock.acquire()
        try:
            self.j._db.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            self.j._lock.release()
            if is_corruption(exc):
                self.j._note_damage(exc)
                raise damaged_error(exc) from exc
            raise
        return self.j._db

    def __exit__(self, exc_type, exc, tb):
        try:
            try:
                self.j._db.execute("ROLLBACK" if exc_type else "COMMIT")
            except sqlite3.DatabaseError as failed:
                if exc_type is None and is_corruption(failed):
                    exc, exc_type = failed, type(failed)
                elif exc_type is None:
                    raise
        finally:
            self.j._lock.release()
        if exc_type is not None and is_corruption(exc):
            self.j._note_damage(exc)
            raise damaged_error(exc) from exc
        return False
