"""The job journal: every render-and-mint job and every state transition, in
SQLite (WAL, one transaction per transition).

A job is keyed by (chain id, contract, movie id, segment, wallet), so the same
segment is never queued twice for the same wallet. Each state's data (frames
folder, CIDs, the unsigned transaction, the tx hash...) is written in the same
transaction as the move into that state, so after a crash (even SIGKILL) the
runner reads exactly what was finished and resumes from there.

A damaged file (a bad disk sector, a copy made mid-write) never takes the
API down. At start the journal runs `PRAGMA integrity_check`; if SQLite
reports damage, the file is moved aside (`journal.sqlite3.damaged-<time>`),
every job and transition that can still be read is copied into a fresh file
with its id, and what could not be read is recorded (`recoveries` table,
`Journal.status()`, `GET /api/v1/journal`, and an error in the log). Rows
whose stored JSON does not decode are moved to `damaged_jobs` the same way.
Damage that appears while the app runs makes reads skip the rows they cannot
read and writes answer 503 (`JournalDamaged`); the next start repairs it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from movieminter.errors import MovieMinterError

log = logging.getLogger("movieminter.journal")

# The happy path, in order. Each state names what is DONE (models_ready: the
# models are checked) except `rendering` (started; the render state inside
# says how far) and `awaiting_signature` (the unsigned tx is prepared).
STATES = ("queued", "models_ready", "rendering", "rendered", "encoded", "pinned", "awaiting_signature", "minted")
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
CREATE TABLE IF NOT EXISTS recoveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    problem TEXT NOT NULL,
    damaged_copy TEXT,
    kept_jobs INTEGER NOT NULL,
    lost_jobs TEXT NOT NULL,
    lost_transitions INTEGER NOT NULL,
    unreadable INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS damaged_jobs (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    reason TEXT NOT NULL,
    row TEXT NOT NULL
);
"""
JOB_COLUMNS = (
    "id",
    "chain_id",
    "contract",
    "movie_id",
    "segment",
    "wallet",
    "state",
    "resume_state",
    "params",
    "data",
    "error",
    "cancel_requested",
    "created_at",
    "updated_at",
)
TRANSITION_COLUMNS = ("id", "job_id", "from_state", "to_state", "data", "at")
MAX_SCAN = 1_000_000  # ids probed one by one when salvaging a damaged file
REPAIR_HINT = (
    "Jobs that were lost can be queued again from the Minter tab (a segment already minted stays "
    "minted on chain; files already pinned stay on IPFS)."
)


class JournalError(MovieMinterError):
    status = 409  # the job is not in a state that allows this


class JobNotFound(JournalError):
    status = 404


class JobLost(JournalError):
    status = 410  # it existed, but its journal entry was lost to a damaged file


class JournalDamaged(JournalError):
    status = 503  # SQLite reports the file damaged; the next start repairs it


