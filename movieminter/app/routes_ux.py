"""REST API the Minter tab's newer views use (mounted under /api/v1); domain logic lives in
FastAPI-free modules (lottery_status.py).

GET /ux/movies/{id}/lottery     the lottery's phase for the signed-in wallet (entered?, deadlines in chain time)
"""

from __future__ import annotations

from fastapi import APIRouter

from movieminter.app.deps import Ctx, Wallet
from movieminter.app.lottery_status import lottery_status
from movieminter.app.params import MovieId

router = APIRouter(prefix="/ux", tags=["minter tab"])


@router.get("/movies/{movie_id}/lottery")
def lottery(movie_id: MovieId, ctx: Ctx, wallet: Wallet):
    return lottery_status(ctx.chain, movie_id, wallet)
