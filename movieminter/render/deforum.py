"""Client for Deforum's job API (`/deforum_api/*`, A1111 started with `--deforum-api`)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx

from movieminter.render.a1111 import A1111Client
from movieminter.render.errors import A1111HttpError, JobNotFound, UnknownBatch

# Job statuses and phases as Deforum reports them.
ACCEPTED, SUCCEEDED, FAILED, CANCELLED = "ACCEPTED", "SUCCEEDED", "FAILED", "CANCELLED"
PHASES = ("QUEUED", "PREPARING", "GENERATING", "POST_PROCESSING", "DONE")
# An interrupted job never leaves POST_PROCESSING (Deforum completes a job only
# when A1111 was not interrupted). Ours skip video creation, so their post-
# processing takes a moment; another client's job stitching a long video may
# be silent there longer, and is then taken for interrupted (the cost: a
# preview may run beside its ffmpeg).
STUCK_AFTER = 60.0


def is_active(status: dict, server_now: float | None = None, stuck_after: float = STUCK_AFTER) -> bool:
    """Is this job queued or running in Deforum now, as far as its status shows?

    A job cancelled while QUEUED still runs later (Deforum cannot dequeue it),
    so CANCELLED counts as active until it is seen finished. A job cancelled
    while running was interrupted and stays CANCELLED mid-run for ever: once it
    is silent for `stuck_after` seconds by A1111's own clock it is taken for
    dead (one that runs after a cancel in the queue reports each frame). So is
    a job silent in POST_PROCESSING (interrupted between frames).
    """
    st, phase = status.get("status"), status.get("phase")
    if st not in (ACCEPTED, CANCELLED) or phase == "DONE":
        return False
    silent_phase = phase == "POST_PROCESSING" or (st == CANCELLED and phase != "QUEUED")
    if not silent_phase or server_now is None:
        return True
    return server_now - float(status.get("last_updated") or 0) < stuck_after


_interrupted: set[tuple[str, str]] = set()  # (A1111 URL, job id) this process found interrupted


def mark_interrupted(base_url: str, job_id: str) -> None:
    """A job we know will never finish: not waited for, nor counted as busy, from now on."""
    _interrupted.add((base_url.rstrip("/"), job_id))


def server_time(resp: httpx.Response) -> float | None:
    """A1111's clock, from the Date header of its answer (Deforum's times are its own)."""
    try:
        return parsedate_to_datetime(resp.headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


class DeforumClient:
    def __init__(self, a1111_client: A1111Client):
        self.a1111 = a1111_client

    def submit_batch(self, settings: dict | list[dict], options_overrides: dict | None = None) -> dict:
        """POST /deforum_api/batches -> {"batch_id", "job_ids"} (Deforum answers 202).
        Never retried once it reached A1111, so a render is not submitted twice."""
        body = {"deforum_settings": settings, "options_overrides": options_overrides or {}}
        resp = self.a1111.request("POST", "/deforum_api/batches", json_body=body)
        if resp.status_code != 202:
            raise A1111HttpError("POST", "/deforum_api/batches", resp.status_code, resp.text)
        out = resp.json()
        return {"batch_id": out["batch_id"], "job_ids": list(out["job_ids"])}

    def submit(self, settings: dict, options_overrides: dict | None = None) -> str:
        return self.submit_batch(settings, options_overrides)["job_ids"][0]

    def job(self, job_id: str) -> dict:
        resp = self.a1111.request("GET", f"/deforum_api/jobs/{job_id}")
        if resp.status_code == 404:
            raise JobNotFound(job_id)
        if resp.status_code >= 400:
            raise A1111HttpError("GET", f"/deforum_api/jobs/{job_id}", resp.status_code, resp.text)
        return resp.json()

    def jobs(self) -> dict[str, dict]:
        return self.jobs_at()[0]

    def jobs_at(self) -> tuple[dict[str, dict], float | None]:
        """Every job's status, and A1111's clock when it answered."""
        resp = self.a1111.request("GET", "/deforum_api/jobs")
        if resp.status_code >= 400:
            raise A1111HttpError("GET", "/deforum_api/jobs", resp.status_code, resp.text)
        return resp.json(), server_time(resp)

    def active_jobs(self) -> list[str]:
        """Ids of jobs queued or running now (interrupted ones left out)."""
        jobs, now = self.jobs_at()
        base = self.a1111.base_url.rstrip("/")
        return [
            jid
            for jid, st in jobs.items()
            if isinstance(st, dict) and is_active(st, now) and (base, jid) not in _interrupted
        ]

    def batch(self, batch_id: str) -> list[dict]:
        resp = self.a1111.request("GET", f"/deforum_api/batches/{batch_id}")
        if resp.status_code in (404, 500):  # Deforum's KeyError surfaces as a 500
            raise UnknownBatch(batch_id)
        if resp.status_code >= 400:
            raise A1111HttpError("GET", f"/deforum_api/batches/{batch_id}", resp.status_code, resp.text)
        return resp.json()

    def cancel(self, job_id: str) -> bool:
        """True if Deforum cancelled it; False if it had already finished (Deforum's 400)."""
        resp = self.a1111.request("DELETE", f"/deforum_api/jobs/{job_id}")
        if resp.status_code == 404:
            raise JobNotFound(job_id)
        if resp.status_code == 400:
            return False
        if resp.status_code >= 400:
            raise A1111HttpError("DELETE", f"/deforum_api/jobs/{job_id}", resp.status_code, resp.text)
        return True
