"""The take job's own steps (see takes.py): the job renders, encodes and pins like a mint job, then the
wallet signs `recordTake(ballot, pass, contentDigest, metadataDigest)` instead of the mint, and the job rests
in `take_recorded`. A take is recorded once: the ballot's TakeRecorded events are checked for this job's
wallet and digests before the wallet is asked to sign, while waiting, and when the app starts again.

Each function here falls through to the ordinary mint step for mint jobs, and for a take job whose take won
(`_take_won`, set by takes.mint_winning_take): those mint the segment with the take's pinned files.

A winning take recorded elsewhere (the CLI, another app) is minted by a job with `take_from_chain`: its first
step takes the files the ballot settled on (their digests, as CIDs) and goes straight to `pinned`.
"""

from __future__ import annotations

from movieminter.app.mint_steps import (
    _check_chain_identity,
    confirm_mint,
    confirm_tx,
    pinned_digests,
    prepare_mint,
    settle_if_minted,
)
from movieminter.app.steps import Goto


def recording(job) -> bool:
    """A take job that has not won (yet): its signature records the take."""
    return bool(job.params.get("take_ballot")) and not job.saved("take_won")


def winner_from_chain(ctx, job) -> Goto:
    """queued -> pinned (a winning take recorded elsewhere): the settled winner's digests are the files to mint;
    nothing is rendered. Re-run after a crash, it finds the same winner."""
    from movieminter.app.takes import CannotTake, winner_of
    from movieminter.ipfs.cid import digest_to_cid

    job.progress("reading the winning take")
    winner = winner_of(ctx.community, int(job.params["take_ballot"]))
    if winner is None or winner["taker"].lower() != job.wallet.lower():
        raise CannotTake(
            f"Ballot {job.params['take_ballot']}'s winning take is not {job.wallet}'s.",
            hint="Only the settled winner's author mints it.",
        )
    job.save("take_won", True)
    content, metadata = winner["content_digest"], winner["metadata_digest"]
    return Goto(
        "pinned",
        {
            "video_cid": digest_to_cid(bytes.fromhex(content[2:])),
            "metadata_cid": digest_to_cid(bytes.fromhex(metadata[2:])),
            "content_digest": content,
            "metadata_digest": metadata,
        },
    )


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
    args = [int(job.params["take_ballot"]), int(job.params["take_pass"]), *pinned_digests(job)]
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
    return confirm_tx(
        ctx, job, ctx.community, _recorded, lambda _receipt, _hash: _recorded(ctx, job), "record this take"
    )
