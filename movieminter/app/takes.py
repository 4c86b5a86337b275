"""Takes ballots in the Minter tab: where a segment's takes ballot stands for the signed-in wallet (may it
render a take, did its take win), the check a take job passes before anything is rendered, and turning a
recorded take's job into the mint of the winning take. The job steps are in take_steps.py, the routes in
routes_takes.py, the page part in static/minter-takes.js. See docs/community.md.

A take job is a render job with `take_ballot` (and the pass it records with) in its params: it renders,
encodes and pins like any job, then the wallet signs `recordTake` with the pinned digests, and the job
rests in `take_recorded`. If the take wins, "Mint winning take" moves that job back to `pinned`: the
ordinary mint steps mint the segment with the very files pinned for the take (nothing is rendered again).
"""

from __future__ import annotations

import time

from eth_utils import to_checksum_address

from movieminter.app.errors import NotSignedIn
from movieminter.errors import MovieMinterError


class CannotTake(MovieMinterError, status=409): ...


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(ts)))


def segment_ballot(com, movie_id: int, segment: int) -> int | None:
    """The takes ballot that holds the segment now (the newest one on it, unless released), or None."""
    opened = [
        int(e["args"]["ballotId"])
        for e in com.logs(com.contract.events.BallotOpened, {"movieId": movie_id})
        if e["args"]["takes"] and int(e["args"]["segment"]) == segment
    ]
    if not opened:
        return None
    ballot = opened[-1]
    if com.logs(com.contract.events.TakesReleased, {"ballotId": ballot}):
        return None
    return ballot


def winner_of(com, ballot: int) -> dict | None:
    """The settled winning take ({take, taker, content_digest, metadata_digest} as 0x-hex), or None."""
    for e in com.logs(com.contract.events.TakesSettled, {"ballotId": ballot}):
        a = e["args"]
        return {
            "take": int(a["take"]),
            "taker": to_checksum_address(a["taker"]),
            "content_digest": "0x" + bytes(a["contentDigest"]).hex(),
            "metadata_digest": "0x" + bytes(a["metadataDigest"]).hex(),
        }
    return None


def recorded_take(com, ballot: int, wallet: str, content_digest: str, metadata_digest: str) -> int | None:
    """The take number `wallet` recorded with exactly these digests in the ballot, or None."""
    for t in com.takes(ballot):
        if (
            t["taker"].lower() == wallet.lower()
            and "0x" + t["content_digest"].hex() == content_digest.lower()
            and "0x" + t["metadata_digest"].hex() == metadata_digest.lower()
        ):
            return int(t["take"])
    return None


def _job_of(ctx, movie_id: int, segment: int, wallet: str):
    chain_id, contract = ctx.chain_identity()
    return ctx.journal.find(chain_id, contract, movie_id, segment, wallet)


