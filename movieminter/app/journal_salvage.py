"""Reading what a damaged journal file still yields, row by row: a lookup by id reads only the
pages on its way, so one bad page costs only the rows on it."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Set as AbstractSet
from pathlib import Path

from movieminter.app.journal_records import job_from_row, known_of_lost, raw_value
from movieminter.app.journal_schema import JOB_COLUMNS, MAX_SCAN, RECOVERY_COLUMNS, TRANSITION_COLUMNS


class _Source:
    """A damaged file opened for reading, with lookups that never raise on damage."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def ids(self, sql: str) -> set[int]:
        """Every integer the query yields before SQLite hits damage."""
        found: set[int] = set()
        try:
            cursor = self.db.execute(sql)
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

    def one(self, sql: str, key: int):
        """(row or None, readable)"""
        try:
            return self.db.execute(sql, (key,)).fetchone(), True
        except sqlite3.DatabaseError:
            return None, False

    def top_id(self, table: str, extra: AbstractSet[int] = frozenset()) -> int:
        """The highest id the table may have held, from every place that remembers one."""
        ids = (
            self.ids(f"SELECT id FROM {table}")
            | self.ids(f"SELECT max(id) FROM {table}")
            | self.ids(f"SELECT seq FROM sqlite_sequence WHERE name='{table}'")
            | extra
        )
        return min(max(ids, default=0), MAX_SCAN)


def salvage(path: Path) -> dict:
    """Everything a damaged journal file still yields: `jobs` and `transitions` (rows to copy),
    `damaged` (damaged_jobs rows), `recoveries`, `lost` (what is known of each lost job),
    `lost_transitions`, `top` (the highest job id) and `unreadable` (nothing could be read)."""
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
        db = sqlite3.connect(str(path), timeout=30)
    except sqlite3.DatabaseError:
        out["unreadable"] = True
        return out
    db.row_factory = sqlite3.Row
    try:
        try:
            db.execute("SELECT name FROM sqlite_master").fetchall()
        except sqlite3.DatabaseError:
            out["unreadable"] = True
            return out
        _salvage_jobs(_Source(db), out)
        _copy_side_tables(db, out)
        return out
    finally:
        db.close()


def _salvage_jobs(src: _Source, out: dict) -> None:
    damaged_ids = src.ids("SELECT id FROM damaged_jobs")
    transitions = _read_transitions(src, out)
    top = src.top_id("jobs", src.ids("SELECT job_id FROM transitions") | damaged_ids)
    kept: set[int] = set()
    for job_id in range(1, top + 1):
        row, readable = src.one("SELECT * FROM jobs WHERE id=?", job_id)
        if not readable:
            out["lost"].append(known_of_lost(job_id, "unreadable", None, transitions.get(job_id)))
        elif row is None:
            if job_id not in damaged_ids:  # set aside before: already reported
                out["lost"].append(known_of_lost(job_id, "missing", None, transitions.get(job_id)))
        elif _keep_job(job_id, row, transitions.get(job_id, []), out):
            kept.add(job_id)
    out["transitions"] = [
        tuple(t[c] for c in TRANSITION_COLUMNS) for job_id in sorted(kept) for t in transitions.get(job_id, [])
    ]
    out["top"] = top


def _read_transitions(src: _Source, out: dict) -> dict[int, list]:
    """Every readable transition, by job id (lost ones counted in out["lost_transitions"])."""
    transitions: dict[int, list] = {}
    for tid in range(1, src.top_id("transitions") + 1):
        row, readable = src.one("SELECT * FROM transitions WHERE id=?", tid)
        if not readable:
            out["lost_transitions"] += 1
        elif row is not None:
            try:
                values = tuple(row[c] for c in TRANSITION_COLUMNS)
            except (IndexError, KeyError):
                out["lost_transitions"] += 1
                continue
            transitions.setdefault(int(row["job_id"]), []).append(dict(zip(TRANSITION_COLUMNS, values, strict=False)))
    return transitions


def _keep_job(job_id: int, row, transitions: list, out: dict) -> bool:
    """Copy a readable job row if it decodes, else set it aside in `damaged`; True when kept."""
    try:
        job_from_row(row)
        out["jobs"].append(tuple(row[c] for c in JOB_COLUMNS))
        return True
    except (ValueError, IndexError, KeyError) as exc:
        raw = {k: row[k] for k in row.keys()}
        raw["transitions"] = transitions
        out["damaged"].append((job_id, time.time(), str(exc), json.dumps(raw, default=raw_value)))
        out["lost"].append(known_of_lost(job_id, "undecodable", row))
        return False


def _copy_side_tables(db: sqlite3.Connection, out: dict) -> None:
    """Earlier repairs' records and set-aside rows travel to the new file too."""
    for table, columns, key in (
        ("damaged_jobs", ("id", "at", "reason", "row"), "damaged"),
        ("recoveries", RECOVERY_COLUMNS, "recoveries"),
    ):
        try:
            rows = db.execute(f"SELECT {','.join(columns)} FROM {table} ORDER BY rowid").fetchall()
        except sqlite3.DatabaseError:
            continue
        out[key].extend(tuple(r) for r in rows)
