"""Takes ballots in the browser (mounted under /api/v1): thin HTTP over movieminter.app.studio_ballots (the
Studio) and movieminter.app.takes (the Minter tab). Transactions are prepared for the signed-in wallet and
signed in the browser; receipts are read from GET /community/tx/{hash}.

GET  /takes/movies/{id}/ballots                   the movie's ballots, phases, tallies, what can be settled
POST /takes/movies/{id}/ballots/tx                unsigned openBallot (takes of a segment, or an idea)
POST /takes/ballots/{b}/settle/tx                 unsigned settleTakes with the chain's recorded takes
POST /takes/ballots/{b}/release/tx                unsigned releaseTakes
POST /takes/ballots/{b}/prepare/tx                unsigned prepareTicketVotes for ticket voters not prepared yet
GET  /takes/movies/{id}/segments/{n}              the segment's takes ballot for the signed-in wallet
POST /takes/movies/{id}/segments/{n}/job          queue a take job (render, pin, then sign recordTake)
POST /takes/jobs/{job}/mint                       the winning take's job mints the segment with its files
POST /takes/movies/{id}/segments/{n}/mint         a winning take recorded elsewhere: a job mints its files
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from movieminter.app import studio_ballots, takes
from movieminter.app.deps import Ctx, Wallet
from movieminter.app.params import JobId, MovieId, SegmentIndex
from movieminter.app.routes_community import BallotId, _gateway

router = APIRouter(prefix="/takes", tags=["takes"])


class OpenBody(BaseModel):
    kind: Literal["takes", "idea"]
    segment: int = Field(default=0, ge=0, le=2**32 - 1)
    options: list[str] = Field(default_factory=list, max_length=8)
    takes_minutes: float = Field(default=60, ge=0, le=60 * 24 * 365)
    vote_minutes: float = Field(default=1440, ge=1, le=60 * 24 * 365)


class TakeJobBody(BaseModel):
    ballot: int = Field(ge=1, le=2**64 - 1)


@router.get("/movies/{movie_id}/ballots")
def ballots(movie_id: MovieId, ctx: Ctx, wallet: Wallet):
    return studio_ballots.ballots(ctx, movie_id, wallet, _gateway(ctx))


@router.post("/movies/{movie_id}/ballots/tx")
def open_ballot(movie_id: MovieId, body: OpenBody, ctx: Ctx, wallet: Wallet):
    return studio_ballots.open_tx(
        ctx,
        movie_id,
        wallet,
        kind=body.kind,
        segment=body.segment,
        options=body.options,
        takes_minutes=body.takes_minutes,
        vote_minutes=body.vote_minutes,
    )


@router.post("/ballots/{ballot_id}/settle/tx")
def settle(ballot_id: BallotId, ctx: Ctx, wallet: Wallet):
    return studio_ballots.settle_tx(ctx, ballot_id, wallet)


@router.post("/ballots/{ballot_id}/release/tx")
def release(ballot_id: BallotId, ctx: Ctx, wallet: Wallet):
    return studio_ballots.release_tx(ctx, ballot_id, wallet)


@router.post("/ballots/{ballot_id}/prepare/tx")
def prepare_votes(ballot_id: BallotId, ctx: Ctx, wallet: Wallet):
    return studio_ballots.prepare_tx(ctx, ballot_id, wallet)


@router.get("/movies/{movie_id}/segments/{segment}")
def segment_take(movie_id: MovieId, segment: SegmentIndex, ctx: Ctx, wallet: Wallet):
    return takes.take_view(ctx, movie_id, segment, wallet)


@router.post("/movies/{movie_id}/segments/{segment}/job")
def take_job(movie_id: MovieId, segment: SegmentIndex, body: TakeJobBody, ctx: Ctx, wallet: Wallet):
    """The signed-in wallet's take job for this segment (the existing one when it is already queued)."""
    job, created = takes.queue_take(ctx, movie_id, segment, body.ballot, wallet)
    return JSONResponse({"created": created, "job": job.public()}, status_code=201 if created else 200)


@router.post("/jobs/{job_id}/mint")
def mint_winning_take(job_id: JobId, ctx: Ctx, wallet: Wallet):
    return takes.mint_winning_take(ctx, job_id, wallet)


@router.post("/movies/{movie_id}/segments/{segment}/mint")
def mint_take_from_chain(movie_id: MovieId, segment: SegmentIndex, ctx: Ctx, wallet: Wallet):
    job, created = takes.mint_take_from_chain(ctx, movie_id, segment, wallet)
    return JSONResponse({"created": created, "job": job.public()}, status_code=201 if created else 200)
