"""A mint is confirmed by the chain, never by whatever hash the browser posts: an
unrelated transaction does not mark the job minted, and a transaction that is dropped
or replaced returns the job to awaiting a signature with its files kept (the job can
then be signed again, or cancelled)."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import EXAMPLE_MANIFEST


@pytest.fixture
def browser_job(tmp_path, deployed, a1111, monkeypatch):
    """An open movie's segment 0, rendered and pinned, waiting for the browser wallet's transaction."""
    from movieminter.app import mint_steps
    from movieminter.app.context import AppContext
    from movieminter.app.director import pin_manifest
    from movieminter.app.runner import JobRunner
    from movieminter.chain.client import MovieConfig
    from movieminter.config import Settings

    monkeypatch.setattr(mint_steps, "CHAIN_POLL_SECONDS", 0.3)  # the mint steps' timings (pipeline re-exports)
    monkeypatch.setattr(mint_steps, "DROPPED_AFTER_SECONDS", 1.0)
    ctx = AppContext(
        Settings(
            data_dir=tmp_path / "data",
            ipfs_backend="local",
            rpc_url=deployed.rpc_url,
            contract_address=deployed.contract_address,
            a1111_url=a1111[1],
        )
    )
    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    pinned = pin_manifest(ctx.store, manifest)
    acc = deployed.w3.eth.accounts
    movie_id = deployed.movie_id_from_receipt(
        deployed.transact(
            "createMovie",
            [
                MovieConfig(
                    manifest_digest=pinned["digest"],
                    segment_count=6,
                    creator=acc[8],
                    director=acc[9],
                    mint_mode="open",
                    claim_window=3600,
                ).as_tuple()
            ],
            acc[0],
        )
    )
    wallet = acc[1]
    deployed.transact("claim", [movie_id, 0], wallet)
    runner = JobRunner(ctx, hub=ctx.events)
    job, _ = runner.submit(
        chain_id=deployed.chain_id, contract=deployed.contract_address, movie_id=movie_id, segment=0, wallet=wallet
    )

    def state_of(want: str, timeout: float = 90):
        deadline = time.monotonic() + timeout
        while (j := ctx.journal.get(job.id)).state != want:
            assert time.monotonic() < deadline, (j.state, j.error, j.data.get("_tx_hash"))
            time.sleep(0.1)
        return j

    state_of("awaiting_signature")
    yield dict(ctx=ctx, runner=runner, job_id=job.id, movie_id=movie_id, wallet=wallet, state_of=state_of)
    runner.stop()


def send_mint(deployed, s) -> str:
    tx = dict(s["ctx"].journal.get(s["job_id"]).data["awaiting_signature"]["tx"])
    tx = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}
    return deployed.w3.eth.send_transaction(tx).to_0x_hex()


def test_an_unrelated_transaction_does_not_mark_the_job_minted(browser_job, deployed):
    s = browser_job
    other = deployed.w3.eth.send_transaction({"from": s["wallet"], "to": s["wallet"], "value": 1}).to_0x_hex()
    s["runner"].submit_tx(s["job_id"], other)
    deadline = time.monotonic() + 30
    while s["ctx"].journal.get(s["job_id"]).data.get("_tx_hash"):  # looked at, then set aside
        assert time.monotonic() < deadline
        time.sleep(0.1)
    job = s["ctx"].journal.get(s["job_id"])
    assert job.state == "awaiting_signature" and other in job.data["_ignored_txs"]
    assert deployed.segments(s["movie_id"], 0, 1)[0]["status"] != "minted"
    s["runner"].submit_tx(s["job_id"], send_mint(deployed, s))
    job = s["state_of"]("minted")
    assert job.data["minted"]["minter"].lower() == s["wallet"].lower()


def test_a_hash_that_never_mines_returns_to_awaiting_a_signature(browser_job, deployed):
    s = browser_job
    ghost = "0x" + "ab" * 32  # what a wallet's "cancel" or a dropped transaction leaves behind
    s["runner"].submit_tx(s["job_id"], ghost)
    deadline = time.monotonic() + 30
    while s["ctx"].journal.get(s["job_id"]).data.get("_tx_hash") == ghost:
        assert time.monotonic() < deadline, "the dropped transaction wedged the job"
        time.sleep(0.1)
    job = s["ctx"].journal.get(s["job_id"])
    assert job.state == "awaiting_signature" and ghost in job.data["_ignored_txs"]
    assert job.data["pinned"]["video_cid"]  # the rendered, pinned files are kept
    s["runner"].submit_tx(s["job_id"], send_mint(deployed, s))
    assert s["state_of"]("minted").data["minted"]["tx_hash"] != ghost


def test_a_replaced_hash_can_be_superseded_and_a_dropped_job_cancelled(browser_job, deployed):
    s = browser_job
    w3 = deployed.w3
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        pending = w3.eth.send_transaction({"from": s["wallet"], "to": s["wallet"], "value": 1}).to_0x_hex()
        s["runner"].submit_tx(s["job_id"], pending)
        # The wallet "speeds it up": a new hash is accepted while the first is unmined.
        s["runner"].submit_tx(s["job_id"], "0x" + "cd" * 32)
        assert s["ctx"].journal.get(s["job_id"]).data["_tx_hash"] == "0x" + "cd" * 32
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
        w3.provider.make_request("evm_mine", [])
    # That hash is never seen: once set aside, the job may also be cancelled (nothing was sent).
    deadline = time.monotonic() + 30
    while s["ctx"].journal.get(s["job_id"]).data.get("_tx_hash"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert s["runner"].cancel(s["job_id"]).state in ("cancelled", "awaiting_signature")
    assert s["state_of"]("cancelled").state == "cancelled"
