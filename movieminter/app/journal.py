"""The job journal: every render-and-mint job and every state transition, in
SQLite (WAL, one transaction per transition).

A job is keyed by (chain id, contract, movie id, segment, wallet), so the same
segment is never queued twice for the same wallet. Each state's data (frames
folder, CIDs, the unsigned transaction, the tx hash...) is written in the same
transaction as the move into that state, so after a crash (even SIGKILL) the
runner reads exactly what was finished and resumes from there.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from movieminter.errors import MovieMinterError

# The happy path, in order. Each state names what is DONE (models_ready: the
# models are checked) except `rendering` (started; the render state inside
# says how far) and `awaiting_signature` (the unsigned tx is prepared).
STATES = ("queued", "models_ready", "rendering", "rendered", "encoded", "pinned",
          "awaiting_signature", "minted")
TERMINAL = ("minted", "failed", "cancelled")
ALL_STATES = STATES + ("failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chain_id INTEGER NOT NULL,
    contract TEXT NOT NULL,
    movie_id INTEGER NOT NULL,
    segment INTEGER NOT NULL,
    wallet TEXT NOT NULL,
    state TEXT NOT NULL,
    resume_state TEXT,
    params TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (chain_id, contract, movie_id, segment, wallet)
);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs(id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    data TEXT,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_job ON transitions(job_id);
"""


class JournalError(MovieMinterError):
    status = 409  # the job is not in a state that allows this


class JobNotFound(JournalError):
    status = 404


@dataclass
class Job:
    id: int
    chain_id: int
    contract: str
    movie_id: int
    segment: int
    wallet: str
    state: str
    params: dict
    data: dict = field(default_factory=dict)
    error: dict | None = None
    resume_state: str | None = None
    cancel_requested: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def key(self) -> tuple:
        return (self.chain_id, self.contract, self.movie_id, self.segment, self.wallet)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def public(self) -> dict:
        """What the API shows: everything but the (possibly large) manifest."""
        params = {k: v for k, v in self.params.items() if k != "manifest"}
        return {
            "id": self.id, "chain_id": self.chain_id, "contract": self.contract,
            "movie_id": self.movie_id, "segment": self.segment, "wallet": self.wallet,
            "state": self.state, "params": params, "data": self.data, "error": self.error,
            "resume_state": self.resume_state, "cancel_requested": self.cancel_requested,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }


def _norm_key(chain_id, contract, movie_id, segment, wallet) -> tuple:
    return (int(chain_id), str(contract).lower(), int(movie_id), int(segment), str(wallet).lower())


