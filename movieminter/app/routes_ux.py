"""REST API the Minter tab's newer views use (mounted under /api/v1); domain logic lives in
FastAPI-free modules (lottery_status.py, frame_preview.py).

GET /ux/movies/{id}/lottery     the lottery's phase for the signed-in wallet (entered?, deadlines in chain time)
POST /ux/movies/{id}/draw/tx    the unsigned `draw` (record the seed) for the signed-in wallet, when readable
GET /ux/movies/{id}/segments/{n}/token   a minted segment's token: id, owner, CIDs, gateway/explorer links
GET /ux/jobs/{id}/frame         the newest rendered frame (JPEG, X-Frame: its number; 204 before the first),
                                for the job's own wallet only
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from movieminter.app.deps import Ctx, Wallet
from movieminter.app.frame_preview import newest_frame
from movieminter.app.lottery_status import draw_tx, lottery_status
from movieminter.app.params import JobId, MovieId, SegmentIndex
from movieminter.app.token_view import token_view

router = APIRouter(prefix="/ux", tags=["minter tab"])


@router.get("/movies/{movie_id}/lottery")
def lottery(movie_id: MovieId, ctx: Ctx, wallet: Wallet):
    return lottery_status(ctx.chain, movie_id, wallet)


@router.post("/movies/{movie_id}/draw/tx")
def draw(movie_id: MovieId, ctx: Ctx, wallet: Wallet):
    return draw_tx(ctx.chain, movie_id, wallet)


@router.get("/movies/{movie_id}/segments/{segment}/token")
def token(movie_id: MovieId, segment: SegmentIndex, ctx: Ctx):
    # Relative to the app when no public gateway is configured: the browser resolves it (also under a proxy).
    gateway = (ctx.settings.gateway_url.rstrip("/") + "/") if ctx.settings.gateway_url else "ipfs/"
    return token_view(ctx, movie_id, segment, gateway)


@router.get("/jobs/{job_id}/frame", responses={200: {"content": {"image/jpeg": {}}}, 204: {}})
def frame(job_id: JobId, ctx: Ctx, wallet: Wallet):
    found = newest_frame(ctx, job_id, wallet)
    if found is None:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    number, jpeg = found
    return Response(jpeg, media_type="image/jpeg", headers={"X-Frame": str(number), "Cache-Control": "no-store"})
