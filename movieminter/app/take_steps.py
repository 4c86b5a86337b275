"""The take job's own steps (see takes.py): the job renders, encodes and pins like a mint job, then the
wallet signs `recordTake(ballot, pass, contentDigest, metadataDigest)` instead of the mint, and the job rests
in `take_recorded`. A take is recorded once: the ballot's TakeRecorded events are checked for this job's
wallet and digests before the wallet is asked to sign, while waiting, and when the app starts again.

Each function here falls through to the ordinary mint step for mint jobs, and for a take job whose take won
(`_take_won`, set by takes.mint_winning_take): those mint the segment with the take's pinned files.
"""

from __future__ import annotations

import time

from movieminter.app.mint_steps import (
    CHAIN_POLL_SECONDS,
    DROPPED_AFTER_SECONDS,
    _check_chain_identity,
    _forget_tx,
    _replaced,
    confirm_mint,
    prepare_mint,
    settle_if_minted,
    tx_state,
)
from movieminter.app.steps import Goto
from movieminter.errors import MovieMinterError


def recording(job) -> bool:
    """A take job that has not won (yet): its signature records the take."""
    return bool(job.params.get("take_ballot")) and not job.saved("take_won")


def check_take(ctx, job) -> None:
    """queued (take jobs): the ballot still takes takes, so no GPU time goes into a take it would refuse."""
    from movieminter.app.takes import CannotTake, take_view

    view = take_view(ctx, job.movie_id, job.segment, job.wallet)
    if view["ballot"] != job.params["take_ballot"] or view["phase"] != "takes":
        raise CannotTake(
            f"Ballot {job.params['take_ballot']} no longer takes takes of segment {job.segment}.",
            hint=view.get("message") or "Takes are recorded only before the vote starts.",
        )


def _recorded(ctx, job) -> Goto | None:
    from movieminter.app.takes import recorded_take

    pinned = job.data["pinned"]
    ballot = int(job.params["take_ballot"])
    take = recorded_take(ctx.community, ballot, job.wallet, pinned["content_digest"], pinned["metadata_digest"])
    if take is None:
        return None
    return Goto("take_recorded", {"ballot": ballot, "take": take, "tx_hash": job.saved("tx_hash")})


def prepare(ctx, job) -> dict | Goto:
    """pinned -> awaiting_signature: the unsigned recordTake (a take job), else the mint."""
    if not recording(job):
        return prepare_mint(ctx, job)
    _check_chain_identity(ctx, job)
    done = _recorded(ctx, job)
    if done:
        return done
    pinned = job.data["pinned"]
    args = [
        int(job.params["take_ballot"]),
        int(job.params["take_pass"]),
        bytes.fromhex(pinned["content_digest"][2:]),
        bytes.fromhex(pinned["metadata_digest"][2:]),
    ]
    job.progress("preparing the take transaction")
    return {"tx": ctx.community.build_tx("recordTake", args, job.wallet), "function": "recordTake"}


def on_start(ctx, job) -> Goto | None:
    """The app starts with the job awaiting a signature: settled already on chain?"""
    if job.saved("tx_hash"):
        return None
    return _recorded(ctx, job) if recording(job) else settle_if_minted(ctx, job)


def confirm(ctx, job) -> dict | Goto:
    """awaiting_signature -> take_recorded: the TakeRecorded event with this job's wallet and digests (the
    browser POSTs the hash; a dropped or replaced transaction returns the job to the wallet), else the mint."""
    if not recording(job):
        return confirm_mint(ctx, job)
    from movieminter.chain.client import ChainError, ChainTimeout

    while True:
        done = _recorded(ctx, job)
        if done:
            return done
        tx_hash = job.saved("tx_hash")
        if not tx_hash:
            tx = job.data["awaiting_signature"]["tx"]
            if job.signer is None:
                job.progress("awaiting signature", tx=tx)
                tx_hash = job.wait_for_tx(timeout=CHAIN_POLL_SECONDS)
            else:
                job.check()
                tx_hash = str(job.signer(tx))
                tx_hash = tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash
                job.save("tx_hash", tx_hash)
            if not tx_hash:
                continue
        if not job.saved("tx_since"):
            job.save("tx_since", time.time())
        job.progress("confirming", tx_hash=tx_hash)
        try:
            ctx.community.wait(tx_hash, timeout=CHAIN_POLL_SECONDS)
        except ChainError as exc:  # mined, but reverted
            done = _recorded(ctx, job)
            if done:
                return done
            job.save("tx_hash", None)
            job.save("tx_since", None)
            raise MovieMinterError(
                f"recording the take ({tx_hash}) reverted: {exc.message}",
                hint=exc.hint or "retry the job to sign a new transaction",
            ) from None
        except ChainTimeout:
            job.check()
            state = tx_state(ctx, tx_hash)
            silent = time.time() - float(job.saved("tx_since") or time.time())
            if (state == "unknown" and silent > DROPPED_AFTER_SECONDS) or (
                state == "pending" and _replaced(ctx, tx_hash)
            ):
                _forget_tx(job, tx_hash, f"the transaction {tx_hash} was dropped or replaced; sign the take again")
            continue
        if not _recorded(ctx, job):
            _forget_tx(job, tx_hash, f"transaction {tx_hash} did not record this take; sign it in your wallet")
