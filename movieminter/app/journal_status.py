"""The journal's health in words: what each repair kept and lost, and damage seen while running
(for `Journal.status()`, GET /api/v1/journal and the tab)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from movieminter.app.journal_records import REPAIR_HINT, describe_lost


def recovery_from_row(r) -> dict:
    return {
        "id": r["id"],
        "at": r["at"],
        "problem": r["problem"],
        "damaged_copy": r["damaged_copy"],
        "kept_jobs": r["kept_jobs"],
        "lost_jobs": json.loads(r["lost_jobs"]),
        "lost_transitions": r["lost_transitions"],
        "unreadable": bool(r["unreadable"]),
    }


def _recovery_sentence(rec: dict) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rec["at"]))
    if rec["unreadable"]:
        what = "none of its jobs could be read"
    elif rec["lost_jobs"]:
        what = "lost " + ", ".join(describe_lost(j) for j in rec["lost_jobs"])
    else:
        what = "no job was lost"
    kept = f"; {rec['kept_jobs']} job(s) kept" if not rec["unreadable"] else ""
    copy = f"; the damaged file is kept as {Path(rec['damaged_copy']).name}" if rec["damaged_copy"] else ""
    return f"On {when} the job journal was found damaged ({rec['problem']}) and repaired: {what}{kept}{copy}."


def _hint(recoveries: list[dict], damage_now: list[str]) -> str:
    recoverable = any(r["damaged_copy"] and (r["lost_jobs"] or r["unreadable"]) for r in recoveries)
    return (
        ("Restart Movie Minter to repair the journal. " if damage_now else "")
        + REPAIR_HINT
        + (" The sqlite3 tool's .recover command may still get rows out of the damaged copy." if recoverable else "")
    )


def health(path: Path, checked_at: float, recoveries: list[dict], damage_now: list[str]) -> dict:
    """`ok` (readable now, nothing found damaged since start), `repaired` (a damaged journal was
    repaired, at some start), `lost_jobs` (every job a repair could not keep: id, reason, and what
    is still known of it), `recoveries`, `damaged_now` (damage found while running), `message` and
    `hint` ("" when all is well)."""
    lost = [dict(job, lost_at=rec["at"]) for rec in recoveries for job in rec["lost_jobs"]]
    parts = [_recovery_sentence(rec) for rec in recoveries]
    if damage_now:
        parts.append(
            "The job journal is damaged now ("
            + "; ".join(damage_now[:3])
            + "): jobs that cannot be read are hidden until Movie Minter restarts and repairs it."
        )
    return {
        "ok": not damage_now,
        "path": str(path),
        "checked_at": checked_at,
        "repaired": bool(recoveries),
        "lost_jobs": lost,
        "recoveries": recoveries,
        "damaged_now": list(damage_now),
        "message": " ".join(parts),
        "hint": _hint(recoveries, damage_now) if parts else "",
    }
