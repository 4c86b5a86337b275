"""The journal's SQLite file: its tables, how a connection is opened, and the `recoveries` row a
repair writes (shared by the start-up repair and the setting aside of undecodable rows)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SCHEMA = """
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
RECOVERY_COLUMNS = ("at", "problem", "damaged_copy", "kept_jobs", "lost_jobs", "lost_transitions", "unreadable")
MAX_SCAN = 1_000_000  # ids probed one by one when salvaging a damaged file


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # a transition survives power loss too
    db.execute("PRAGMA foreign_keys=ON")
    return db


def insert_rows(db: sqlite3.Connection, table: str, columns: tuple[str, ...], rows, *, verb: str = "INSERT") -> None:
    sql = f"{verb} INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})"
    for values in rows:
        db.execute(sql, values)


def record_recovery(
    db: sqlite3.Connection,
    *,
    at: float,
    problem: str,
    damaged_copy: str | None,
    kept_jobs: int,
    lost_jobs: list,
    lost_transitions: int = 0,
    unreadable: bool = False,
) -> None:
    """One `recoveries` row: what a repair found, kept and lost (status() reads them back)."""
    values = (at, problem, damaged_copy, kept_jobs, json.dumps(lost_jobs), lost_transitions, int(unreadable))
    insert_rows(db, "recoveries", RECOVERY_COLUMNS, [values])


def next_job_id_above(db: sqlite3.Connection, top: int) -> None:
    """Ids of lost jobs are never handed out again, so "job 5 was lost" stays unambiguous."""
    if db.execute("SELECT 1 FROM sqlite_sequence WHERE name='jobs'").fetchone():
        db.execute("UPDATE sqlite_sequence SET seq=max(seq, ?) WHERE name='jobs'", (top,))
    else:
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('jobs', ?)", (top,))
