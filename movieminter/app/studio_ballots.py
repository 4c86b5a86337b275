"""The Studio's ballots (the director's or the collective leader's): open a takes ballot on an unminted
segment or an idea ballot with 2-8 options, list the movie's ballots with their phase and tallies, settle a
finished takes ballot (its takes list comes from the chain's TakeRecorded events, as the CLI builds it),
release a segment whose winner did not mint it in time, and, before the vote ends, pre-pay the storage word
of ticket holders' first votes (prepareTicketVotes: their vote then costs ~46,000 gas, not ~63,000). Each
action is an unsigned transaction the browser wallet signs (static/studio-ballots.js). See
docs/director-guide.md.
"""

from __future__ import annotations

import json

from eth_utils import to_checksum_address

from movieminter.app.errors import MovieError, NotSignedIn
from movieminter.errors import MovieMinterError

MAX_LABEL = 200  # characters of an idea option's label
PREPARE_BATCH = 200  # ticket voters per prepareTicketVotes (~22,000 gas each: well under a block)


class CannotBallot(MovieMinterError, status=409): ...


def _com(ctx):
    from movieminter.app.community_views import community

    return community(ctx)


def _director(ctx, com, movie_id: int, sender: str | None) -> tuple[str, int]:
    """The sender, if it is the movie's director or its collective's leader; and the collective."""
    if not sender:
        raise NotSignedIn("Connect and sign in with your wallet to run ballots.", hint="Click Connect wallet.")
    sender = to_checksum_address(sender)
    director = ctx.chain.movie(movie_id)["director"]
    collective = int(com.call("collectiveOf", movie_id))
    leader = com.collective(collective).leader if collective else None
    if sender not in (director, leader):
        raise CannotBallot(
            f"{sender} is neither movie {movie_id}'s director nor its collective's leader.",
            hint="Sign in with the director's (or the leader's) wallet.",
        )
    if not collective:
        raise CannotBallot(
            f"Movie {movie_id} is not in a collective: ballots need its pass holders.",
            hint="Join the movie to a collective first (`movieminter director collective join`).",
        )
    return sender, collective


def open_tx(
    ctx,
    movie_id: int,
    sender: str | None,
    *,
    kind: str,
    segment: int,
    options: list[str],
    takes_minutes: float,
    vote_minutes: float,
) -> dict:
    """The unsigned `openBallot`: takes of `segment`, or an idea whose option labels are pinned as JSON
    ({"options": [...]}, its digest in the ballot). Voting starts `takes_minutes` after now (chain time;
    at least one minute, so the transaction still lands before it) and lasts `vote_minutes`."""
    from movieminter.app.director import chain_now
    from movieminter.ipfs.cid import cid_to_digest

    com = _com(ctx)
    sender, _ = _director(ctx, com, movie_id, sender)
    digest = b"\0" * 32
    if kind == "takes":
        count = int(ctx.chain.movie(movie_id)["segmentCount"])
        if not 0 <= segment < count:
            raise MovieError(f"Movie {movie_id} has segments 0 to {count - 1}.", hint="Pick one of them.")
        if ctx.chain.segments(movie_id, segment, 1)[0]["status"] == "minted":
            raise CannotBallot(f"Segment {segment} is minted already.", hint="Takes are for unminted segments.")
        n = 0
    else:
        labels = [" ".join(str(o).split())[:MAX_LABEL] for o in options if str(o).strip()]
        if not 2 <= len(labels) <= 8:
            raise MovieError("An idea ballot has 2 to 8 options.", hint="One option per line.")
        cid = ctx.store.add_bytes(json.dumps({"options": labels}, ensure_ascii=False).encode())
        ctx.store.pin(cid)
        digest, n, segment = cid_to_digest(cid), len(labels), 0
    start = chain_now(ctx.chain) + max(60, round(takes_minutes * 60))
    end = start + max(60, round(vote_minutes * 60))
    args = [movie_id, segment, kind == "takes", n, start, end, digest]
    return {"tx": com.build_tx("openBallot", args, sender), "start": start, "end": end}


