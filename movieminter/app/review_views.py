"""The director's (or the collective leader's) review of minted segments, for the pages: every segment's review
state, and the unsigned `reviewSegment`, `submitSegment` and `setApprovalWindow` transactions (no FastAPI here;
routes_community is the HTTP layer). See docs/community.md."""

from __future__ import annotations

from eth_utils import to_checksum_address

from movieminter.app.community_views import _cid, _signed_in, community
from movieminter.app.errors import MovieError
from movieminter.chain.community import REVIEW_STATES
from movieminter.errors import MovieMinterError

MAX_REASON = 280  # characters of a rejection reason: a sentence, stored in an event


class CannotReview(MovieMinterError, status=409): ...


def _roles(ctx, com, movie_id: int) -> tuple[str, str | None, int]:
    director = ctx.chain.movie(movie_id)["director"]
    collective_id = com.call("collectiveOf", movie_id)
    leader = com.collective(collective_id).leader if collective_id else None
    return director, leader, collective_id


def reviews_view(ctx, movie_id: int, viewer: str | None, gateway: str) -> dict:
    """Every minted segment's review state, its holder and its video link; and each segment whose
    version was rejected (the token is burnt and the segment open to mint again) with the reason."""
    com = community(ctx)
    director, leader, _ = _roles(ctx, com, movie_id)
    window = int(com.call("approvalWindow", movie_id))
    reasons = {}
    for e in com.logs(com.contract.events.SegmentRejected, {"movieId": movie_id}):
        reasons[int(e["args"]["segment"])] = e["args"]["reason"]
    due = {}
    for e in com.logs(com.contract.events.SegmentSubmitted, {"movieId": movie_id}):
        due[int(e["args"]["segment"])] = int(e["args"]["autoApproveAt"])
    segs = ctx.chain.segments(movie_id, 0, None)
    minted = [s["segment"] for s in segs if s["status"] == "minted"]
    # one batch each for the minted segments' holders and review states, not two calls a segment
    holders = dict(
        zip(minted, ctx.chain.call_many("ownerOf", [(ctx.chain.token_id(movie_id, i),) for i in minted]), strict=True)
    )
    states = dict(zip(minted, com.call_many("reviewOf", [(movie_id, i) for i in minted]), strict=True))
    rows = []
    for s in segs:
        i = s["segment"]
        if s["status"] != "minted":
            if i in reasons:
                rows.append(_reopened_row(i, reasons[i]))
            continue
        state = REVIEW_STATES[int(states[i])]
        cid = _cid(s["contentDigest"])
        rows.append(
            {
                "segment": i,
                "minter": s["account"],
                "holder": holders[i],
                "state": state,
                "auto_approve_at": due.get(i) if state == "pending" else None,
                "rejected_because": None,
                "video_url": gateway + cid if cid else None,
            }
        )
    who = to_checksum_address(viewer) if viewer else None
    return {
        "movie": movie_id,
        "approval_window": window,
        "director": director,
        "leader": leader,
        "can_review": bool(who) and who in (director, leader),
        "segments": rows,
        "now": ctx.chain.timestamp(),
    }


def _reopened_row(segment: int, reason: str) -> dict:
    """A rejected version: its token was burnt, so no holder and no video; anyone may mint the segment again."""
    return {
        "segment": segment,
        "minter": None,
        "holder": None,
        "state": "reopened",
        "auto_approve_at": None,
        "rejected_because": reason,
        "video_url": None,
    }


def _reviewer(ctx, com, movie_id: int, sender: str | None) -> str:
    sender = to_checksum_address(_signed_in(sender, "review segments"))
    director, leader, _ = _roles(ctx, com, movie_id)
    if sender not in (director, leader):
        raise CannotReview(
            f"{sender} is neither movie {movie_id}'s director nor its collective's leader.",
            hint="Sign in with the director's (or the leader's) wallet.",
        )
    return sender


def review_tx(ctx, movie_id: int, segment: int, approve: bool, reason: str, sender: str | None) -> dict:
    """The unsigned `reviewSegment`: approve, or reject with a reason (public: it goes into an event)."""
    com = community(ctx)
    sender = _reviewer(ctx, com, movie_id, sender)
    reason = " ".join((reason or "").split())
    if not approve and not reason:
        raise MovieError("Say why you reject the segment.", hint="The minter reads the reason; it is public.")
    if len(reason) > MAX_REASON:
        raise MovieError(f"The reason is longer than {MAX_REASON} characters.", hint="One or two sentences.")
    state = com.review_of(movie_id, segment)
    if state != "pending":
        raise CannotReview(
            f"Segment {segment} is not waiting for review (it is {state}).",
            hint="Its holder submits it first; an approved segment stays approved.",
        )
    return {"tx": com.build_tx("reviewSegment", [movie_id, segment, approve, reason if not approve else ""], sender)}


def submit_tx(ctx, movie_id: int, segment: int, sender: str | None) -> dict:
    """The unsigned `submitSegment` for the segment token's holder."""
    com = community(ctx)
    sender = to_checksum_address(_signed_in(sender, "submit your segment"))
    if not int(com.call("approvalWindow", movie_id)):
        raise CannotReview(f"Movie {movie_id} does not require approval.", hint="Nothing to submit.")
    holder = ctx.chain.call("ownerOf", ctx.chain.token_id(movie_id, segment))
    if holder != sender:
        raise CannotReview(f"Segment {segment}'s token is held by {holder}.", hint="Its holder submits it.")
    return {"tx": com.build_tx("submitSegment", [movie_id, segment], sender)}


def approval_window_tx(ctx, movie_id: int, seconds: int, sender: str | None) -> dict:
    com = community(ctx)
    sender = _reviewer(ctx, com, movie_id, sender)
    if not 0 <= seconds < 2**32:
        raise MovieError("The approval window is out of range.", hint="Hours, up to a few years; 0 turns it off.")
    return {"tx": com.build_tx("setApprovalWindow", [movie_id, seconds], sender)}
