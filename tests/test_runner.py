"""The job runner's state machine with plain step functions (the real
pipeline's steps are exercised end to end in test_kill*.py)."""

from __future__ import annotations

import threading

import pytest

from movieminter.app.journal import STATES
from movieminter.app.runner import Goto, JobRunner, Step
from movieminter.errors import MovieMinterError
from tests.fixtures_app import CONTRACT, WALLET, wait_state

TX = "0x" + "ab" * 32


class Recorder:
    """Steps that count their calls; `gate` lets a test hold a step open."""

    def __init__(self, fail_once_at: str | None = None):
        self.calls: list[str] = []
        self.fail_once_at = fail_once_at
        self.gates: dict[str, threading.Event] = {}

    def steps(self):
        out = []
        for state, nxt in zip(STATES[:-2], STATES[1:-1], strict=False):
            out.append(Step(state, nxt, self._make(state)))
        out.append(Step("awaiting_signature", "minted", self._confirm))
        return out

    def _make(self, state):
        def step(ctx, job):
            self.calls.append(state)
            gate = self.gates.get(state)
            if gate is not None:
                while not gate.wait(0.05):
                    job.check()
            if self.fail_once_at == state:
                self.fail_once_at = None
                raise MovieMinterError(f"{state} broke", hint="retry")
            job.progress(state, frame=1, frames=2)
            return {"by": state}

        return step

    def _confirm(self, ctx, job):
        self.calls.append("awaiting_signature")
        if job.signer:
            tx_hash = job.signer(job.data["pinned"])
        else:
            tx_hash = job.wait_for_tx()
        return {"tx_hash": tx_hash}


def make_runner(ctx, rec, **kw):
    return JobRunner(ctx, steps=rec.steps(), **kw)


def test_job_goes_through_every_state_and_waits_for_the_wallet(app_context):
    rec = Recorder()
    runner = make_runner(app_context, rec)
    job, created = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=3, wallet=WALLET)
    assert created
    wait_state(runner.journal, job.id, "awaiting_signature")
    again, created = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=3, wallet=WALLET)
    assert not created and again.id == job.id  # never queued twice
    with pytest.raises(MovieMinterError, match="not a transaction hash"):
        runner.submit_tx(job.id, "0x123")
    runner.submit_tx(job.id, TX)
    done = runner.wait(job.id, 10)
    assert done.state == "minted" and done.data["minted"] == {"tx_hash": TX}
    assert rec.calls == list(STATES[:-1])
    assert [t["to"] for t in runner.journal.transitions(job.id)] == list(STATES)
    runner.stop()


def test_headless_signer_is_used_instead_of_the_browser(app_context):
    rec = Recorder()
    runner = make_runner(app_context, rec, signer=lambda tx: TX)
    job, _ = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=0, wallet=WALLET)
    assert runner.wait(job.id, 10).state == "minted"


def test_failure_is_journaled_and_retry_resumes_without_redoing(app_context):
    rec = Recorder(fail_once_at="encoded")
    runner = make_runner(app_context, rec, signer=lambda tx: TX)
    job, _ = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=0, wallet=WALLET)
    failed = runner.wait(job.id, 10)
    assert failed.state == "failed" and failed.resume_state == "encoded"
    assert failed.error["message"] == "encoded broke" and failed.error["hint"] == "retry"
    runner.retry(job.id)
    assert runner.wait(job.id, 10).state == "minted"
    # Everything before the failed step ran once; only the failed step ran twice.
    assert rec.calls.count("rendering") == 1 and rec.calls.count("encoded") == 2


