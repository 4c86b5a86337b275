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

import builtins  # Journal.list shadows the builtin inside the class
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

from movieminter.app import journal_repair
from movieminter.app.journal_records import (  # noqa: F401 - re-exported: the journal's public names
    ALL_STATES,
    REPAIR_HINT,
    STATES,
    TERMINAL,
    Job,
    JobLost,
    JobNotFound,
    JournalDamaged,
    JournalError,
    damaged_error,
    entry_damaged,
    is_corruption,
    job_from_row,
    norm_key,
)
from movieminter.app.journal_schema import MAX_SCAN, SCHEMA, connect
from movieminter.app.journal_status import health, recovery_from_row
from movieminter.app.journal_writes import JournalWrites

log = logging.getLogger("movieminter.journal")


class Journal(JournalWrites):
    """Thread-safe: one connection guarded by a lock (the runner's job threads
    and the web server share it; SQLite serialises writers anyway). The writes
    live in JournalWrites; this class opens, repairs and reads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._damage_now: list[str] = []
        problem = journal_repair.integrity_problem(self.path)
        if problem:
            journal_repair.repair(self.path, problem)
        self._db = connect(self.path)
        self._db.executescript(SCHEMA)
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs").fetchall()
        journal_repair.set_aside_undecodable(self.path, rows, self._tx)
        self.checked_at = time.time()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- reading ---------------------------------------------------------

    def _read(self, sql: str, args=()) -> list:
        """fetchall() under the lock; SQLite damage becomes JournalDamaged (503)."""
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                if not is_corruption(exc):
                    raise
                self._note_damage(exc)
                raise damaged_error(exc) from exc

    def _decode(self, row) -> Job:
        try:
            return job_from_row(row)
        except ValueError as exc:
            self._note_damage(f"job {row['id']}: {exc}")
            raise entry_damaged(row["id"], "read") from exc

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
            norm_key(chain_id, contract, movie_id, segment, wallet),
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
                if not is_corruption(exc):
                    raise
                self._note_damage(exc)
                rows = self._rows_one_by_one(where, args, order, limit)
        jobs = []
        for row in rows:
            try:
                jobs.append(job_from_row(row))
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

    def unfinished(self) -> builtins.list[Job]:
        """Jobs a restarted runner must pick up again, oldest first."""
        return self._jobs(f" WHERE state NOT IN ({','.join('?' * len(TERMINAL))})", list(TERMINAL), "ASC", None)

    def transitions(self, job_id: int) -> builtins.list[dict]:
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

    def recoveries(self) -> builtins.list[dict]:
        try:
            rows = self._read("SELECT * FROM recoveries ORDER BY id")
        except JournalDamaged:
            return []
        return [recovery_from_row(r) for r in rows]

    def status(self) -> dict:
        """The journal's health for the API and the tab (see journal_status.health)."""
        return health(self.path, self.checked_at, self.recoveries(), self._damage_now)