def take_view(ctx, movie_id: int, segment: int, viewer: str | None) -> dict:
    """Where the segment's takes ballot stands, and what the viewer may do: render a take (a pass holder
    while takes are open), mint the winning take (its author, with the job that pinned it), or why not."""
    from movieminter.app.community_views import community

    if not ctx.settings.community_address:
        return {"ballot": None}
    com = community(ctx)
    ballot = segment_ballot(com, movie_id, segment)
    if ballot is None or ctx.chain.segments(movie_id, segment, 1)[0]["status"] == "minted":
        return {"ballot": None}
    info = com.ballot(ballot)
    now = ctx.chain.timestamp()
    phase = "takes" if now < info["start"] else "voting" if now < info["end"] else "closed"
    takes = com.takes(ballot)
    winner = winner_of(com, ballot) if phase == "closed" else None
    out = {
        "ballot": ballot,
        "phase": phase,
        "start": info["start"],
        "end": info["end"],
        "now": now,
        "takes": len(takes),
        "winner": winner,
        "yours": [],
        "job": None,
        "can_take": False,
        "can_mint": False,
        "message": "",
    }
    collective = int(com.call("collectiveOf", movie_id))
    if not viewer:
        out["message"] = "Connect your wallet: holders of the collective's season pass render takes of this segment."
        return out
    viewer = to_checksum_address(viewer)
    out["yours"] = [int(t["take"]) for t in takes if t["taker"] == viewer]
    job = _job_of(ctx, movie_id, segment, viewer)
    if job is not None and job.params.get("take_ballot") == ballot:
        out["job"] = {"id": job.id, "state": job.state}
    passes = com.passes_of(collective, viewer) if collective else []
    if phase == "takes":
        if not passes:
            out["message"] = (
                f"Only holders of collective #{collective}'s season pass record takes; buy a pass in the "
                "Community card below."
            )
        elif len(takes) >= 8:
            out["message"] = "This ballot already has 8 takes, the most it holds."
        elif out["job"] is None and job is not None:
            out["message"] = f"You already have job {job.id} for this segment (state: {job.state})."
        elif out["job"] and job.state in ("failed", "cancelled"):
            out["can_resume"] = True
            out["message"] = f"Your take job {job.id} is {job.state}: resume it (nothing done is redone)."
        else:
            out["can_take"] = out["job"] is None
            out["message"] = f"Takes are recorded until {_when(info['start'])}; voting runs until {_when(info['end'])}."
    elif phase == "voting":
        out["message"] = f"Takes are closed; voting runs until {_when(info['end'])}. Vote in the Community card."
    else:
        out.update(_after_the_vote(winner, viewer, job))
    return out


def _after_the_vote(winner: dict | None, viewer: str, job) -> dict:
    """What the viewer may do once the vote is over: nothing until it is settled; the winner's author mints
    the take (from the job that recorded it here, or from the settled digests when it was recorded elsewhere)."""
    if winner is None:
        return {"message": "The vote is over; the director settles it (names the winning take) next."}
    take = f"Take {winner['take'] + 1}"
    if winner["taker"] != viewer:
        return {"message": f"{take} by {winner['taker']} won the vote; only its author mints it."}
    if job is None:  # recorded from the CLI or another app: the settled digests name its files
        message = f"Your take ({take}) won the vote: mint it as the segment, with the files the ballot names."
        return {"can_mint": True, "message": message + " Nothing is rendered again."}
    if job.params.get("take_from_chain"):
        return {
            "can_resume": job.state in ("failed", "cancelled"),
            "message": f"Your winning take ({take}) is minted by job {job.id} ({job.state}).",
        }
    if job.state == "take_recorded" and _same_files(job, winner):
        return {"can_mint": True, "message": f"Your take ({take}) won the vote: mint it as the segment."}
    return {
        "message": f"Your take ({take}) won, but your job {job.id} here ({job.state}) is not it: mint it from the "
        "app that rendered it, or with `movieminter mint`."
    }


def _same_files(job, winner: dict) -> bool:
    pinned = job.data.get("pinned") or {}
    return (
        str(pinned.get("content_digest", "")).lower() == winner["content_digest"]
        and str(pinned.get("metadata_digest", "")).lower() == winner["metadata_digest"]
    )


def admit_take(ctx, movie_id: int, segment: int, wallet: str, params: dict) -> dict:
    """Before a take job is journaled: the ballot holds this segment and still takes takes, and the wallet
    holds a pass of the movie's collective (its first pass records the take). Returns the params with it.
    A job minting a winning take recorded elsewhere (`take_from_chain`) needs the wallet to be its author."""
    view = take_view(ctx, movie_id, segment, wallet)
    if params.get("take_from_chain"):
        if view["ballot"] != int(params["take_ballot"]) or not view["can_mint"] or view["job"]:
            raise CannotTake(view.get("message") or "This take cannot be minted.", hint="Only the winner mints.")
        return params
    if view["ballot"] is None or view["ballot"] != int(params["take_ballot"]):
        raise CannotTake(
            f"Ballot {params['take_ballot']} is not taking takes of segment {segment} of movie {movie_id}.",
            hint="Open the segment in the tab: it shows the ballot that holds it, if any.",
        )
    if not view["can_take"]:
        raise CannotTake(view["message"] or "You cannot record a take here.", hint="See the segment's takes box.")
    com = ctx.community
    collective = int(com.call("collectiveOf", movie_id))
    return {**params, "take_pass": int(com.passes_of(collective, wallet)[0])}