def _is_corruption(exc: BaseException) -> bool:
    """SQLITE_CORRUPT / SQLITE_NOTADB (a damaged file), not a busy or locked database."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or type(exc) is sqlite3.DatabaseError


def _damaged(exc: BaseException) -> JournalDamaged:
    return JournalDamaged(
        f"The job journal is damaged ({exc}).",
        hint="Restart Movie Minter: at start it repairs the journal, keeps every job it can "
        "read and says what was lost (GET /api/v1/journal). " + REPAIR_HINT,
    )


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
            "id": self.id,
            "chain_id": self.chain_id,
            "contract": self.contract,
            "movie_id": self.movie_id,
            "segment": self.segment,
            "wallet": self.wallet,
            "state": self.state,
            "params": params,
            "data": self.data,
            "error": self.error,
            "resume_state": self.resume_state,
            "cancel_requested": self.cancel_requested,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
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
        self._damage_now: list[str] = []
        problem = self._integrity_problem()
        if problem:
            self._repair(problem)
        self._db = self._connect()
        self._db.executescript(_SCHEMA)
        self._set_aside_undecodable()
        self.checked_at = time.time()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a transition survives power loss too
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- start-up check and repair -------------------------------------------
    def _integrity_problem(self) -> str | None:
        """None when SQLite finds the file sound (or there is none yet), else what it reports."""
        if not self.path.exists():
            return None
        try:
            db = sqlite3.connect(str(self.path), timeout=30)
            try:
                found = [str(r[0]) for r in db.execute("PRAGMA integrity_check(20)").fetchall()]
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                raise
            return str(exc)
        return None if found == ["ok"] else "; ".join(found[:3]) + (" ..." if len(found) > 3 else "")

    def _move_aside(self) -> Path:
        target = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while target.exists():
            target = target.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
            n += 1
        for suffix in ("", "-wal", "-shm"):  # the WAL goes with its file: SQLite pairs them by name
            source = Path(str(self.path) + suffix)
            if source.exists():
                os.replace(source, Path(str(target) + suffix))
        return target

    def _repair(self, problem: str) -> None:
        """Move the damaged file aside and rebuild the journal from every row it still yields."""
        try:
            damaged = self._move_aside()
        except OSError as exc:
            raise JournalDamaged(
                f"The job journal {self.path} is damaged ({problem}) and cannot be moved aside to repair it: {exc}",
                hint="Make its folder writable, or move the file away yourself, then restart Movie Minter.",
            ) from exc
        found = _salvage(damaged)
        now = time.time()
        db = self._connect()
        try:
            db.executescript(_SCHEMA)
            db.execute("BEGIN IMMEDIATE")
            cols = ",".join(JOB_COLUMNS)
            for values in found["jobs"]:
                db.execute(f"INSERT OR IGNORE INTO jobs ({cols}) VALUES ({','.join('?' * len(JOB_COLUMNS))})", values)
            cols = ",".join(TRANSITION_COLUMNS)
            for values in found["transitions"]:
                db.execute(
                    f"INSERT OR IGNORE INTO transitions ({cols}) VALUES ({','.join('?' * len(TRANSITION_COLUMNS))})",
                    values,
                )
            for values in found["damaged"]:
                db.execute("INSERT OR IGNORE INTO damaged_jobs (id, at, reason, row) VALUES (?,?,?,?)", values)
            for rec in found["recoveries"]:
                db.execute(
                    "INSERT INTO recoveries (at, problem, damaged_copy, kept_jobs, lost_jobs, "
                    "lost_transitions, unreadable) VALUES (?,?,?,?,?,?,?)",
                    rec,
                )
            # Ids of lost jobs are never handed out again, so "job 5 was lost" stays unambiguous.
            if found["top"]:
                if db.execute("SELECT 1 FROM sqlite_sequence WHERE name='jobs'").fetchone():
                    db.execute("UPDATE sqlite_sequence SET seq=max(seq, ?) WHERE name='jobs'", (found["top"],))
                else:
                    db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('jobs', ?)", (found["top"],))
            db.execute(
                "INSERT INTO recoveries (at, problem, damaged_copy, kept_jobs, lost_jobs, lost_transitions, "
                "unreadable) VALUES (?,?,?,?,?,?,?)",
                (
                    now,
                    problem,
                    str(damaged),
                    len(found["jobs"]),
                    json.dumps(found["lost"]),
                    found["lost_transitions"],
                    int(found["unreadable"]),
                ),
            )
            db.execute("COMMIT")
        finally:
            db.close()
        lost = ", ".join(_describe_lost(j) for j in found["lost"]) or "no job"
        log.error(
            "job journal %s was damaged (%s): repaired, %d job(s) kept, lost %s%s, %d transition(s) lost; "
            "the damaged file is kept as %s",
            self.path,
            problem,
            len(found["jobs"]),
            lost,
            " (the file could not be read at all)" if found["unreadable"] else "",
            found["lost_transitions"],
            damaged,
        )

    def _set_aside_undecodable(self) -> None:
        """Rows SQLite reads fine but whose stored values do not decode (JSON, state) are moved to
        `damaged_jobs`, with their transitions, so they neither break a listing nor block their key."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs").fetchall()
        bad = []
        for row in rows:
            try:
                self._row(row)
            except ValueError as exc:
                bad.append((row, str(exc)))
        if not bad:
            return
        now = time.time()
        lost = []
        with self._tx() as db:
            for row, why in bad:
                raw = {k: row[k] for k in row.keys()}
                raw["transitions"] = [
                    dict(t) for t in db.execute("SELECT * FROM transitions WHERE job_id=?", (row["id"],)).fetchall()
                ]
                db.execute(
                    "INSERT OR REPLACE INTO damaged_jobs (id, at, reason, row) VALUES (?,?,?,?)",
                    (row["id"], now, why, json.dumps(raw, default=_raw)),
                )
                db.execute("DELETE FROM transitions WHERE job_id=?", (row["id"],))
                db.execute("DELETE FROM jobs WHERE id=?", (row["id"],))
                lost.append(_known(row["id"], "undecodable", row, raw["transitions"]))
            db.execute(
                "INSERT INTO recoveries (at, problem, damaged_copy, kept_jobs, lost_jobs, lost_transitions, "
                "unreadable) VALUES (?,?,?,?,?,?,?)",
                (
                    now,
                    f"{len(bad)} job entr{'y' if len(bad) == 1 else 'ies'} did not decode",
                    None,
                    len(rows) - len(bad),
                    json.dumps(lost),
                    0,
                    0,
                ),
            )
        log.error(
            "job journal %s: set aside %s (their stored values do not decode; kept in table damaged_jobs)",
            self.path,
            ", ".join(_describe_lost(j) for j in lost),
        )

    # -- reading ---------------------------------------------------------
    @staticmethod
    def _row(row) -> Job:
        """A Job from a row; ValueError when the row's stored values do not decode."""
        try:
            job = Job(
                id=int(row["id"]),
                chain_id=int(row["chain_id"]),
                contract=str(row["contract"]),
                movie_id=int(row["movie_id"]),
                segment=int(row["segment"]),
                wallet=str(row["wallet"]),
                state=row["state"],
                params=json.loads(row["params"]),
                data=json.loads(row["data"]),
                error=json.loads(row["error"]) if row["error"] else None,
                resume_state=row["resume_state"],
                cancel_requested=bool(row["cancel_requested"]),
                created_at=float(row["created_at"]),
                updated_at=float(row["updated_at"]),
            )
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise ValueError(f"undecodable row: {exc}") from exc
        if (
            job.state not in ALL_STATES
            or not isinstance(job.params, dict)
            or not isinstance(job.data, dict)
            or (job.error is not None and not isinstance(job.error, dict))
        ):
            raise ValueError(f"undecodable row: state {job.state!r}, params/data not objects")
        return job

    def _read(self, sql: str, args=()) -> list:
        """fetchall() under the lock; SQLite damage becomes JournalDamaged (503)."""
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                if not _is_corruption(exc):
                    raise
                self._note_damage(exc)
                raise _damaged(exc) from exc

    def _decode(self, row) -> Job:
        try:
            return self._row(row)
        except ValueError as exc:
            self._note_damage(f"job {row['id']}: {exc}")
            raise JobLost(
                f"Job {row['id']}'s journal entry is damaged and cannot be read.",
                hint="Restart Movie Minter to set it aside (GET /api/v1/journal then lists it). " + REPAIR_HINT,
            ) from exc

    def get(self, job_id: int) -> Job:
        rows = self._read("SELECT * FROM jobs WHERE id=?", (int(job_id),))
        if not rows:
            lost = self._lost_ids().get(int(job_id))
            if lost is not None:
                raise JobLost(
                    f"Job {job_id} was lost when the damaged job journal was repaired "
                    f"({time.strftime('%Y-%m-%d %H:%M', time.localtime(lost))}).",
                    hint=REPAIR_HINT,
                )
            raise JobNotFound(f"no job with id {job_id}", hint="list jobs with GET /api/v1/jobs")
        return self._decode(rows[0])

    def find(self, chain_id, contract, movie_id, segment, wallet) -> Job | None:
        rows = self._read(
            "SELECT * FROM jobs WHERE chain_id=? AND contract=? AND movie_id=? AND segment=? AND wallet=?",
            _norm_key(chain_id, contract, movie_id, segment, wallet),
        )
        return self._decode(rows[0]) if rows else None

    def _jobs(self, where: str, args: list, order: str, limit: int | None) -> list[Job]:
        """Every readable job matching `where`; rows that cannot be read or decoded are skipped (and
        noted in status()), so one damaged page never hides the others."""
        sql = f"SELECT * FROM jobs{where} ORDER BY id {order}" + (" LIMIT ?" if limit is not None else "")
        with self._lock:
            try:
                rows = self._db.execute(sql, args + ([int(limit)] if limit is not None else [])).fetchall()
            except sqlite3.DatabaseError as exc:
                if not _is_corruption(exc):
                    raise
                self._note_damage(exc)
                rows = self._rows_one_by_one(where, args, order, limit)
        jobs = []
        for row in rows:
            try:
                jobs.append(self._row(row))
            except ValueError as exc:
                self._note_damage(f"job {row['id']}: {exc}")
        return jobs

    def _rows_one_by_one(self, where: str, args: list, order: str, limit: int | None) -> list:
        """The rows a damaged table still yields, probed by id (each lookup reads only its own page)."""
        ids: set[int] = set()
        for sql in ("SELECT seq FROM sqlite_sequence WHERE name='jobs'", "SELECT max(id) FROM jobs"):
            try:
                ids.update(int(r[0]) for r in self._db.execute(sql).fetchall() if r[0] is not None)
            except sqlite3.DatabaseError:
                pass
        top = min(max(ids, default=0), MAX_SCAN)
        order_ids = range(top, 0, -1) if order == "DESC" else range(1, top + 1)
        out = []
        for job_id in order_ids:
            try:
                row = self._db.execute(
                    f"SELECT * FROM jobs WHERE id=?{' AND ' + where[7:] if where else ''}", [job_id] + args
                ).fetchone()
            except sqlite3.DatabaseError:
                continue
            if row is not None:
                out.append(row)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def list(self, *, states: tuple[str, ...] | None = None, limit: int = 200) -> list[Job]:
        where, args = "", []
        if states:
            where = f" WHERE state IN ({','.join('?' * len(states))})"
            args = list(states)
        return self._jobs(where, args, "DESC", limit)

    def unfinished(self) -> list[Job]:
        """Jobs a restarted runner must pick up again, oldest first."""
        return self._jobs(f" WHERE state NOT IN ({','.join('?' * len(TERMINAL))})", list(TERMINAL), "ASC", None)

    def transitions(self, job_id: int) -> list[dict]:
        """The job's history; [] when a damaged page hides it (the job itself still shows)."""
        try:
            rows = self._read(
                "SELECT from_state, to_state, data, at FROM transitions WHERE job_id=? ORDER BY id", (int(job_id),)
            )
        except JournalDamaged:
            return []
        out = []
        for r in rows:
            try:
                data = json.loads(r["data"]) if r["data"] else None
            except ValueError:
                data = {"damaged": True}
            out.append({"from": r["from_state"], "to": r["to_state"], "data": data, "at": r["at"]})
        return out

    # -- health ----------------------------------------------------------
    def _note_damage(self, problem) -> None:
        text = str(problem)
        if text not in self._damage_now:
            self._damage_now.append(text)
            log.error("job journal %s: %s (restart Movie Minter to repair it)", self.path, text)

    def _lost_ids(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for rec in self.recoveries():
            for lost in rec["lost_jobs"]:
                out.setdefault(int(lost["id"]), rec["at"])
        return out

    def recoveries(self) -> list[dict]:
        try:
            rows = self._read("SELECT * FROM recoveries ORDER BY id")
        except JournalDamaged:
            return []
        return [
            {
                "id": r["id"],
                "at": r["at"],
                "problem": r["problem"],
                "damaged_copy": r["damaged_copy"],
                "kept_jobs": r["kept_jobs"],
                "lost_jobs": json.loads(r["lost_jobs"]),
                "lost_transitions": r["lost_transitions"],
                "unreadable": bool(r["unreadable"]),
            }
            for r in rows
        ]

    def status(self) -> dict:
        """The journal's health for the API and the tab: `ok` (readable now, nothing found damaged
        since start), `repaired` (a damaged journal was repaired, at some start), `lost_jobs` (every
        job a repair could not keep: id, reason, and what is still known of it), `recoveries`,
        `damaged_now` (damage found while running), `message` and `hint` ("" when all is well)."""
        recoveries = self.recoveries()
        lost = [dict(job, lost_at=rec["at"]) for rec in recoveries for job in rec["lost_jobs"]]
        parts = []
        for rec in recoveries:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rec["at"]))
            if rec["unreadable"]:
                what = "none of its jobs could be read"
            elif rec["lost_jobs"]:
                what = "lost " + ", ".join(_describe_lost(j) for j in rec["lost_jobs"])
            else:
                what = "no job was lost"
            kept = f"; {rec['kept_jobs']} job(s) kept" if not rec["unreadable"] else ""
            copy = f"; the damaged file is kept as {Path(rec['damaged_copy']).name}" if rec["damaged_copy"] else ""
            parts.append(
                f"On {when} the job journal was found damaged ({rec['problem']}) and repaired: {what}{kept}{copy}."
            )
        if self._damage_now:
            parts.append(
                "The job journal is damaged now ("
                + "; ".join(self._damage_now[:3])
                + "): jobs that cannot be read are hidden until Movie Minter restarts and repairs it."
            )
        return {
            "ok": not self._damage_now,
            "path": str(self.path),
            "checked_at": self.checked_at,
            "repaired": bool(recoveries),
            "lost_jobs": lost,
            "recoveries": recoveries,
            "damaged_now": list(self._damage_now),
            "message": " ".join(parts),
            "hint": (
                ("Restart Movie Minter to repair the journal. " if self._damage_now else "")
                + REPAIR_HINT
                + (
                    " The sqlite3 tool's .recover command may still get rows out of the damaged copy."
                    if any(r["damaged_copy"] and (r["lost_jobs"] or r["unreadable"]) for r in recoveries)
                    else ""
                )
            )
            if parts
            else "",
        }

    # -- writing (each method is one transaction) --------------------------
    def _tx(self):
        return _Tx(self)

    def create(self, chain_id, contract, movie_id, segment, wallet, params: dict) -> tuple[Job, bool]:
        """Queue a job, or return the existing one for the same key (created=False)."""
        key = _norm_key(chain_id, contract, movie_id, segment, wallet)
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
            db.execute(
                "INSERT INTO transitions (job_id, from_state, to_state, data, at) VALUES (?,?,?,?,?)",
                (cur.lastrowid, None, "queued", None, now),
            )
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
            merged = _stored_data(job_id, row["data"])
            if data is not None:
                merged[to_state] = data
            resume = row["state"] if to_state in ("failed", "cancelled") else None
            db.execute(
                "UPDATE jobs SET state=?, data=?, error=?, resume_state=?, updated_at=? WHERE id=?",
                (to_state, json.dumps(merged), json.dumps(error) if error else None, resume, now, int(job_id)),
            )
            db.execute(
                "INSERT INTO transitions (job_id, from_state, to_state, data, at) VALUES (?,?,?,?,?)",
                (
                    int(job_id),
                    row["state"],
                    to_state,
                    json.dumps(data if data is not None else error) if (data or error) else None,
                    now,
                ),
            )
        return self.get(job_id)

    def save(self, job_id: int, key: str, value) -> None:
        """Store working data inside a state (render progress state, a tx hash)
        without changing state: `data["_" + key]`, kept across retries."""
        with self._tx() as db:
            row = db.execute("SELECT data FROM jobs WHERE id=?", (int(job_id),)).fetchone()
            if row is None:
                raise JobNotFound(f"no job with id {job_id}")
            merged = _stored_data(job_id, row["data"])
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
            db.execute(
                "INSERT INTO transitions (job_id, from_state, to_state, data, at) VALUES (?,?,?,?,?)",
                (int(job_id), row["state"], back, json.dumps({"retry": True}), now),
            )
        return self.get(job_id)


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT under the journal's lock."""

    def __init__(self, journal: Journal):
        self.j = journal

    def __enter__(self):
        self.j._lock.acquire()
        try:
            self.j._db.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            self.j._lock.release()
            if _is_corruption(exc):
                self.j._note_damage(exc)
                raise _damaged(exc) from exc
            raise
        return self.j._db

    def __exit__(self, exc_type, exc, tb):
        try:
            try:
                self.j._db.execute("ROLLBACK" if exc_type else "COMMIT")
            except sqlite3.DatabaseError as failed:
                if exc_type is None and _is_corruption(failed):
                    exc, exc_type = failed, type(failed)
                elif exc_type is None:
                    raise
        finally:
            self.j._lock.release()
        if exc_type is not None and _is_corruption(exc):
            self.j._note_damage(exc)
            raise _damaged(exc) from exc
        return False


