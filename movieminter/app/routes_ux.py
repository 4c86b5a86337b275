"""REST API the Minter tab's newer views use (mounted under /api/v1); domain logic lives in
FastAPI-free modules (lottery_status.py).

GET /ux/movies/{id}/lottery     the lottery's phase for the signed-in wallet (entered?, deadlines in chain time)
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from movieminter.app.lottery_status import lottery_status
from movieminter.app.params import MovieId
from movieminter.app.routes_wallet import http_error, session_address
from movieminter.errors import MovieMinterError


def build_router(ctx) -> APIRouter:
    router = APIRouter(prefix="/ux", tags=["minter tab"])

    @router.get("/movies/{movie_id}/lottery")
    def lottery(movie_id: MovieId, request: Request):
        try:
            return lottery_status(ctx.chain, movie_id, session_address(ctx, request))
        except MovieMinterError as exc:
            raise http_error(exc, getattr(exc, "status", 400)) from exc

    return router