class Journal:
    """Thread-safe: one connection guarded by a lock (the runner's job threads
    and the web server share it; SQLite serialises writers anyway)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a transition survives power loss too
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- reading ---------------------------------------------------------
    def _row(self, row) -> Job:
        return Job(
            id=row["id"], chain_id=row["chain_id"], contract=row["contract"], movie_id=row["movie_id"],
            segment=row["segment"], wallet=row["wallet"], state=row["state"],
            params=json.loads(row["params"]), data=json.loads(row["data"]),
            error=json.loads(row["error"]) if row["error"] else None,
            resume_state=row["resume_state"], cancel_requested=bool(row["cancel_requested"]),
            created_at=row["created_at"], updated_at=row["updated_at"],
        )

    def get(self, job_id: int) -> Job:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id=?", (int(job_id),)).fetchone()
        if row is None:
            raise JobNotFound(f"no job with id {job_id}", hint="list jobs with GET /api/v1/jobs")
        return self._row(row)

    def find(self, chain_id, contract, movie_id, segment, wallet) -> Job | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM jobs WHERE chain_id=? AND contract=? AND movie_id=? AND segment=? AND wallet=?",
                _norm_key(chain_id, contract, movie_id, segment, wallet)).fetchone()
        return self._row(row) if row else None

    def list(self, *, states: tuple[str, ...] | None = None, limit: int = 200) -> list[Job]:
        sql, args = "SELECT * FROM jobs", []
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
            args += list(states)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(int(limit))
        with self._lock:
            return [self._row(r) for r in self._db.execute(sql, args).fetchall()]

    def unfinished(self) -> list[Job]:
        """Jobs a restarted runner must pick up again, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM jobs WHERE state NOT IN ({','.join('?' * len(TERMINAL))}) ORDER BY id",
                TERMINAL).fetchall()
        return [self._row(r) for r in rows]

    def transitions(self, job_id: int) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT from_state, to_state, data, at FROM transitions WHERE job_id=? ORDER BY id",
                (int(job_id),)).fetchall()
        return [{"from": r["from_state"], "to": r["to_state"],
                 "data": json.loads(r["data"]) if r["data"] else None, "at": r["at"]} for r in rows]

    # -- writing (each method is one transaction) --------------------------
    def _tx(self):
        return _Tx(self)

    def create(self, chain_id, contract, movie_id, segment, wallet, params: dict) -> tuple[Job, bool]:
        """Queue a job, or return the existing one for the same key (created=False)."""
        key = _norm_key(chain_id, contract, movie_id, segment, wallet)
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT id FROM jobs WHERE chain_id=? AND contract=? AND movie_id=? "
                             "AND segment=? AND wallet=?", key).fetchone()
            if row:
                return self.get(row["id"]), False
            cur = db.execute(
                "INSERT INTO jobs (chain_id, contract, movie_id, segment, wallet, state, params, data, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                key + ("queued", json.dumps(params), "{}", now, now))
            db.execute("INSERT INTO transitions (job_id, from_state, to_state, data, at) VALUES (?,?,?,?,?)",
                       (cur.lastrowid, None, "queued", None, now))
            job_id = cur.lastrowid
        return self.get(job_id), True

    def transition(self, job_id: int, to_state: str, data: dict | None = None, *,
                   expect: str | None = None, error: dict | None = None) -> Job:
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
            merged = json.loads(row["data"])
            if data is not None:
                merged[to_state] = data
            resume = row["state"] if to_state in ("failed", "cancelled") else None
            db.execute("UPDATE jobs SET state=?, data=?, error=?, resume_state=?, updated_at=? WHERE id=?",
                       (to_state, json.dumps(merged), json.dumps(error) if error else None,
                        resume, now, int(job_id)))
            db.execute("INSERT INTO transitions (job_id, from_state, to_state, data, at) VALUES (?,?,?,?,?)",
                       (int(job_id), row["state"], to_state,
                        json.dumps(data if data is not None else error) if (data or error) else None, now))
        return self.get(job_id)

    def save(self, job_id: int, key: str, value) -> None:
        """Store working data inside a state (render progress state, a tx hash)
        without changing state: `data["_" + key]`, kept across retries."""
        with self._tx() as db:
            row = db.execute("SELECT data FROM jobs WHERE id=?", (int(job_id),)).fetchone()
            if row is None:
                raise JobNotFound(f"no job with id {job_id}")
            merged = json.loads(row["data"])
            merged["_" + key] = value
            db.execute("UPDATE jobs SET data=?, updated_at=? WHERE id=?",
                       (json.dumps(merged), time.time(), int(job_id)))

    def request_cancel(self, job_id: int, flag: bool = True) -> Job:
        with self._tx() as db:
            db.execute("UPDATE jobs SET cancel_requested=?, updated_at=? WHERE id=?",
                       (int(flag), time.time(), int(job_id)))
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
            db.execute("UPDATE jobs SET state=?, error=NULL, resume_state=NULL, cancel_requested=0, "
                       "updated_at=? WHERE id=?", (back, now, int(job_id)))
            db.execute("INSERT INTO transitions (job_id, from_state, to_state, data, at) VALUES (?,?,?,?,?)",
                       (int(job_id), row["state"], back, json.dumps({"retry": True}), now))
        return self.get(job_id)


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT under the journal's lock."""

    def __init__(self, journal: Journal):
        self.j = journal

    def __enter__(self):
        self.j._lock.acquire()
        self.j._db.execute("BEGIN IMMEDIATE")
        return self.j._db

    def __exit__(self, exc_type, exc, tb):
        try:
            self.j._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.j._lock.release()
        return False
