"""Community routes (mounted under /api/v1): thin HTTP over movieminter.app.community (credits),
movieminter.app.community_views (passes, ballots) and movieminter.app.review_views (approval). Transactions are
prepared for the signed-in wallet and signed by it in the browser (static/community.js); the server holds no key.

GET  /movies/{id}/credits                         director, creator, leader, minters by segment, pass holders
GET  /community/movies/{id}                       the movie's collective pass and ballots (for anyone)
GET  /community/mine                              movies of the signed-in wallet's collectives
GET  /community/collectives/{c}/pass              pass prices, early tier left, the wallet's passes
POST /community/collectives/{c}/pass/tx           unsigned buyPass (value: the next pass's exact price)
GET  /community/ballots/{b}                       options (takes with videos, idea labels), tallies, votes left
POST /community/ballots/{b}/vote/tx               unsigned vote with the wallet's next unused pass or ticket
GET  /community/movies/{id}/reviews               minted segments' review states (the director's view)
POST /community/movies/{id}/segments/{n}/review/tx   approve, or reject with a reason
POST /community/movies/{id}/segments/{n}/submit/tx   the holder submits a segment for review
POST /community/movies/{id}/approval/tx           require approval: the auto-approval window in hours
GET  /community/tx/{hash}                         a receipt, reverts decoded with Community's errors
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from movieminter.app import community, community_views, review_views
from movieminter.app.deps import Ctx, Wallet
from movieminter.app.params import MovieId, SegmentIndex, TxHash

router = APIRouter(tags=["community"])

CollectiveId = Annotated[int, PathParam(ge=1, le=2**64 - 1, description="a collective's id")]
BallotId = Annotated[int, PathParam(ge=1, le=2**64 - 1, description="a ballot's id")]


class Person(BaseModel):
    address: str
    short: str


class SegmentCredit(BaseModel):
    index: int
    minter: Person | None


class Credits(BaseModel):
    movie: int
    director: Person | None
    creator: Person | None
    leader: Person | None
    segments: list[SegmentCredit]
    pass_holders: list[Person]


class VoteBody(BaseModel):
    option: int = Field(ge=0, le=7)


class ReviewBody(BaseModel):
    approve: bool
    reason: str = Field(default="", max_length=2000)


class WindowBody(BaseModel):
    hours: float = Field(ge=0, le=24 * 365 * 10)


def _gateway(ctx) -> str:
    # Relative to the app when no public gateway is configured: the browser resolves it (also under a proxy).
    return (ctx.settings.gateway_url.rstrip("/") + "/") if ctx.settings.gateway_url else "ipfs/"


@router.get("/movies/{movie_id}/credits", response_model=Credits)
def credits(ctx: Ctx, movie_id: MovieId):
    """Public: every name here is on chain already."""
    return community.credits_for(ctx, movie_id)


@router.get("/community/movies/{movie_id}")
def movie(movie_id: MovieId, ctx: Ctx, wallet: Wallet):
    return community_views.movie_view(ctx, movie_id, wallet, _gateway(ctx))


@router.get("/community/mine")
def mine(ctx: Ctx, wallet: Wallet):
    return community_views.my_movies(ctx, wallet)


@router.get("/community/collectives/{collective_id}/pass")
def pass_offer(collective_id: CollectiveId, ctx: Ctx, wallet: Wallet):
    return community_views.pass_offer(community_views.community(ctx), collective_id, wallet)


@router.post("/community/collectives/{collective_id}/pass/tx")
def buy_pass(collective_id: CollectiveId, ctx: Ctx, wallet: Wallet):
    return community_views.buy_pass_tx(community_views.community(ctx), collective_id, wallet)


@router.get("/community/ballots/{ballot_id}")
def ballot(ballot_id: BallotId, ctx: Ctx, wallet: Wallet):
    return community_views.ballot_view(ctx, ballot_id, wallet, _gateway(ctx))


@router.post("/community/ballots/{ballot_id}/vote/tx")
def vote(ballot_id: BallotId, body: VoteBody, ctx: Ctx, wallet: Wallet):
    return community_views.vote_tx(ctx, ballot_id, body.option, wallet)


@router.get("/community/movies/{movie_id}/reviews")
def reviews(movie_id: MovieId, ctx: Ctx, wallet: Wallet):
    return review_views.reviews_view(ctx, movie_id, wallet, _gateway(ctx))


@router.post("/community/movies/{movie_id}/segments/{segment}/review/tx")
def review(movie_id: MovieId, segment: SegmentIndex, body: ReviewBody, ctx: Ctx, wallet: Wallet):
    return review_views.review_tx(ctx, movie_id, segment, body.approve, body.reason, wallet)


@router.post("/community/movies/{movie_id}/segments/{segment}/submit/tx")
def submit(movie_id: MovieId, segment: SegmentIndex, ctx: Ctx, wallet: Wallet):
    return review_views.submit_tx(ctx, movie_id, segment, wallet)


@router.post("/community/movies/{movie_id}/approval/tx")
def approval_window(movie_id: MovieId, body: WindowBody, ctx: Ctx, wallet: Wallet):
    return review_views.approval_window_tx(ctx, movie_id, round(body.hours * 3600), wallet)


@router.get("/community/tx/{tx_hash}")
def tx_status(tx_hash: TxHash, ctx: Ctx):
    """pending | success | reverted (with the Community error explained)."""
    from movieminter.app.receipts import receipt_status

    return receipt_status(community_views.community(ctx), tx_hash)
