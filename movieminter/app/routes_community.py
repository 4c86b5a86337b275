"""Community views (mounted under /api/v1); the logic is in movieminter.app.community.

GET /movies/{id}/credits   director, creator, collective leader, minters by segment, pass holders
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from movieminter.app import community
from movieminter.app.deps import Ctx
from movieminter.app.params import MovieId

router = APIRouter(prefix="/movies", tags=["community"])


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


@router.get("/{movie_id}/credits", response_model=Credits)
def credits(ctx: Ctx, movie_id: MovieId):
    """Public: every name here is on chain already."""
    return community.credits_for(ctx, movie_id)
