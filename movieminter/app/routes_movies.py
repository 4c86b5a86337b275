"""Movies as the minter tab sees them (mounted under /api/v1); the logic is in
movieminter.app.movies (timeline) and movieminter.app.scenes (one segment).

    GET  /movies/recent                               movies this browser opened, newest first
    GET  /movies/open?ref=ID|CID                      resolve an on-chain id or manifest CID, remember it
    GET  /movies/{id}                                 movie summary (title, mode, counts)
    GET  /movies/{id}/segments                        every segment's timeline cell, from ONE eth_call
    GET  /movies/{id}/segments/{n}                    scene detail: prompts, camera per frame, models, ETA
    POST /movies/{id}/segments/{n}/previews           render keyframe preview stills (A1111 txt2img)
    GET  /movies/{id}/segments/{n}/previews/{k}.png   one preview still
    GET  /movies/{id}/segments/{n}/thumb              the cell's thumbnail (poster if minted, else preview)
    POST /movies/{id}/segments/{n}/models/acquire     download missing models (safetensors only)
    POST /movies/{id}/tx                              {action: enter|claim, segment}: unsigned tx for the wallet
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from movieminter.app import scenes
from movieminter.app.deps import Browser, Ctx, Wallet
from movieminter.app.errors import MovieNotFound
from movieminter.app.params import UINT32_MAX, ItemIndex, JobId, MovieId, SegmentIndex, TxHash

router = APIRouter(prefix="/movies", tags=["movies"])


class TxIn(BaseModel):
    action: str
    segment: int | None = Field(None, ge=0, le=UINT32_MAX)


class RecentMovie(BaseModel):
    movie_id: int
    title: str | None
    manifest_cid: str | None
    opened: float


class RecentMovies(BaseModel):
    movies: list[RecentMovie]


class Receipt(BaseModel):
    status: int | None
    pending: bool | None = None
    message: str | None = None
    hint: str | None = None
    block_number: int | None = None
    gas_used: int | None = None


@router.get("/recent", response_model=RecentMovies)
def recent(ctx: Ctx, browser: Browser):
    return {"movies": ctx.movies.recent(browser)}


@router.get("/open")
def open_movie(ref: str, ctx: Ctx, browser: Browser):
    movie_id = ctx.movies.resolve(ref)
    out = ctx.movies.summary(movie_id)
    ctx.movies.remember(browser, movie_id, out["title"], out["manifest_cid"])
    return out


@router.get("/{movie_id}")
def movie(movie_id: MovieId, ctx: Ctx):
    return ctx.movies.summary(movie_id)


@router.get("/{movie_id}/segments")
def segments(movie_id: MovieId, ctx: Ctx, viewer: Wallet):
    return ctx.movies.timeline(movie_id, viewer)


@router.get("/{movie_id}/segments/{index}")
def scene(movie_id: MovieId, index: SegmentIndex, ctx: Ctx, viewer: Wallet):
    return scenes.scene(ctx, movie_id, index, viewer)


@router.post("/{movie_id}/segments/{index}/previews")
def make_previews(movie_id: MovieId, index: SegmentIndex, ctx: Ctx):
    return scenes.make_previews(ctx, movie_id, index)


@router.get("/{movie_id}/segments/{index}/previews/{k}.png")
def preview(movie_id: MovieId, index: SegmentIndex, k: ItemIndex, ctx: Ctx):
    path = scenes.preview_dir(ctx, movie_id, index) / f"{k}.png"
    if not path.is_file():
        raise MovieNotFound("No preview yet.", hint="Click Preview keyframes.")
    return FileResponse(path, media_type="image/png")


@router.get("/{movie_id}/segments/{index}/thumb")
def thumb(movie_id: MovieId, index: SegmentIndex, ctx: Ctx):
    path = scenes.thumbnail(ctx, movie_id, index)
    if path is None:
        raise MovieNotFound("No thumbnail yet.", hint="Mint or preview the segment.")
    if path.suffix == ".png":
        return FileResponse(path, media_type="image/png")
    return FileResponse(path, headers={"Cache-Control": "max-age=86400"})


@router.post("/{movie_id}/segments/{index}/models/acquire")
def acquire(movie_id: MovieId, index: SegmentIndex, ctx: Ctx):
    """Download the segment's missing models into a local A1111 (sha256-verified); for a remote
    A1111, each result's `instructions` say what to download and where to put it."""
    return scenes.acquire_models(ctx, movie_id, index)


@router.post("/{movie_id}/tx")
def prepare_tx(movie_id: MovieId, body: TxIn, ctx: Ctx, viewer: Wallet):
    """An unsigned transaction for the signed-in wallet (it signs and sends it itself)."""
    return {"tx": scenes.prepare_tx(ctx, movie_id, body.action, body.segment, viewer)}


@router.get("/{movie_id}/segments/{index}/video")
def job_video(movie_id: MovieId, index: SegmentIndex, job: JobId, ctx: Ctx):
    """The encoded segment of a job on this machine (before and after minting), with Range."""
    return FileResponse(scenes.job_video(ctx, movie_id, index, job), media_type="video/mp4")


@router.get("/{movie_id}/receipt/{tx_hash}", response_model=Receipt, response_model_exclude_unset=True)
def receipt(movie_id: MovieId, tx_hash: TxHash, ctx: Ctx):
    """A wallet-sent transaction's receipt (waits a moment, then says `status: null`: still pending,
    ask again); a revert comes back decoded (who holds the segment, ...)."""
    return scenes.receipt(ctx, tx_hash)
