"""The job runner: drives each render-and-mint job through its states.

A step is a plain function `step(ctx, job) -> dict` run when the job is in
`Step.state`; what it returns is journaled as the data of `Step.next` (one
SQLite transaction) before the next step starts. A step may instead return
`Goto(state, data)` (e.g. "already minted by this wallet"). So a restarted
runner just calls the step for the state the journal holds: everything before
it is finished and recorded, nothing is redone.

Each job runs in its own thread; steps marked `exclusive` (the render) take one
lock, since there is one GPU. The browser wallet signs: the job waits in
`awaiting_signature` until `submit_tx(job_id, tx_hash)`; headless callers pass
`signer(tx: dict) -> tx_hash` instead.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable

from movieminter.app.journal import Job, Journal, JournalError
from movieminter.app.mint_steps import tx_state
from movieminter.app.pipeline import STEPS
from movieminter.app.rights import admit as admit_to_mint
from movieminter.app.sse import EventHub
from movieminter.app.steps import (  # noqa: F401 - Goto, Step, RunningJob re-exported
    Cancelled,
    Goto,
    RunningJob,
    Step,
    Stopping,
)
from movieminter.errors import MovieMinterError

log = logging.getLogger("movieminter.runner")

TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")

# Tests that kill the app at a given state set this (comma-separated states):
# a job thread that finds its job in one of them waits there (before running
# that state's step) until the server stops, so the test can SIGKILL the
# process at exactly that point.
PAUSE_ENV = "MOVIEMINTER_PAUSE_AFTER"


class JobRunner:
    def __init__(
        self,
        ctx,
        *,
        steps: list[Step] | None = None,
        signer: Callable[[dict], str] | None = None,
        hub: EventHub | None = None,
        journal: Journal | None = None,
        admit: Callable[..., dict] | None = None,
    ):
        """`admit(ctx, movie_id, segment, wallet, params) -> params` vets a new job before it is
        journaled (the pipeline's: the right to mint); custom `steps` come without one."""
        if steps is None:
            steps, admit = STEPS, admit or admit_to_mint
        self.admit = admit
        self.ctx = ctx
        self.journal = journal or ctx.journal
        self.hub = hub or EventHub()
        self.signer = signer
        self.steps = {s.state: s for s in steps}
        self._threads: dict[int, threading.Thread] = {}
        self._cancels: dict[int, threading.Event] = {}
        self._txs: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self._gpu = threading.Lock()
        self._stop = threading.Event()
        self._pause_after = {s.strip() for s in os.environ.get(PAUSE_ENV, "").split(",") if s.strip()}

    # -- public API ----------------------------------------------------------
    def start(self, settle_timeout: float = 10.0) -> None:
        """Resume every unfinished job in the journal, after the steps'
        `on_start` checks (bounded by `settle_timeout` in total)."""
        jobs = self.journal.unfinished()
        checks = [j for j in jobs if getattr(self.steps.get(j.state), "on_start", None)]
        if checks:
            t = threading.Thread(target=self._settle, args=(checks,), name="movieminter-settle", daemon=True)
            t.start()
            t.join(settle_timeout)
        for job in jobs:
            self._spawn(job.id)

    def _settle(self, jobs: list[Job]) -> None:
        for job in jobs:
            try:
                on_start = self.steps[job.state].on_start
                assert on_start is not None  # only jobs whose step has one are settled
                result = on_start(self.ctx, RunningJob(self, job))
                if isinstance(result, Goto):
                    self._publish_state(self.journal.transition(job.id, result.state, result.data, expect=job.state))
            except Exception as exc:  # noqa: BLE001 - the job's own thread checks again and reports
                log.warning("start-up check of job %s failed: %s", job.id, exc)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for ev in list(self._txs.values()):
            ev.set()
        deadline = time.monotonic() + timeout  # one budget for all threads, not one each
        for t in list(self._threads.values()):
            t.join(max(0.0, deadline - time.monotonic()))

    def submit(
        self, *, chain_id: int, contract: str, movie_id: int, segment: int, wallet: str, params: dict | None = None
    ) -> tuple[Job, bool]:
        """Queue a job (or return the existing one for this segment and wallet)."""
        if not re.fullmatch(r"0x[0-9a-fA-F]{40}", str(wallet)):
            raise MovieMinterError(
                f"{wallet!r} is not a wallet address",
                hint="connect the wallet that may mint this segment (0x followed by 40 hex digits)",
            )
        params = params or {}
        if self.admit is not None and self.journal.find(chain_id, contract, movie_id, segment, wallet) is None:
            params = self.admit(self.ctx, movie_id, segment, wallet, params)  # refused before any work starts
        job, created = self.journal.create(chain_id, contract, movie_id, segment, wallet, params)
        if created:
            self._publish_state(job)
        if not job.terminal:
            self._spawn(job.id)
        return job, created

    def cancel(self, job_id: int) -> Job:
        job = self.journal.get(job_id)
        if job.terminal:
            raise MovieMinterError(f"job {job_id} is already {job.state}")
        sent = job.data.get("_tx_hash") if job.state == "awaiting_signature" else None
        if sent and self._tx_state(sent) != "unknown":  # a dropped one may be given up
            take = job.params.get("take_ballot") and not job.data.get("_take_won")
            raise MovieMinterError(
                f"job {job_id} cannot be cancelled: its {'recordTake' if take else 'mint'} transaction {sent} "
                "was already sent",
                hint="wait for the transaction to confirm (or replace it in your wallet); the job then ends "
                f"as {'a recorded take' if take else 'minted'}, or returns to awaiting your signature",
            )
        job = self.journal.request_cancel(job_id)
        self._cancel_event(job_id).set()
        self._tx_event(job_id).set()
        if not self._alive(job_id):  # nothing running it: settle it here
            job = self.journal.transition(job_id, "cancelled", expect=job.state)
            self._publish_state(job)
        return job

    def retry(self, job_id: int) -> Job:
        job = self.journal.reopen(job_id)
        self._cancel_event(job_id).clear()
        self._publish_state(job)
        self._spawn(job_id)
        return job

    def wake(self, job_id: int) -> None:
        """A job moved back to work outside the runner (a winning take to mint): announce and run it."""
        self._cancel_event(job_id).clear()
        self._publish_state(self.journal.get(job_id))
        self._spawn(job_id)

    def submit_tx(self, job_id: int, tx_hash: str) -> Job:
        """The browser wallet sent the mint transaction: record its hash
        (journaled before anything watches it) and wake the job."""
        if not TX_HASH.match(str(tx_hash)):
            raise MovieMinterError(
                f"{tx_hash!r} is not a transaction hash",
                hint="send the hash the wallet returned: 0x followed by 64 hex digits",
            )
        job = self.journal.get(job_id)
        if job.state != "awaiting_signature":
            raise MovieMinterError(f"job {job_id} is {job.state}, not awaiting a signature")
        known = job.data.get("_tx_hash")
        if known and known.lower() != tx_hash.lower():
            if self._tx_state(known) == "mined":
                raise MovieMinterError(
                    f"job {job_id} already has mint transaction {known}, mined",
                    hint="a segment is minted once; the job settles from that transaction",
                )
            self.journal.save(job_id, "tx_since", None)  # the wallet replaced it (speed up / cancel): follow this one
        self.journal.save(job_id, "tx_hash", tx_hash)
        self._tx_event(job_id).set()
        if not self._alive(job_id):
            self._spawn(job_id)
        return self.journal.get(job_id)

    def _tx_state(self, tx_hash: str) -> str:
        try:
            return tx_state(self.ctx, tx_hash)
        except Exception:  # noqa: BLE001 - chain unreachable: assume the transaction may still land
            return "pending"

    def wait(self, job_id: int, timeout: float | None = None) -> Job:
        t = self._threads.get(job_id)
        if t is not None:
            t.join(timeout)
        return self.journal.get(job_id)

    # -- internals -----------------------------------------------------------
    def _cancel_event(self, job_id: int) -> threading.Event:
        with self._lock:
            return self._cancels.setdefault(job_id, threading.Event())

    def _tx_event(self, job_id: int) -> threading.Event:
        with self._lock:
            return self._txs.setdefault(job_id, threading.Event())

    def _alive(self, job_id: int) -> bool:
        t = self._threads.get(job_id)
        return t is not None and t.is_alive()

    def _spawn(self, job_id: int) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            t = self._threads.get(job_id)
            if t is not None and t.is_alive():
                return
            t = threading.Thread(target=self._run, args=(job_id,), name=f"movieminter-job-{job_id}", daemon=True)
            self._threads[job_id] = t
            t.start()

    def _publish_state(self, job: Job) -> None:
        self.hub.publish(job.id, "state", job.public())

    def _run(self, job_id: int) -> None:
        cancel = self._cancel_event(job_id)
        while not self._stop.is_set():
            job = self.journal.get(job_id)
            if job.terminal:
                return
            if job.cancel_requested or cancel.is_set():
                self._publish_state(self.journal.transition(job_id, "cancelled", expect=job.state))
                return
            if job.state in self._pause_after:
                log.warning("job %s paused in %s (%s is set)", job_id, job.state, PAUSE_ENV)
                self._stop.wait()
                return
            step = self.steps.get(job.state)
            if step is None:
                self._fail(job, MovieMinterError(f"no step handles state {job.state!r}"))
                return
            handle = RunningJob(self, job)
            try:
                if step.exclusive:
                    handle.progress("waiting for the GPU")
                    with self._gpu:
                        handle.check()
                        result = step.fn(self.ctx, handle)
                else:
                    result = step.fn(self.ctx, handle)
            except Stopping:
                return
            except Exception as exc:  # noqa: BLE001 - every failure is journaled, never lost
                if cancel.is_set() or isinstance(exc, Cancelled):
                    self._publish_state(self.journal.transition(job_id, "cancelled", expect=job.state))
                elif self._stop.is_set():
                    return
                else:
                    self._fail(job, exc)
                return
            target, data = (result.state, result.data) if isinstance(result, Goto) else (step.next, result or {})
            try:
                job = self.journal.transition(job_id, target, data, expect=job.state)
            except JournalError as exc:
                if self.journal.get(job_id).state != job.state:
                    continue  # someone else moved the job meanwhile (start-up check, cancel): re-read
                self._fail(job, exc)
                return
            self._publish_state(job)

    def _fail(self, job: Job, exc: Exception) -> None:
        if isinstance(exc, MovieMinterError):
            error = exc.to_dict()
        else:
            log.exception("job %s failed in %s", job.id, job.state)
            error = {
                "error": type(exc).__name__,
                "message": str(exc) or type(exc).__name__,
                "hint": "see the app log for details; POST /api/v1/jobs/{id}/retry resumes from this step",
            }
        error["state"] = job.state
        error["at"] = time.time()
        self._publish_state(self.journal.transition(job.id, "failed", error=error, expect=job.state))
