"""Viewer routes (mounted under /api/v1): tickets, the player, chapters, revenue.
The logic is in movieminter.app.viewer, .tickets, .revenue_views and .receipts.

Access to the app's player is checked twice, on the stream URL handout and on
the stream itself: a SIWE session (routes_wallet) names the address, and the
contract's `hasTicket(movie, address)` must be true. That gates THIS app's
player only: every segment is pinned to IPFS, and IPFS content is public to
anyone who knows its CID (docs/security.md says so, and so does the page).
The stitched movie is served with HTTP Range so a plain <video> seeks.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field, StringConstraints

from movieminter.app import receipts, revenue_views, tickets, viewer
from movieminter.app.deps import Ctx, Wallet
from movieminter.app.errors import NoAddress
from movieminter.app.params import EthAddress, MovieId, TxHash

router = APIRouter(tags=["viewer"])


class TxBody(BaseModel):
    sender: EthAddress


class ClaimBody(BaseModel):
    sender: EthAddress
    # decimal strings (token ids exceed JavaScript's safe integers), each a uint256
    token_ids: list[Annotated[str, StringConstraints(pattern=r"^[0-9]{1,78}$")]] = Field(min_length=1, max_length=500)


class Chapter(BaseModel):
    index: int
    title: str
    start: float
    end: float
    minted: bool
    minter: str | None
    awaiting: str | None = None  # minted, but held back (a placeholder plays) until the director approves it


class Ticket(BaseModel):
    movie_id: int
    title: str
    director: str | None = None
    creator: str | None = None
    runtime_seconds: float | None = None  # frames / fps summed over the manifest's segments
    segment_count: int | None = None
    minted_count: int | None = None
    poster_url: str | None = None  # a still of the first minted segment; None while nothing is minted
    poster_segment: int | None = None
    price_wei: str
    address: str | None
    has_ticket: bool
    chapters: list[Chapter]
    public_notice: str


@router.get("/movies/{movie_id}/ticket", response_model=Ticket)
def ticket(movie_id: MovieId, ctx: Ctx, wallet: Wallet, address: str | None = None):
    """Price, title, chapters and whether `address` (default: the signed-in one) holds a ticket."""
    return tickets.ticket_info(ctx, movie_id, address or wallet)


@router.post("/movies/{movie_id}/ticket/tx")
def ticket_tx(movie_id: MovieId, body: TxBody, ctx: Ctx):
    """The unsigned buyTicket transaction (value = the ticket price) for the wallet to sign."""
    price = int(ctx.chain.movie(movie_id)["ticketPrice"])
    return {"tx": ctx.chain.build_tx("buyTicket", [movie_id], body.sender, price)}


@router.get("/movies/{movie_id}/watch")
def watch(movie_id: MovieId, ctx: Ctx, wallet: Wallet):
    """The stream URL and chapters, only for a signed-in ticket holder."""
    address = tickets.require_ticket(ctx, movie_id, wallet)
    return {
        "movie_id": movie_id,
        "address": address,
        "title": viewer.movie_manifest(ctx, movie_id)["movie"]["title"],
        "stream_url": f"api/v1/movies/{movie_id}/stream.mp4",
        "hls_url": f"api/v1/movies/{movie_id}/playlist.m3u8",
        "chapters_url": f"api/v1/movies/{movie_id}/chapters.vtt",
        "chapters": viewer.chapters(ctx, movie_id),
        "public_notice": tickets.PUBLIC_NOTICE,
    }


@router.get("/movies/{movie_id}/stream.mp4")
def stream(movie_id: MovieId, ctx: Ctx, wallet: Wallet):
    """The stitched movie (HTTP Range for seeking), for a signed-in ticket holder."""
    tickets.require_ticket(ctx, movie_id, wallet)
    path = viewer.stitched_movie(ctx, movie_id)
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, no-store"})


@router.get("/movies/{movie_id}/playlist.m3u8")
def playlist(movie_id: MovieId, request: Request, ctx: Ctx, wallet: Wallet):
    """HLS over the segment files on the IPFS gateway (the configured public one, else this app's /ipfs/)."""
    tickets.require_ticket(ctx, movie_id, wallet)
    gateway = ctx.settings.gateway_url or str(request.base_url) + "ipfs/"
    return Response(viewer.hls_playlist(ctx, movie_id, gateway), media_type="application/vnd.apple.mpegurl")


@router.get("/movies/{movie_id}/poster.jpg")
def poster(movie_id: MovieId, ctx: Ctx):
    """The first frame of the first minted segment that plays (public, like the segments on IPFS): shown before
    buying; a segment awaiting the director's approval is not the poster."""
    return FileResponse(viewer.poster_jpg(ctx, movie_id), media_type="image/jpeg")


@router.get("/movies/{movie_id}/revenue")
def movie_revenue(movie_id: MovieId, ctx: Ctx):
    """What each wallet can still collect from this movie's sales (creator, director, token holders), in wei."""
    return revenue_views.movie_revenue(ctx, movie_id)


@router.get("/movies/{movie_id}/chapters.vtt")
def chapters_vtt(movie_id: MovieId, ctx: Ctx):
    return PlainTextResponse(viewer.webvtt_chapters(viewer.chapters(ctx, movie_id)), media_type="text/vtt")


@router.get("/revenue")
def revenue_view(ctx: Ctx, wallet: Wallet, address: str | None = None):
    """Claimable balances of `address` (default: the signed-in wallet)."""
    address = address or wallet
    if not address:
        raise NoAddress("Which wallet?", hint="Connect your wallet, or pass ?address=0x...")
    return revenue_views.revenue(ctx, address)


@router.post("/revenue/withdraw/tx")
def withdraw_tx(body: TxBody, ctx: Ctx):
    return {"tx": ctx.chain.build_tx("withdraw", [], body.sender)}


@router.post("/revenue/movies/{movie_id}/collect/tx")
def collect_tx(movie_id: MovieId, body: TxBody, ctx: Ctx):
    """Credit the creator's and director's shares of the movie's sales (anyone may call)."""
    return {"tx": ctx.chain.build_tx("collect", [movie_id], body.sender)}


@router.post("/revenue/segments/claim/tx")
def claim_tx(body: ClaimBody, ctx: Ctx):
    """Credit the pool share of the given segment tokens to their holder."""
    return {"tx": ctx.chain.build_tx("claimSegmentRevenue", [[int(t) for t in body.token_ids]], body.sender)}


@router.get("/tx/{tx_hash}")
def tx_status(tx_hash: TxHash, ctx: Ctx):
    """pending | success | reverted, with the block and (for createMovie) the new movie id."""
    return receipts.receipt_status(ctx.chain, tx_hash)
