"""The director's studio routes (mounted under /api/v1); the logic is in movieminter.app.director (create,
allowlist), movieminter.app.publish (what createMovie needs) and movieminter.app.activity (lottery, work)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from movieminter.app.activity import activity, lottery_report, my_assignments, render_details
from movieminter.app.deps import Ctx
from movieminter.app.director import (
    DirectorError,
    MovieTerms,
    build_allowlist,
    chain_clock,
    checked_manifest,
    import_deforum_segment,
    parse_allowlist_csv,
    validate,
)
from movieminter.app.errors import NotFound
from movieminter.app.params import UINT32_MAX, EthAddress, MovieId, SegmentIndex
from movieminter.app.publish import prepare_create
from movieminter.errors import MovieMinterError

router = APIRouter(tags=["director"])


class AllowlistBody(BaseModel):
    csv: str = ""
    segment_count: int | None = Field(None, ge=0, le=UINT32_MAX)


class AllowlistOut(BaseModel):
    root: str
    proofs_cid: str
    count: int


class ManifestBody(BaseModel):
    manifest: dict | str


class PreviewBody(ManifestBody):
    segment: int = Field(0, ge=0, le=UINT32_MAX)


class CreateBody(BaseModel):
    manifest: dict | str
    sender: EthAddress
    mode: str = "lottery"
    creator: EthAddress | None = None
    director: EthAddress | None = None
    ticket_price_wei: int = 10**15
    creator_bps: int = 3000
    director_bps: int = 2000
    minters_bps: int = 5000
    royalty_bps: int = 500
    entry_seconds: int = 3600
    claim_window_seconds: int = 7 * 24 * 3600
    entry_fee_wei: int = 0
    max_claims: int = Field(1, ge=1, le=8)
    allowlist_csv: str | None = None


class DeforumImportBody(BaseModel):
    settings: str = Field(min_length=1, max_length=2_000_000)  # the settings file's text
    manifest: dict | str | None = None  # the movie it goes into (its defaults are left out of the segment)
    at: int | None = Field(None, ge=0, le=UINT32_MAX)  # replace this segment; default: add after the last
    title: str | None = Field(None, max_length=200)


class SenderBody(BaseModel):
    sender: EthAddress


class PrepareBody(SenderBody):
    start: int = Field(0, ge=0, le=UINT32_MAX)
    count: int = Field(200, ge=1, le=500)  # a block holds ~600 segments' worth of storage writes


@router.post("/director/validate")
def validate_route(body: ManifestBody):
    """Validate a manifest: every problem with its JSON pointer and a hint, or a summary."""
    result = validate(body.manifest if isinstance(body.manifest, dict) else body.manifest.encode())
    result.pop("manifest", None)
    return result


@router.post("/director/deforum-import")
def deforum_import(body: DeforumImportBody):
    """A segment from a Deforum settings file (with notes on settings dropped or kept as overrides)."""
    return import_deforum_segment(body.settings, body.manifest or None, body.at, body.title)


@router.get("/director/chain-clock")
def clock(ctx: Ctx):
    """The chain's head block and timestamp and an estimated block time, for the studio's countdowns."""
    return chain_clock(ctx.chain)


@router.post("/director/previews")
def previews(body: PreviewBody, ctx: Ctx):
    """Keyframe stills of one segment rendered through A1111 (few steps)."""
    from movieminter.manifest import manifest_digest
    from movieminter.render.previews import keyframe_previews

    manifest = checked_manifest(body.manifest)
    if not 0 <= body.segment < len(manifest["segments"]):
        raise DirectorError(f"There is no segment {body.segment}.", hint=f"Pick 0..{len(manifest['segments']) - 1}.")
    key = manifest_digest(manifest).hex()[:16]
    out_dir = ctx.settings.path("previews", key, str(int(body.segment)))
    paths = keyframe_previews(ctx.a1111, manifest, int(body.segment), out_dir)
    return {"images": [f"api/v1/director/previews/{key}/{int(body.segment)}/{Path(p).name}" for p in paths]}


@router.get("/director/previews/{key}/{segment}/{name}")
def preview_file(key: str, segment: SegmentIndex, name: str, ctx: Ctx):
    # Only names this app wrote: hex key, a number, a plain file name (never a path from the request).
    if key.isalnum() and "/" not in name and "\\" not in name and not name.startswith(".") and name.endswith(".png"):
        path = ctx.settings.path("previews") / key / str(int(segment)) / name
        if path.is_file():
            return FileResponse(path, media_type="image/png")
    raise NotFound("No such preview.", hint="Render the previews again.")


@router.post("/director/create/tx")
def create_tx(body: CreateBody, ctx: Ctx):
    """Pin the manifest (and the allowlist proofs), then the unsigned createMovie tx for the wallet."""
    manifest = checked_manifest(body.manifest)
    terms = MovieTerms(
        **body.model_dump(exclude={"manifest", "sender", "allowlist_csv", "creator", "director"}),
        creator=body.creator or body.sender,
        director=body.director or body.sender,
    )
    terms.check()
    if body.mode == "allowlist" and not body.allowlist_csv:
        raise DirectorError("Allowlist mode needs a CSV of addresses.", hint="Choose the allowlist CSV file first.")
    prepared = prepare_create(ctx.store, ctx.chain, manifest, terms, body.allowlist_csv or "")
    fn, args = prepared["call"]
    allow = prepared["allowlist"]
    return {
        "tx": ctx.chain.build_tx(fn, args, body.sender),
        "manifest_cid": prepared["pinned"]["cid"],
        "allowlist": allow and {k: allow[k] for k in ("root", "proofs_cid", "count")},
    }


@router.post("/director/allowlist", response_model=AllowlistOut)
def allowlist_route(body: AllowlistBody, ctx: Ctx):
    """Root and pinned proofs of an allowlist CSV (to check it before creating the movie)."""
    return build_allowlist(ctx.store, parse_allowlist_csv(body.csv, body.segment_count))


@router.post("/director/movies/{movie_id}/lottery/{action}/tx")
def lottery_tx(movie_id: MovieId, action: str, body: SenderBody, ctx: Ctx):
    """Unsigned closeEntries / draw (anyone may send them; the seed cannot be chosen by the sender)."""
    fn = {"close": "closeEntries", "draw": "draw"}.get(action)
    if not fn:
        raise NotFound(f"Unknown lottery action {action!r}.", hint="close or draw")
    return {"tx": ctx.chain.build_tx(fn, [movie_id], body.sender)}


@router.post("/director/movies/{movie_id}/prepare/tx")
def prepare_tx(movie_id: MovieId, body: PrepareBody, ctx: Ctx):
    """Unsigned prepareSegments(from, count): the caller pre-pays the segments' digest storage, so each
    minter's mintSegment costs ~34,200 gas less (optional; ~45,000 gas per segment for the caller)."""
    return {"tx": ctx.chain.build_tx("prepareSegments", [movie_id, body.start, body.count], body.sender)}


@router.get("/director/movies/{movie_id}/lottery")
def lottery_route(movie_id: MovieId, ctx: Ctx):
    return lottery_report(ctx.chain, movie_id)


@router.get("/director/movies/{movie_id}/activity")
def activity_route(movie_id: MovieId, ctx: Ctx):
    from movieminter.app.viewer import movie_manifest

    try:
        manifest = movie_manifest(ctx, movie_id)
    except MovieMinterError:
        manifest = None  # titles are a nicety; the chain data is the point
    out = activity(ctx.chain, movie_id, manifest)
    render_details(ctx, movie_id, out["segments"])
    return out


@router.get("/movies/{movie_id}/my-assignments")
def assignments(movie_id: MovieId, address: str, ctx: Ctx):
    """Segments reserved for `address`, with the date to mint by (for the Minter tab)."""
    return {"movie_id": movie_id, "address": address, "assignments": my_assignments(ctx.chain, movie_id, address)}