def _stored_data(job_id, text) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise JobLost(
            f"Job {job_id}'s journal entry is damaged and cannot be updated.",
            hint="Restart Movie Minter to set it aside (GET /api/v1/journal then lists it). " + REPAIR_HINT,
        )
    return data


def _raw(value):
    return value.hex() if isinstance(value, (bytes, bytearray)) else str(value)


def _known(job_id: int, reason: str, row=None, transitions=None) -> dict:
    """What is still known of a lost job: from its row if SQLite could read it, else from its
    transitions (the last state it reached)."""
    out: dict = {"id": int(job_id), "reason": reason}
    if row is not None:
        for key in ("movie_id", "segment", "wallet", "state", "updated_at"):
            try:
                out[key] = row[key]
            except (IndexError, KeyError):
                pass
    elif transitions:
        last = max(transitions, key=lambda t: (t["at"] or 0, t["id"] or 0))
        out.update(state=last["to_state"], updated_at=last["at"])
    return out


def _describe_lost(job: dict) -> str:
    text = f"job {job['id']}"
    if job.get("movie_id") is not None and job.get("segment") is not None:
        text += f" (movie {job['movie_id']} segment {job['segment']}"
        text += f", {job['state']})" if job.get("state") else ")"
    elif job.get("state"):
        text += f" (last {job['state']})"
    return text