def mint_winning_take(ctx, job_id: int, viewer: str | None) -> dict:
    """Moves a recorded take's job back to `pinned` when that take won: the mint steps then mint the segment
    with the take's pinned files (the contract accepts only the winner's exact digests, from its author)."""
    if not viewer:
        raise NotSignedIn("Connect and sign in with your wallet to mint.", hint="Click Connect wallet at the top.")
    job = ctx.journal.get(job_id)
    if not job.params.get("take_ballot") or job.wallet.lower() != viewer.lower():
        raise CannotTake(f"Job {job_id} is not your take.", hint="Sign in with the wallet that recorded the take.")
    if job.state != "take_recorded":
        raise CannotTake(f"Job {job_id} is {job.state}, not a recorded take.", hint="Follow the job in the tab.")
    view = take_view(ctx, job.movie_id, job.segment, viewer)
    if not view["can_mint"]:
        raise CannotTake(view["message"] or "This take cannot be minted.", hint="Only the settled winner mints.")
    # The recordTake hash must not be mistaken for the mint's; the pinned files are kept.
    for key, value in (("tx_hash", None), ("tx_since", None), ("ignored_txs", []), ("take_won", True)):
        ctx.journal.save(job_id, key, value)
    job = ctx.journal.transition(job_id, "pinned", job.data["pinned"], expect="take_recorded")
    ctx.runner.wake(job_id)
    return job.public()


def queue_take(ctx, movie_id: int, segment: int, ballot: int, viewer: str | None):
    """The signed-in wallet's take job (job, created): vetted by admit_take before it is journaled."""
    if not viewer:
        raise NotSignedIn("Connect and sign in with your wallet to render a take.", hint="Click Connect wallet.")
    viewer = to_checksum_address(viewer)
    existing = _job_of(ctx, movie_id, segment, viewer)
    if existing is not None and existing.params.get("take_ballot") != ballot:
        raise CannotTake(
            f"You already have job {existing.id} for segment {segment} ({existing.state}).",
            hint="One job per segment and wallet: follow that job in the tab.",
        )
    return _submit(ctx, movie_id, segment, viewer, {"take_ballot": ballot})


def _submit(ctx, movie_id: int, segment: int, wallet: str, params: dict):
    chain_id, contract = ctx.chain_identity()
    return ctx.runner.submit(
        chain_id=chain_id, contract=contract, movie_id=movie_id, segment=segment, wallet=wallet, params=params
    )


def mint_take_from_chain(ctx, movie_id: int, segment: int, viewer: str | None):
    """The winning take's author mints it from this app although another app (or the CLI) recorded it: a job
    that takes the settled digests as its pinned files and goes straight to the mint (take_steps.py)."""
    if not viewer:
        raise NotSignedIn("Connect and sign in with your wallet to mint.", hint="Click Connect wallet at the top.")
    viewer = to_checksum_address(viewer)
    existing = _job_of(ctx, movie_id, segment, viewer)
    if existing is not None and existing.params.get("take_from_chain"):
        return existing, False  # clicked again (or after the mint): the same job
    view = take_view(ctx, movie_id, segment, viewer)
    if view["ballot"] is None:
        raise CannotTake(f"No takes ballot holds segment {segment} of movie {movie_id}.", hint="Open the segment.")
    return _submit(ctx, movie_id, segment, viewer, {"take_ballot": view["ballot"], "take_from_chain": True})