def test_restart_resumes_from_the_journaled_state(app_context):
    rec = Recorder()
    rec.gates["rendered"] = threading.Event()  # holds the job in the encode step
    first = make_runner(app_context, rec)
    job, _ = first.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=0, wallet=WALLET)
    wait_state(first.journal, job.id, "rendered")
    first.stop(timeout=5)  # the server shuts down mid-step: the job stays "rendered"
    assert first.journal.get(job.id).state == "rendered"

    rec2 = Recorder()
    second = make_runner(app_context, rec2, signer=lambda tx: TX)
    second.start()
    assert second.wait(job.id, 10).state == "minted"
    assert rec2.calls == ["rendered", "encoded", "pinned", "awaiting_signature"]


def test_cancel_while_running_and_while_waiting(app_context):
    rec = Recorder()
    rec.gates["rendering"] = threading.Event()
    runner = make_runner(app_context, rec)
    job, _ = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=0, wallet=WALLET)
    wait_state(runner.journal, job.id, "rendering")
    runner.cancel(job.id)
    cancelled = runner.wait(job.id, 10)
    assert cancelled.state == "cancelled" and cancelled.resume_state == "rendering"
    with pytest.raises(MovieMinterError, match="already cancelled"):
        runner.cancel(job.id)

    rec.gates["rendering"].set()
    job2, _ = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=1, wallet=WALLET)
    wait_state(runner.journal, job2.id, "awaiting_signature")
    runner.cancel(job2.id)
    assert runner.wait(job2.id, 10).state == "cancelled"


def test_cancel_refused_once_the_mint_tx_was_sent(app_context):
    rec = Recorder()
    hold = threading.Event()
    steps = rec.steps()
    steps[-1] = Step("awaiting_signature", "minted", lambda ctx, job: (job.wait_for_tx(), hold.wait(10), {})[2])
    runner = JobRunner(app_context, steps=steps)
    job, _ = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=0, wallet=WALLET)
    wait_state(runner.journal, job.id, "awaiting_signature")
    runner.submit_tx(job.id, TX)
    with pytest.raises(MovieMinterError, match="already sent"):
        runner.cancel(job.id)
    # While unmined, the wallet may replace it (speed up / cancel): the job follows the new hash.
    assert runner.submit_tx(job.id, "0x" + "cd" * 32).data["_tx_hash"] == "0x" + "cd" * 32
    hold.set()
    assert runner.wait(job.id, 10).state == "minted"


def test_goto_and_unexpected_errors(app_context):
    steps = [Step("queued", "models_ready", lambda ctx, job: Goto("minted", {"found_on_chain": True}))]
    runner = JobRunner(app_context, steps=steps)
    job, _ = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=0, wallet=WALLET)
    assert runner.wait(job.id, 10).data["minted"] == {"found_on_chain": True}

    steps = [Step("queued", "models_ready", lambda ctx, job: 1 / 0)]
    runner = JobRunner(app_context, steps=steps)
    job, _ = runner.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=1, wallet=WALLET)
    failed = runner.wait(job.id, 10)
    assert failed.state == "failed" and failed.error["error"] == "ZeroDivisionError"
    with pytest.raises(MovieMinterError, match="not a wallet address"):
        runner.submit(chain_id=1, contract=CONTRACT, movie_id=1, segment=1, wallet="me")


def test_start_up_check_settles_a_job_before_any_thread_runs(app_context):
    first = JobRunner(app_context, steps=[Step("queued", "minted", lambda ctx, job: job.wait_for_tx())])
    job, _ = first.submit(chain_id=31337, contract=CONTRACT, movie_id=1, segment=0, wallet=WALLET)
    first.stop(timeout=1)  # the process "dies" while the job waits

    ran = []
    steps = [
        Step(
            "queued",
            "minted",
            lambda ctx, job: ran.append(1) or {},
            on_start=lambda ctx, job: Goto("minted", {"found_on_chain": True}),
        )
    ]
    second = JobRunner(app_context, steps=steps)
    second.start()
    settled = second.journal.get(job.id)  # already settled when start() returns
    assert settled.state == "minted" and settled.data["minted"] == {"found_on_chain": True}
    assert second.wait(job.id, 5).state == "minted" and ran == []
