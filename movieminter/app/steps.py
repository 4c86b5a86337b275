"""The step protocol the job runner drives and the pipeline implements: Step, Goto, the handle a
step gets (RunningJob) and the exceptions that stop it. Its own module, so the runner and the
pipeline both depend on it and not on each other."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from movieminter.app.journal import Job

if TYPE_CHECKING:  # the runner imports this module
    from movieminter.app.runner import JobRunner


class Goto(NamedTuple):
    state: str
    data: dict


class Cancelled(Exception):
    """Raised inside a step when the user cancelled the job."""


class Stopping(Exception):
    """Raised inside a step when the server shuts down (the job stays where it
    is and resumes on the next start)."""


@dataclass
class Step:
    state: str
    next: str
    fn: Callable
    exclusive: bool = False
    # A quick check run by start() before the server answers anyone: it may
    # settle the job (return Goto) so no page acts on a stale state.
    on_start: Callable | None = None


class RunningJob:
    """What a step gets: the journaled job plus progress, saved working state,
    cancellation and (for the mint) the submitted transaction."""

    def __init__(self, runner: JobRunner, job: Job):
        self._runner = runner
        self.job = job
        self.cancel_event = runner._cancel_event(job.id)

    def __getattr__(self, name):  # id, params, data, segment, wallet, ...
        return getattr(self.job, name)

    @property
    def signer(self):
        return self._runner.signer

    def progress(self, stage: str, **fields) -> None:
        self._runner.hub.publish(
            self.job.id, "progress", {"job_id": self.job.id, "state": self.job.state, "stage": stage, **fields}
        )

    def saved(self, key: str, default=None):
        return self.job.data.get("_" + key, default)

    def save(self, key: str, value) -> None:
        self._runner.journal.save(self.job.id, key, value)
        self.job.data["_" + key] = value

    def check(self) -> None:
        """Raise if the job was cancelled or the server is stopping."""
        if self.cancel_event.is_set():
            raise Cancelled()
        if self._runner._stop.is_set():
            raise Stopping()

    def wait_for_tx(self, poll: float = 0.5, timeout: float | None = None) -> str | None:
        """Block until the browser posted the transaction hash (None after `timeout`)."""
        event = self._runner._tx_event(self.job.id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            fresh = self._runner.journal.get(self.job.id)
            if fresh.data.get("_tx_hash"):
                self.job.data["_tx_hash"] = fresh.data["_tx_hash"]
                return fresh.data["_tx_hash"]
            self.check()
            event.wait(poll)
            event.clear()
        return None
