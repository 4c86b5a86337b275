"""What the job journal stores: the job states, the Job record, its errors, and how a stored
row decodes (one place, shared by the live journal and the repair that salvages a damaged file)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from movieminter.errors import MovieMinterError

# The happy path, in order. Each state names what is DONE (models_ready: the
# models are checked) except `rendering` (started; the render state inside
# says how far) and `awaiting_signature` (the unsigned tx is prepared).
STATES = ("queued", "models_ready", "rendering", "rendered", "encoded", "pinned", "awaiting_signature", "minted")
# take_recorded: a take job's rest (recorded in its ballot); a winning take goes back to pinned to be minted.
TERMINAL = ("minted", "take_recorded", "failed", "cancelled")
ALL_STATES = STATES + ("take_recorded", "failed", "cancelled")

REPAIR_HINT = (
    "Jobs that were lost can be queued again from the Minter tab (a segment already minted stays "
    "minted on chain; files already pinned stay on IPFS)."
)


class JournalError(MovieMinterError, status=409):
    """The job is not in a state that allows this."""


class JobNotFound(JournalError, status=404): ...


class JobLost(JournalError, status=410):
    """It existed, but its journal entry was lost to a damaged file."""


class JournalDamaged(JournalError, status=503):
    """SQLite reports the file damaged; the next start repairs it."""


def is_corruption(exc: BaseException) -> bool:
    """SQLITE_CORRUPT / SQLITE_NOTADB (a damaged file), not a busy or locked database."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or type(exc) is sqlite3.DatabaseError


def damaged_error(exc: BaseException) -> JournalDamaged:
    return JournalDamaged(
        f"The job journal is damaged ({exc}).",
        hint="Restart Movie Minter: at start it repairs the journal, keeps every job it can "
        "read and says what was lost (GET /api/v1/journal). " + REPAIR_HINT,
    )


def entry_damaged(job_id, verb: str) -> JobLost:
    """A job row that is there but does not decode: it cannot be read or updated until a restart."""
    return JobLost(
        f"Job {job_id}'s journal entry is damaged and cannot be {verb}.",
        hint="Restart Movie Minter to set it aside (GET /api/v1/journal then lists it). " + REPAIR_HINT,
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


def norm_key(chain_id, contract, movie_id, segment, wallet) -> tuple:
    return (int(chain_id), str(contract).lower(), int(movie_id), int(segment), str(wallet).lower())


def job_from_row(row) -> Job:
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


def stored_data(job_id, text) -> dict:
    """A job's stored state data, to update it; JobLost when it does not decode."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise entry_damaged(job_id, "updated")
    return data


def raw_value(value):
    """A stored value as JSON can hold it (bytes as hex): for rows kept in `damaged_jobs`."""
    return value.hex() if isinstance(value, (bytes, bytearray)) else str(value)


def known_of_lost(job_id: int, reason: str, row=None, transitions=None) -> dict:
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


def describe_lost(job: dict) -> str:
    text = f"job {job['id']}"
    if job.get("movie_id") is not None and job.get("segment") is not None:
        text += f" (movie {job['movie_id']} segment {job['segment']}"
        text += f", {job['state']})" if job.get("state") else ")"
    elif job.get("state"):
        text += f" (last {job['state']})"
    return text
