"""The journal's start-up check and repair: a damaged file is moved aside and rebuilt from every
row it still yields; rows that read fine but do not decode are set aside. Both are recorded in
the `recoveries` table and logged, so the loss is never silent."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from movieminter.app.journal_records import (
    JournalDamaged,
    describe_lost,
    is_corruption,
    job_from_row,
    known_of_lost,
    raw_value,
)
from movieminter.app.journal_salvage import salvage
from movieminter.app.journal_schema import (
    JOB_COLUMNS,
    RECOVERY_COLUMNS,
    SCHEMA,
    TRANSITION_COLUMNS,
    connect,
    insert_rows,
    next_job_id_above,
    record_recovery,
)

log = logging.getLogger("movieminter.journal")


def integrity_problem(path: Path) -> str | None:
    """None when SQLite finds the file sound (or there is none yet), else what it reports."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(str(path), timeout=30)
        try:
            found = [str(r[0]) for r in db.execute("PRAGMA integrity_check(20)").fetchall()]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
        return str(exc)
    return None if found == ["ok"] else "; ".join(found[:3]) + (" ..." if len(found) > 3 else "")


def move_aside(path: Path) -> Path:
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while target.exists():
        target = target.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        n += 1
    for suffix in ("", "-wal", "-shm"):  # the WAL goes with its file: SQLite pairs them by name
        source = Path(str(path) + suffix)
        if source.exists():
            os.replace(source, Path(str(target) + suffix))
    return target


def repair(path: Path, problem: str) -> None:
    """Move the damaged file aside and rebuild the journal from every row it still yields."""
    try:
        damaged = move_aside(path)
    except OSError as exc:
        raise JournalDamaged(
            f"The job journal {path} is damaged ({problem}) and cannot be moved aside to repair it: {exc}",
            hint="Make its folder writable, or move the file away yourself, then restart Movie Minter.",
        ) from exc
    found = salvage(damaged)
    db = connect(path)
    try:
        db.executescript(SCHEMA)
        db.execute("BEGIN IMMEDIATE")
        _copy_salvaged(db, found)
        record_recovery(
            db,
            at=time.time(),
            problem=problem,
            damaged_copy=str(damaged),
            kept_jobs=len(found["jobs"]),
            lost_jobs=found["lost"],
            lost_transitions=found["lost_transitions"],
            unreadable=found["unreadable"],
        )
        db.execute("COMMIT")
    finally:
        db.close()
    lost = ", ".join(describe_lost(j) for j in found["lost"]) or "no job"
    log.error(
        "job journal %s was damaged (%s): repaired, %d job(s) kept, lost %s%s, %d transition(s) lost; "
        "the damaged file is kept as %s",
        path,
        problem,
        len(found["jobs"]),
        lost,
        " (the file could not be read at all)" if found["unreadable"] else "",
        found["lost_transitions"],
        damaged,
    )


def _copy_salvaged(db: sqlite3.Connection, found: dict) -> None:
    insert_rows(db, "jobs", JOB_COLUMNS, found["jobs"], verb="INSERT OR IGNORE")
    insert_rows(db, "transitions", TRANSITION_COLUMNS, found["transitions"], verb="INSERT OR IGNORE")
    insert_rows(db, "damaged_jobs", ("id", "at", "reason", "row"), found["damaged"], verb="INSERT OR IGNORE")
    insert_rows(db, "recoveries", RECOVERY_COLUMNS, found["recoveries"])
    if found["top"]:
        next_job_id_above(db, found["top"])


def set_aside_undecodable(path: Path, rows: list, tx: Callable) -> None:
    """Rows SQLite reads fine but whose stored values do not decode (JSON, state) are moved to
    `damaged_jobs`, with their transitions, so they neither break a listing nor block their key.
    `rows`: every jobs row; `tx()`: the journal's write transaction."""
    bad = []
    for row in rows:
        try:
            job_from_row(row)
        except ValueError as exc:
            bad.append((row, str(exc)))
    if not bad:
        return
    now = time.time()
    lost = []
    with tx() as db:
        for row, why in bad:
            raw = {k: row[k] for k in row.keys()}
            raw["transitions"] = [
                dict(t) for t in db.execute("SELECT * FROM transitions WHERE job_id=?", (row["id"],)).fetchall()
            ]
            db.execute(
                "INSERT OR REPLACE INTO damaged_jobs (id, at, reason, row) VALUES (?,?,?,?)",
                (row["id"], now, why, json.dumps(raw, default=raw_value)),
            )
            db.execute("DELETE FROM transitions WHERE job_id=?", (row["id"],))
            db.execute("DELETE FROM jobs WHERE id=?", (row["id"],))
            lost.append(known_of_lost(row["id"], "undecodable", row, raw["transitions"]))
        record_recovery(
            db,
            at=now,
            problem=f"{len(bad)} job entr{'y' if len(bad) == 1 else 'ies'} did not decode",
            damaged_copy=None,
            kept_jobs=len(rows) - len(bad),
            lost_jobs=lost,
        )
    log.error(
        "job journal %s: set aside %s (their stored values do not decode; kept in table damaged_jobs)",
        path,
        ", ".join(describe_lost(j) for j in lost),
    )
