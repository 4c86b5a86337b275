"""Render one segment through Deforum's API: preflight, submit, follow, collect.

Resumable by construction: the job id is handed to `save_state` the moment
Deforum accepts it, so a process that dies later finds the same job on the
next call (or, if A1111 restarted and forgot it, the frames it already wrote)
instead of rendering the segment again.

Every wait has a limit. What real Deforum does, and how each case ends:
- SUCCEEDED: the frames are collected (see `submission` for cadence).
- FAILED: reported as it is, never resubmitted on our own. Deforum calls every
  render error RETRYABLE "Generation error." (an Interrupt during sampling
  too), so a retry would override the user or repeat a deterministic failure.
- Interrupted between frames: the job stays ACCEPTED in POST_PROCESSING for
  ever; silence there for `post_processing` seconds ends it as interrupted.
- Nothing moving at all for `stall` seconds: stalled, with what to check.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from movieminter.manifest import get_segment, segment_settings_digest
from movieminter.render import frames as framesmod
from movieminter.render.a1111 import A1111Client
from movieminter.render.deforum import DeforumClient, mark_interrupted
from movieminter.render.doctor import deforum_requirements
from movieminter.render.errors import (
    A1111Unreachable,
    FramesError,
    JobNotFound,
    ModelError,
    RenderCancelled,
    RenderError,
    RenderFailed,
    RenderInterrupted,
    RenderStalled,
)
from movieminter.render.readiness import check_models
from movieminter.render.submission import DeforumJobPlan, plan_job

log = logging.getLogger(__name__)


@dataclasses.dataclass
class RenderProgress:
    job_id: str
    status: str  # ACCEPTED | SUCCEEDED | FAILED | CANCELLED
    phase: str  # QUEUED | PREPARING | GENERATING | POST_PROCESSING | DONE
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
    reused: bool = False  # True when finished frames were found instead of rendered


@dataclasses.dataclass
class RenderLimits:
    """How long silence may last before a render is given up (seconds)."""

    stall: float = 900.0  # no progress anywhere in Deforum (a frame on a slow GPU can take minutes)
    post_processing: float = 60.0  # ours skip video creation: a silent POST_PROCESSING was interrupted
    queued_cancel: float = 1800.0  # how long a cancelled QUEUED job is watched so it can be stopped


def render_segment(
    client: A1111Client,
    manifest: dict,
    index: int,
    *,
    state: dict,
    save_state: Callable[[dict], None],
    on_progress: Callable[[RenderProgress], None] | None = None,
    cancel: threading.Event | None = None,
    work_dir: str | Path | None = None,
    allow_pickle: bool = False,
    poll_interval: float = 0.5,
    limits: RenderLimits | None = None,
) -> RenderResult:
    """Render segment `index` of `manifest`; returns its checked frames in `work_dir/frames`.

    `state` is what `save_state` got last time (empty for a first run).
    """
    get_segment(manifest, index)
    plan = plan_job(manifest, index)
    limits = limits or RenderLimits()
    width, height = int(manifest["movie"]["width"]), int(manifest["movie"]["height"])
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix=f"movieminter-seg{index}-"))
    dest = work / "frames"
    on_progress = on_progress or (lambda p: None)
    cancel = cancel or threading.Event()
    deforum = DeforumClient(client)
    state = dict(state or {})
    digest = segment_settings_digest(manifest, index)
    if state.get("settings_digest") not in (None, digest):
        state = {}  # saved for other settings: nothing of it applies

    def save(**changes) -> None:
        state.update(changes)
        save_state(dict(state))

    # 1. Finished earlier: the frames are already ours.
    done = framesmod.complete_frames(dest, plan.frames, width, height) if state.get("collected") else None
    if done:
        on_progress(RenderProgress(state.get("job_id") or "", "SUCCEEDED", "DONE", plan.frames, plan.frames, 0.0))
        return RenderResult(
            done, dest, state.get("versions") or {}, state.get("job_id"), state.get("checkpoint_title"), reused=True
        )

    follow = _Follower(client, deforum, plan, cancel, on_progress, save, state, poll_interval, limits)

    with _holding(client.render_lock, cancel):
        job_id, job = _adopt_earlier_job(client, deforum, plan, state, save)
        if job_id and job is None and state.get("outdir"):  # A1111 forgot it: its finished frames may be there
            reused = _reuse_forgotten_job(client, plan, job_id, state, save, dest, (width, height), on_progress)
            if reused is not None:
                return reused
            job_id = None
        title = state.get("checkpoint_title")
        if job is None:
            if cancel.is_set():
                raise RenderCancelled()
            title = _preflight(client, manifest, index, allow_pickle)
            job_id = _submit(deforum, plan, title, digest, save)
            job = deforum.job(job_id)
        assert job_id is not None  # submitted now, or the saved state's job
        try:
            job = follow(job_id, job)
        except RenderInterrupted:
            save(reported=job_id)  # it never finishes: a retry renders anew
            mark_interrupted(client.base_url, job_id)
            raise
        if job["status"] != "SUCCEEDED":
            save(reported=job_id)  # a later call (the user's retry) renders anew
            if job["status"] == "CANCELLED":
                raise RenderCancelled(f"the render was cancelled in A1111: {job.get('message') or ''}".strip())
            raise _failure(client, plan, job, follow.frames_done)
        frames = framesmod.collect_frames(
            client, job["outdir"], job["timestring"], plan.frames, width, height, dest, plan.writes
        )
        save(collected=True)
        versions = _versions(client, state)
        save(versions=versions)
        return RenderResult(frames, dest, versions, job_id, title)


def _reuse_forgotten_job(
    client: A1111Client,
    plan: DeforumJobPlan,
    job_id: str,
    state: dict,
    save: Callable[..., None],
    dest: Path,
    size: tuple[int, int],
    on_progress: Callable[[RenderProgress], None],
) -> RenderResult | None:
    """A job A1111 no longer knows (it restarted): its frames, when all of them are on disk; else None."""
    outdir, ts = state["outdir"], state["timestring"]
    if not _frames_complete(client, outdir, ts, plan.writes):
        return None
    frames = framesmod.collect_frames(client, outdir, ts, plan.frames, *size, dest, plan.writes)
    save(collected=True)
    on_progress(
        RenderProgress(
            job_id,
            "SUCCEEDED",
            "DONE",
            plan.frames,
            plan.frames,
            0.0,
            "A1111 forgot the job; its finished frames were reused",
        )
    )
    return RenderResult(frames, dest, _versions(client, state), job_id, state.get("checkpoint_title"), reused=True)


def _versions(client: A1111Client, state: dict) -> dict:
    """A1111's and Deforum's versions, asked once the frames are home: A1111 assembles
    /internal/sysinfo by running subprocesses, which would slow a render in progress."""
    return state.get("versions") or client.versions()


def _adopt_earlier_job(
    client: A1111Client, deforum: DeforumClient, plan: DeforumJobPlan, state: dict, save
) -> tuple[str | None, dict | None]:
    """The job an earlier call submitted, if it is still worth following.

    A job that did not succeed is reported once (a restart must not silently
    render again); after that, a new call (the user's retry) renders anew.
    """
    job_id = state.get("job_id")
    if not job_id and state.get("submitting_since"):
        # Died (or lost the answer) while submitting: Deforum may have the job anyway.
        job_id = _find_submitted(deforum, plan.settings, state["submitting_since"])
        if job_id:
            save(job_id=job_id)
    if not job_id:
        return None, None
    if state.get("reported") == job_id:
        return None, None
    try:
        return job_id, deforum.job(job_id)
    except JobNotFound:
        return job_id, None


def _submit(deforum: DeforumClient, plan: DeforumJobPlan, title: str, digest: str, save) -> str:
    overrides = dict(plan.options_overrides)
    overrides["sd_model_checkpoint"] = title  # A1111's title of the file matched by hash
    since = time.time()
    save(submitting_since=since, job_id=None, settings_digest=digest)
    try:
        submitted = deforum.submit_batch(plan.settings, overrides)
    except A1111Unreachable:
        # The answer was lost, not necessarily the job: adopt it rather than render twice.
        found = _find_submitted(deforum, plan.settings, since)
        if not found:
            raise
        submitted = {"job_ids": [found], "batch_id": found.rsplit("-", 1)[0]}
    job_id = submitted["job_ids"][0]
    # Persist before anything else can fail: a restart must find this job.
    save(
        job_id=job_id,
        batch_id=submitted["batch_id"],
        submitted_at=time.time(),
        submitting_since=None,
        settings_digest=digest,
        checkpoint_title=title,
        outdir=None,
        timestring=None,
        collected=False,
        reported=None,
    )
    return job_id


def _failure(client: A1111Client, plan: DeforumJobPlan, job: dict, done: int) -> RenderError:
    """What is known about a FAILED job, said plainly (Deforum's message, where to look)."""
    message = job.get("message") or "no message"
    where = f"after {done} of {plan.frames} frames" if job.get("phase") == "GENERATING" else f"in {job.get('phase')}"
    known = _known_cause(client, plan)
    if job.get("error_type") == "TERMINAL":
        return RenderFailed(
            f"Deforum refused the job: {message}",
            hint=known
            or "A1111's console shows why (look for the traceback printed with the job id); fix that and render again",
        )
    return RenderFailed(
        f'Deforum stopped with "{message}" {where}',
        hint=known
        or (
            "Deforum reports every error during a render this way, an Interrupt in A1111 included. "
            "A1111's console shows the cause between *START OF TRACEBACK* and *END OF TRACEBACK*; "
            "fix it, then render again"
        ),
    )


def _known_cause(client: A1111Client, plan: DeforumJobPlan) -> str | None:
    try:
        problems = [c for c in deforum_requirements(client, plan) if not c.ok]
    except RenderError:
        return None
    return f"{problems[0].message}: {problems[0].hint}" if problems else None


def _find_submitted(deforum: DeforumClient, settings: dict, since: float) -> str | None:
    """A job Deforum accepted with exactly these settings since `since` (newest first)."""
    try:
        jobs = deforum.jobs()
    except RenderError:
        return None
    found = [
        (st.get("started_at") or 0, jid)
        for jid, st in jobs.items()
        if isinstance(st, dict) and st.get("deforum_settings") == settings and (st.get("started_at") or 0) >= since - 60
    ]  # tolerate clock skew
    return max(found)[1] if found else None


def _frames_complete(client: A1111Client, outdir: str, timestring: str, writes: int) -> bool:
    if client.is_local(outdir):
        return framesmod.local_frames_done(outdir, timestring, writes) == writes
    try:  # remote: the last frame exists and no extra one does
        client.fetch_file(f"{outdir}/{framesmod.frame_name(timestring, writes - 1)}")
    except FramesError:
        return False
    return True


def _preflight(client: A1111Client, manifest: dict, index: int, allow_pickle: bool) -> str:
    statuses = check_models(client, manifest, index, allow_pickle=allow_pickle)
    bad = [s for s in statuses if not s.ok]
    if bad:
        raise ModelError("; ".join(s.message for s in bad), hint=bad[0].hint, models=[s.to_dict() for s in bad])
    title = statuses[0].title
    assert title is not None  # a checkpoint that passed the check has its A1111 title
    return title


class _Follower:
    """Polls one Deforum job until it ends, reporting progress; every wait bounded."""

    def __init__(self, client, deforum, plan, cancel, on_progress, save, state, poll_interval, limits):
        self.client, self.deforum, self.plan, self.cancel = client, deforum, plan, cancel
        self.on_progress, self.save, self.state = on_progress, save, state
        self.poll, self.limits = poll_interval, limits
        self.frames_done = 0

    def __call__(self, job_id: str, job: dict) -> dict:
        total = self.plan.frames
        signature, changed = None, time.monotonic()
        started: tuple[float, int] | None = None
        elsewhere = _Activity(self.deforum)
        while True:
            if job.get("outdir") and job.get("outdir") != self.state.get("outdir"):
                self.save(outdir=job["outdir"], timestring=job["timestring"])
            if self.cancel.is_set():
                self._cancel(job_id)
                raise RenderCancelled()
            self.frames_done = done = _frames_done(self.client, job, self.plan)
            now = time.monotonic()
            # While QUEUED, the job ahead of ours moving counts as progress.
            sig = (
                job["status"],
                job.get("phase"),
                job.get("updates"),
                done,
                elsewhere.updates() if job.get("phase") == "QUEUED" else None,
            )
            if sig != signature:
                signature, changed = sig, now
            silent = now - changed
            eta = None
            if job.get("phase") == "GENERATING":
                if started is None:
                    started = (now, done)
                elif done > started[1]:
                    rate = (done - started[1]) / (now - started[0])
                    eta = (total - done) / rate if rate > 0 else None
            self.on_progress(
                RenderProgress(job_id, job["status"], job.get("phase", ""), done, total, eta, _describe(job))
            )
            if job["status"] != "ACCEPTED":
                return job
            if job.get("phase") == "POST_PROCESSING" and silent > self.limits.post_processing:
                raise RenderInterrupted(done, total, job_id)
            if silent > self.limits.stall:
                raise RenderStalled(
                    f"A1111 reported no progress for {silent / 60:.0f} min (Deforum job {job_id}, "
                    f"{job.get('phase')}, {done} of {total} frames)",
                    hint="look at A1111's console; if A1111 hangs, restart it and render again "
                    "(finished frames are reused)",
                    job_id=job_id,
                )
            if self.cancel.wait(self.poll):
                continue
            job = self.deforum.job(job_id)

    def _cancel(self, job_id: str) -> None:
        """Deforum interrupts a running job it cancels. A QUEUED one it only marks
        CANCELLED and runs later anyway: watch it and interrupt it when it starts,
        and never call /sdapi/v1/interrupt while another job is the one running."""
        try:
            job = self.deforum.job(job_id)
            if job["status"] != "ACCEPTED" or not self.deforum.cancel(job_id):
                return
        except RenderError:
            return
        if job.get("phase") == "QUEUED":
            threading.Thread(
                target=_stop_when_started,
                args=(self.client, job_id, self.limits.queued_cancel),
                name=f"stop-{job_id}",
                daemon=True,
            ).start()
        else:
            # Deforum interrupted it; it stays CANCELLED mid-run for ever, so once it has
            # stopped generating it must no longer count as busy (previews would be refused).
            _wait_stopped(self.deforum, job_id, self.limits.post_processing, self.poll)
            mark_interrupted(self.client.base_url, job_id)


def _wait_stopped(deforum: DeforumClient, job_id: str, limit: float, poll: float) -> None:
    """Until an interrupted job has left sampling (A1111 stops at its next step)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            job = deforum.job(job_id)
        except RenderError:
            return
        if job.get("phase") not in ("PREPARING", "GENERATING") or job["status"] not in ("ACCEPTED", "CANCELLED"):
            return
        time.sleep(poll)


def _stop_when_started(client: A1111Client, job_id: str, limit: float, poll: float = 0.25) -> None:
    deforum = DeforumClient(client)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            job = deforum.job(job_id)
            if job["status"] != "CANCELLED" or job.get("phase") != "QUEUED":
                if job["status"] == "CANCELLED" and job.get("phase") in ("PREPARING", "GENERATING"):
                    client.interrupt()  # it is the one running now (Deforum runs one job at a time)
                    mark_interrupted(client.base_url, job_id)
                return
        except RenderError as exc:
            log.warning("watching cancelled Deforum job %s: %s", job_id, exc.message)
            return
        time.sleep(poll)
    log.warning("cancelled Deforum job %s is still queued after %.0f s; Deforum will run it later", job_id, limit)


class _Activity:
    """The sum of every Deforum job's update count, read at most every few seconds."""

    def __init__(self, deforum: DeforumClient, every: float = 5.0):
        self.deforum, self.every = deforum, every
        self.at, self.value = 0.0, None

    def updates(self):
        now = time.monotonic()
        if now - self.at >= self.every:
            self.at = now
            try:
                self.value = sum(
                    int(st.get("updates") or 0) for st in self.deforum.jobs().values() if isinstance(st, dict)
                )
            except RenderError:
                pass
        return self.value


def _describe(job: dict) -> str:
    phase = job.get("phase")
    if job["status"] == "ACCEPTED" and phase == "QUEUED":
        return "waiting for another Deforum job in A1111 to finish"
    return job.get("message") or ""


def _frames_done(client: A1111Client, job: dict, plan: DeforumJobPlan) -> int:
    if job.get("status") == "SUCCEEDED":
        return plan.frames
    outdir, ts = job.get("outdir"), job.get("timestring")
    if job.get("phase") not in ("GENERATING", "POST_PROCESSING") or not outdir or not ts:
        return 0
    if client.is_local(outdir):
        return framesmod.local_frames_done(outdir, ts, plan.frames)
    max_frames = int(plan.settings["max_frames"])  # phase_progress is frame_idx / max_frames
    return min(plan.frames, int(round(float(job.get("phase_progress") or 0) * max_frames)))


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
