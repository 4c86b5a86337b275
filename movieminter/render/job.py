"""Render one segment through Deforum's API: preflight, submit, follow, collect.

Resumable by construction: the job id is handed to `save_state` the moment
Deforum accepts it, so a process that dies later finds the same job on the
next call (or, if A1111 restarted and forgot it, the frames it already wrote)
instead of rendering the segment again.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from movieminter.manifest import export_deforum, get_segment, segment_settings_digest
from movieminter.render import frames as framesmod
from movieminter.render.a1111 import A1111Client
from movieminter.render.deforum import DeforumClient
from movieminter.render.errors import (
    A1111Unreachable, FramesError, JobNotFound, ModelError, RenderCancelled, RenderError, RenderFailed)
from movieminter.render.readiness import check_models


@dataclasses.dataclass
class RenderProgress:
    job_id: str
    status: str               # ACCEPTED | SUCCEEDED | FAILED | CANCELLED
    phase: str                # QUEUED | PREPARING | GENERATING | POST_PROCESSING | DONE
    frames_done: int
    frames_total: int
    eta_seconds: float | None
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.frames_done / self.frames_total if self.frames_total else 0.0


@dataclasses.dataclass
class RenderResult:
    frames: list[Path]
    frames_dir: Path
    versions: dict
    job_id: str | None
    checkpoint_title: str | None
    reused: bool = False       # True when finished frames were found instead of rendered


def render_segment(client: A1111Client, manifest: dict, index: int, *, state: dict,
                   save_state: Callable[[dict], None], on_progress: Callable[[RenderProgress], None] | None = None,
                   cancel: threading.Event | None = None, work_dir: str | Path | None = None,
                   allow_pickle: bool = False, poll_interval: float = 0.5, max_retries: int = 2) -> RenderResult:
    """Render segment `index` of `manifest`; returns its checked frames in `work_dir/frames`.

    `state` is what `save_state` got last time (empty for a first run).
    """
    seg = get_segment(manifest, index)
    total = int(seg["frame_count"])
    width, height = int(manifest["movie"]["width"]), int(manifest["movie"]["height"])
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix=f"movieminter-seg{index}-"))
    dest = work / "frames"
    on_progress = on_progress or (lambda p: None)
    cancel = cancel or threading.Event()
    deforum = DeforumClient(client)
    state = dict(state or {})

    exported = export_deforum(manifest, index)
    settings = exported["deforum_settings"]
    digest = segment_settings_digest(manifest, index)
    if state.get("settings_digest") not in (None, digest):
        state = {}  # saved for other settings: nothing of it applies

    def save(**changes) -> None:
        state.update(changes)
        save_state(dict(state))

    # 1. Finished earlier: the frames are already ours.
    done = framesmod.complete_frames(dest, total, width, height) if state.get("collected") else None
    if done:
        on_progress(RenderProgress(state.get("job_id") or "", "SUCCEEDED", "DONE", total, total, 0.0))
        return RenderResult(done, dest, state.get("versions") or {}, state.get("job_id"),
                            state.get("checkpoint_title"), reused=True)

    versions = state.get("versions") or client.versions()

    with _holding(client.render_lock, cancel):
        job_id = state.get("job_id")
        job: dict | None = None
        # 2. A job was submitted before: follow it, or reuse what it wrote.
        if not job_id and state.get("submitting_since"):
            # Died (or lost the answer) while submitting: Deforum may have the job anyway.
            job_id = _find_submitted(deforum, settings, state["submitting_since"])
            if job_id:
                save(job_id=job_id)
        if job_id:
            try:
                job = deforum.job(job_id)
                if job["status"] in ("FAILED", "CANCELLED"):  # an earlier run's outcome: this call renders anew
                    job_id, job = None, None
                    state["attempts"] = 0
            except JobNotFound:
                outdir, ts = state.get("outdir"), state.get("timestring")
                if outdir and ts and _frames_complete(client, outdir, ts, total):
                    frames = framesmod.collect_frames(client, outdir, ts, total, width, height, dest)
                    save(collected=True)
                    on_progress(RenderProgress(job_id, "SUCCEEDED", "DONE", total, total, 0.0,
                                               "A1111 forgot the job; its finished frames were reused"))
                    return RenderResult(frames, dest, versions, job_id, state.get("checkpoint_title"), reused=True)
                job_id, job = None, None  # lost and incomplete: render again

        attempts = int(state.get("attempts") or 0)
        title = state.get("checkpoint_title")
        while True:
            if job is None:
                if cancel.is_set():
                    raise RenderCancelled()
                title = _preflight(client, manifest, index, allow_pickle)
                overrides = dict(exported.get("options_overrides") or {})
                overrides["sd_model_checkpoint"] = title  # A1111's title of the file matched by hash
                since = time.time()
                save(submitting_since=since, job_id=None, settings_digest=digest)
                try:
                    submitted = deforum.submit_batch(settings, overrides)
                except A1111Unreachable:
                    # The answer was lost, not necessarily the job: adopt it rather than render twice.
                    found = _find_submitted(deforum, settings, since)
                    if not found:
                        raise
                    submitted = {"job_ids": [found], "batch_id": found.rsplit("-", 1)[0]}
                job_id = submitted["job_ids"][0]
                attempts += 1
                # Persist before anything else can fail: a restart must find this job.
                save(job_id=job_id, batch_id=submitted["batch_id"], submitted_at=time.time(),
                     submitting_since=None, settings_digest=digest, checkpoint_title=title, attempts=attempts,
                     versions=versions, outdir=None, timestring=None, collected=False)
                job = deforum.job(job_id)
            job = _follow(client, deforum, job_id, job, total, cancel, on_progress, save, state, poll_interval)
            status = job["status"]
            if status == "SUCCEEDED":
                frames = framesmod.collect_frames(client, job["outdir"], job["timestring"], total,
                                                  width, height, dest)
                save(collected=True)
                return RenderResult(frames, dest, versions, job_id, title)
            if status == "CANCELLED":
                raise RenderCancelled(f"the render was cancelled in A1111: {job.get('message') or ''}".strip())
            # FAILED
            message = job.get("message") or "no message"
            if job.get("error_type") == "RETRYABLE" and attempts <= max_retries:
                on_progress(RenderProgress(job_id, status, job.get("phase", ""), 0, total, None,
                                           f"Deforum failed ({message}); retrying"))
                job = None
                continue
            if job.get("error_type") == "RETRYABLE":
                raise RenderFailed(f"Deforum failed {attempts} times; last: {message}",
                                   hint="free GPU memory (close other apps, lower W/H in A1111) and render again")
            raise RenderFailed(f"Deforum failed: {message}",
                               hint="see A1111's console; this failure will repeat until its cause is fixed")


def _find_submitted(deforum: DeforumClient, settings: dict, since: float) -> str | None:
    """A job Deforum accepted with exactly these settings since `since` (newest first)."""
    try:
        jobs = deforum.jobs()
    except RenderError:
        return None
    found = [(st.get("started_at") or 0, jid) for jid, st in jobs.items()
             if isinstance(st, dict) and st.get("deforum_settings") == settings
             and (st.get("started_at") or 0) >= since - 60]  # tolerate clock skew
    return max(found)[1] if found else None


def _frames_complete(client: A1111Client, outdir: str, timestring: str, total: int) -> bool:
    if client.is_local(outdir):
        return framesmod.local_frames_done(outdir, timestring, total) == total
    try:  # remote: the last frame exists and no extra one does
        client.fetch_file(f"{outdir}/{framesmod.frame_name(timestring, total - 1)}")
    except FramesError:
        return False
    return True


def _preflight(client: A1111Client, manifest: dict, index: int, allow_pickle: bool) -> str:
    statuses = check_models(client, manifest, index, allow_pickle=allow_pickle)
    bad = [s for s in statuses if not s.ok]
    if bad:
        raise ModelError("; ".join(s.message for s in bad), hint=bad[0].hint,
                         models=[s.to_dict() for s in bad])
    return statuses[0].title


def _follow(client, deforum, job_id, job, total, cancel, on_progress, save, state, poll_interval) -> dict:
    """Poll until the job leaves ACCEPTED; report progress; cancel on request."""
    started: tuple[float, int] | None = None
    while True:
        if job.get("outdir") and job.get("outdir") != state.get("outdir"):
            save(outdir=job["outdir"], timestring=job["timestring"])
        if cancel.is_set():
            try:
                deforum.cancel(job_id)
            finally:
                client.interrupt()  # Deforum's own cancel interrupts too; be sure on older versions
            raise RenderCancelled()
        done = _frames_done(client, job, total)
        now = time.monotonic()
        eta = None
        if job.get("phase") == "GENERATING":
            if started is None:
                started = (now, done)
            elif done > started[1]:
                rate = (done - started[1]) / (now - started[0])
                eta = (total - done) / rate if rate > 0 else None
        on_progress(RenderProgress(job_id, job["status"], job.get("phase", ""), done, total, eta,
                                   job.get("message") or ""))
        if job["status"] != "ACCEPTED":
            return job
        if cancel.wait(poll_interval):
            continue
        job = deforum.job(job_id)


def _frames_done(client: A1111Client, job: dict, total: int) -> int:
    if job.get("status") == "SUCCEEDED":
        return total
    outdir, ts = job.get("outdir"), job.get("timestring")
    if job.get("phase") != "GENERATING" or not outdir or not ts:
        return 0
    if client.is_local(outdir):
        return framesmod.local_frames_done(outdir, ts, total)
    return min(total, int(round(float(job.get("phase_progress") or 0) * total)))


class _holding:
    """Hold the per-A1111 render lock; keep honouring cancel while waiting for it."""

    def __init__(self, lock: threading.Lock, cancel: threading.Event):
        self.lock, self.cancel = lock, cancel

    def __enter__(self):
        while not self.lock.acquire(timeout=0.2):
            if self.cancel.is_set():
                raise RenderCancelled()
        return self

    def __exit__(self, *exc):
        self.lock.release()