def _salvage(path: Path) -> dict:
    """Everything a damaged journal file still yields, read row by row (a lookup by id reads only the
    pages on its way, so one bad page costs only the rows on it)."""
    out = {
        "jobs": [],
        "transitions": [],
        "damaged": [],
        "recoveries": [],
        "lost": [],
        "lost_transitions": 0,
        "top": 0,
        "unreadable": False,
    }
    try:
        src = sqlite3.connect(str(path), timeout=30)
    except sqlite3.DatabaseError:
        out["unreadable"] = True
        return out
    src.row_factory = sqlite3.Row

    def scan(sql: str) -> set[int]:
        found: set[int] = set()
        try:
            cursor = src.execute(sql)
            while True:
                try:
                    row = cursor.fetchone()
                except sqlite3.DatabaseError:
                    break
                if row is None:
                    break
                if row[0] is not None:
                    found.add(int(row[0]))
        except (sqlite3.DatabaseError, ValueError, TypeError):
            pass
        return found

    def one(sql: str, key: int):
        """(row or None, readable)"""
        try:
            return src.execute(sql, (key,)).fetchone(), True
        except sqlite3.DatabaseError:
            return None, False

    try:
        try:
            src.execute("SELECT name FROM sqlite_master").fetchall()
        except sqlite3.DatabaseError:
            out["unreadable"] = True
            return out
        damaged_ids = scan("SELECT id FROM damaged_jobs")
        for table in ("jobs", "transitions"):
            ids = (
                scan(f"SELECT id FROM {table}")
                | scan(f"SELECT max(id) FROM {table}")
                | scan(f"SELECT seq FROM sqlite_sequence WHERE name='{table}'")
            )
            if table == "jobs":
                ids |= scan("SELECT job_id FROM transitions") | damaged_ids
            out[f"top_{table}"] = min(max(ids, default=0), MAX_SCAN)
        transitions: dict[int, list] = {}
        for tid in range(1, out["top_transitions"] + 1):
            row, readable = one("SELECT * FROM transitions WHERE id=?", tid)
            if not readable:
                out["lost_transitions"] += 1
            elif row is not None:
                try:
                    values = tuple(row[c] for c in TRANSITION_COLUMNS)
                except (IndexError, KeyError):
                    out["lost_transitions"] += 1
                    continue
                transitions.setdefault(int(row["job_id"]), []).append(
                    dict(zip(TRANSITION_COLUMNS, values, strict=False))
                )
        kept: set[int] = set()
        for job_id in range(1, out["top_jobs"] + 1):
            row, readable = one("SELECT * FROM jobs WHERE id=?", job_id)
            if not readable:
                out["lost"].append(_known(job_id, "unreadable", None, transitions.get(job_id)))
            elif row is None:
                if job_id not in damaged_ids:  # set aside before: already reported
                    out["lost"].append(_known(job_id, "missing", None, transitions.get(job_id)))
            else:
                try:
                    Journal._row(row)
                    out["jobs"].append(tuple(row[c] for c in JOB_COLUMNS))
                    kept.add(job_id)
                except (ValueError, IndexError, KeyError) as exc:
                    raw = {k: row[k] for k in row.keys()}
                    raw["transitions"] = transitions.get(job_id, [])
                    out["damaged"].append((job_id, time.time(), str(exc), json.dumps(raw, default=_raw)))
                    out["lost"].append(_known(job_id, "undecodable", row))
        out["transitions"] = [
            tuple(t[c] for c in TRANSITION_COLUMNS) for job_id in sorted(kept) for t in transitions.get(job_id, [])
        ]
        out["top"] = out["top_jobs"]
        for table, columns in (
            ("damaged_jobs", ("id", "at", "reason", "row")),
            (
                "recoveries",
                ("at", "problem", "damaged_copy", "kept_jobs", "lost_jobs", "lost_transitions", "unreadable"),
            ),
        ):
            try:
                rows = src.execute(f"SELECT {','.join(columns)} FROM {table} ORDER BY rowid").fetchall()
            except sqlite3.DatabaseError:
                continue
            out["damaged" if table == "damaged_jobs" else "recoveries"].extend(tuple(r) for r in rows)
        return out
    finally:
        src.close()