def ballots(ctx, movie_id: int, viewer: str | None, gateway: str) -> dict:
    """The movie's ballots (phase, options, tallies) with what the Studio may do to each: Settle once a
    takes ballot's vote is over, Release once the winner's claim window passed without a mint."""
    from movieminter.app.community_views import ballot_view
    from movieminter.app.takes import winner_of

    if not ctx.settings.community_address:  # no Community contract: the Studio shows no ballots section
        return {"movie": movie_id, "community": False, "ballots": [], "can_open": False, "why_not": None}
    com = _com(ctx)
    window = int(ctx.chain.movie(movie_id)["claimWindow"])
    out = []
    for e in com.logs(com.contract.events.BallotOpened, {"movieId": movie_id}):
        b = int(e["args"]["ballotId"])
        view = ballot_view(ctx, b, viewer, gateway)
        view.pop("yours", None)
        released = bool(com.logs(com.contract.events.TakesReleased, {"ballotId": b}))
        winner = winner_of(com, b) if view["kind"] == "takes" else None
        minted = False
        if view["kind"] == "takes":
            minted = ctx.chain.segments(movie_id, view["segment"], 1)[0]["status"] == "minted"
        release_at = view["end"] + window
        open_vote = view["phase"] != "closed"
        view.update(
            to_prepare=len(com.ticket_voters_to_prepare(ctx.chain, b, movie_id)) if open_vote else 0,
            released=released,
            winner=winner,
            segment_minted=minted,
            release_at=release_at if view["kind"] == "takes" else None,
            can_settle=view["kind"] == "takes" and view["phase"] == "closed" and not winner and not released,
            can_release=view["kind"] == "takes" and view["now"] >= release_at and not released and not minted,
        )
        out.append(view)
    why = None  # why the signed-in wallet may not open ballots here (None: it may)
    try:
        _director(ctx, com, movie_id, viewer)
    except MovieMinterError as exc:
        why = (
            exc.message
            if viewer
            else "Only the director or the collective's leader opens ballots; sign in with that wallet."
        )
    return {"movie": movie_id, "community": True, "ballots": out, "can_open": why is None, "why_not": why}


def settle_tx(ctx, ballot_id: int, sender: str | None) -> dict:
    """The unsigned `settleTakes` with every recorded take, in take order (anyone may send it)."""
    if not sender:
        raise NotSignedIn("Connect and sign in with your wallet to settle.", hint="Click Connect wallet.")
    com = _com(ctx)
    takes = com.takes(ballot_id)
    arg = [(t["taker"], t["content_digest"], t["metadata_digest"]) for t in takes]
    return {"tx": com.build_tx("settleTakes", [ballot_id, arg], to_checksum_address(sender)), "takes": len(takes)}


def release_tx(ctx, ballot_id: int, sender: str | None) -> dict:
    if not sender:
        raise NotSignedIn("Connect and sign in with your wallet to release.", hint="Click Connect wallet.")
    return {"tx": _com(ctx).build_tx("releaseTakes", [ballot_id], to_checksum_address(sender))}


def prepare_tx(ctx, ballot_id: int, sender: str | None) -> dict:
    """The unsigned `prepareTicketVotes` for the next PREPARE_BATCH ticket voters whose first vote in the ballot
    would write a fresh storage word (anyone may send it; its sender pays those words)."""
    if not sender:
        raise NotSignedIn("Connect and sign in with your wallet to prepare votes.", hint="Click Connect wallet.")
    com = _com(ctx)
    info = com.ballot(ballot_id)
    voters = com.ticket_voters_to_prepare(ctx.chain, ballot_id, info["movie"])
    if not voters:
        raise CannotBallot(f"Ballot {ballot_id} has no ticket vote left to prepare.", hint="Nothing to do.")
    batch = voters[:PREPARE_BATCH]
    tx = com.build_tx("prepareTicketVotes", [ballot_id, batch], to_checksum_address(sender))
    return {"tx": tx, "voters": len(batch), "left": len(voters) - len(batch)}
