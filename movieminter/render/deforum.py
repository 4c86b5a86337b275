"""Client for Deforum's job API (`/deforum_api/*`, A1111 started with `--deforum-api`)."""

from __future__ import annotations

from movieminter.render.a1111 import A1111Client
from movieminter.render.errors import A1111HttpError, JobNotFound, UnknownBatch

# Job statuses and phases as Deforum reports them.
ACCEPTED, SUCCEEDED, FAILED, CANCELLED = "ACCEPTED", "SUCCEEDED", "FAILED", "CANCELLED"
PHASES = ("QUEUED", "PREPARING", "GENERATING", "POST_PROCESSING", "DONE")


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
        resp = self.a1111.request("GET", "/deforum_api/jobs")
        if resp.status_code >= 400:
            raise A1111HttpError("GET", "/deforum_api/jobs", resp.status_code, resp.text)
        return resp.json()

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
