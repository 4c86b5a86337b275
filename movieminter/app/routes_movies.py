"""Movies as the minter tab sees them (mounted under /api/v1).

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

The chain is the truth for who may mint what; the journal adds what only this
app knows (a segment rendering here right now).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from movieminter.app.params import UINT32_MAX, ItemIndex, JobId, MovieId, SegmentIndex, TxHash
from movieminter.app.routes_wallet import browser_id, http_error, session_address
from movieminter.errors import MovieMinterError

CAMERA_KEYS = {  # Deforum schedule -> (label, neutral value when the manifest leaves it out)
    "zoom": ("Zoom", "0: (1.0)"),
    "angle": ("Angle (2D rotation)", "0: (0)"),
    "translation_x": ("Translation X", "0: (0)"),
    "translation_y": ("Translation Y", "0: (0)"),
    "translation_z": ("Translation Z", "0: (0)"),
    "rotation_3d_x": ("Rotation 3D X", "0: (0)"),
    "rotation_3d_y": ("Rotation 3D Y", "0: (0)"),
    "rotation_3d_z": ("Rotation 3D Z", "0: (0)"),
}
DEFAULT_IT_PER_S = 8.0  # a mid-range GPU at 512x512 (SD 1.5); the estimate says so
RECENT_LIMIT = 12
CID_RE = re.compile(r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,})$")


class MovieError(MovieMinterError):
    def __init__(self, message: str, hint: str | None = None, status: int = 400):
        super().__init__(message, hint)
        self.status = status


# -- reading the chain's answers (dicts or attribute objects) ---------------------------------


def _field(obj, *names, default=None):
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def _hex(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex() if any(value) else None
    text = str(value)
    return None if not text or set(text.removeprefix("0x")) <= {"0"} else text


def _addr(value) -> str | None:
    text = str(value) if value else ""
    return None if not text or int(text, 16) == 0 else text


STATUS_NAMES = dict(enumerate(("pending", "open", "claimed", "won", "allowlisted", "minted")))  # contract enum


def normalize_segment(raw, index: int) -> dict:
    """One segment of ChainClient.segments() as {index, chain_status, holder, deadline, digests}."""
    status = _field(raw, "status", "state", default=0)
    if isinstance(status, int):
        status = STATUS_NAMES.get(status, str(status))
    status = str(getattr(status, "name", status)).lower()
    holder = _addr(_field(raw, "account", "minter", "holder", "claimer", "winner"))
    return {
        "index": index,
        "chain_status": status,
        "holder": holder,
        "deadline": int(_field(raw, "deadline", "claim_deadline", "claimDeadline", default=0) or 0),
        "content_digest": _hex(_field(raw, "content_digest", "contentDigest")),
        "metadata_digest": _hex(_field(raw, "metadata_digest", "metadataDigest")),
    }


class Movies:
    """Movie lookups with small caches (manifests never change for a movie id)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._manifests: dict[int, tuple[dict, str]] = {}
        self._lock = threading.Lock()
        db = sqlite3.connect(str(ctx.settings.path() / "auth.sqlite3"), check_same_thread=False, isolation_level=None)
        db.execute(
            "CREATE TABLE IF NOT EXISTS recent (browser TEXT, movie_id INTEGER, title TEXT,"
            " manifest_cid TEXT, opened REAL, PRIMARY KEY (browser, movie_id))"
        )
        self._db = db

    # chain
    def chain(self):
        try:
            return self.ctx.chain
        except MovieMinterError:
            raise
        except Exception as exc:
            raise MovieError(
                "No blockchain is configured, so movies cannot be read.",
                hint="Set a chain preset (or RPC URL) and the contract address in the settings.",
                status=503,
            ) from exc

    def info(self, movie_id: int) -> dict:
        from movieminter.chain.client import ChainUnavailable

        try:
            raw = self.chain().movie(movie_id)
        except ChainUnavailable:
            raise  # not a missing movie: the chain itself is down or not configured (503)
        except MovieMinterError as exc:
            raise MovieError(
                f"Movie {movie_id} was not found on this chain.",
                hint=exc.hint or "Check the movie id; the director's page shows it.",
                status=404,
            ) from exc
        count = int(_field(raw, "segment_count", "segmentCount", default=0) or 0)
        if count == 0:
            raise MovieError(
                f"Movie {movie_id} does not exist on this chain.",
                hint="Check the movie id, or open the movie by its manifest CID.",
                status=404,
            )
        mode = _field(raw, "mint_mode", "mode", "mintMode", default="open")
        mode = str(getattr(mode, "name", mode)).lower()
        if mode.isdigit():
            mode = {0: "open", 1: "allowlist", 2: "lottery"}.get(int(mode), mode)
        return {
            "movie_id": movie_id,
            "segment_count": count,
            "mint_mode": mode,
            "manifest_digest": _hex(_field(raw, "manifest_digest", "manifestDigest")),
            "director": _field(raw, "director"),
            "creator": _field(raw, "creator"),
            "entry_deadline": int(_field(raw, "entry_deadline", "entryDeadline", default=0) or 0),
            "drawn": bool(_hex(_field(raw, "seed"))),
            "claim_window": int(_field(raw, "claim_window", "claimWindow", default=0) or 0),
            "allowlist_root": _hex(_field(raw, "allowlist_root", "allowlistRoot")) or "",
        }

    def manifest(self, movie_id: int, info: dict) -> tuple[dict, str]:
        """The movie's manifest, checked against the on-chain record (`info`)."""
        from movieminter.app.rights import check_segment_count

        with self._lock:
            cached = self._manifests.get(movie_id)
        if cached:
            check_segment_count(movie_id, info["segment_count"], cached[0])
            return cached
        from movieminter.ipfs.cid import digest_to_cid
        from movieminter.manifest import load_manifest

        digest = info["manifest_digest"]
        if not digest:
            raise MovieError(f"Movie {movie_id} records no manifest.", hint="Ask the director to republish it.")
        cid = digest_to_cid(digest)
        try:
            data = self.ctx.store.cat(cid)
        except MovieMinterError as exc:
            raise MovieError(
                f"The manifest of movie {movie_id} ({cid}) is not available from IPFS.",
                hint=exc.hint or "Check the IPFS settings, or pin the manifest on this store.",
                status=502,
            ) from exc
        manifest = load_manifest(data)
        check_segment_count(movie_id, info["segment_count"], manifest)
        with self._lock:
            self._manifests[movie_id] = (manifest, cid)
        return manifest, cid

    def find_by_cid(self, cid: str) -> int:
        """The movie whose manifest digest matches a CID (scans the contract's movies)."""
        from movieminter.ipfs.cid import cid_to_digest

        try:
            digest = "0x" + cid_to_digest(cid).hex()
        except Exception as exc:
            raise MovieError(
                f"{cid!r} is not a valid IPFS CID.", hint="Paste the manifest CID the director published."
            ) from exc
        chain = self.chain()
        count = int(chain.call("movieCount"))
        for movie_id in range(count, -1, -1):  # newest first
            try:
                info = self.info(movie_id)
            except MovieError:
                continue
            if (info["manifest_digest"] or "").lower() == digest.lower():
                return movie_id
        raise MovieError(
            f"No movie on this chain was published with manifest {cid}.",
            hint="Check the CID, or ask the director for the movie id.",
            status=404,
        )

    def remember(self, browser: str, movie_id: int, title: str, cid: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO recent VALUES (?, ?, ?, ?, ?)", (browser, movie_id, title, cid, time.time())
        )
        self._db.execute(
            "DELETE FROM recent WHERE browser = ? AND movie_id NOT IN (SELECT movie_id FROM recent"
            " WHERE browser = ? ORDER BY opened DESC LIMIT ?)",
            (browser, browser, RECENT_LIMIT),
        )

    def recent(self, browser: str) -> list[dict]:
        rows = self._db.execute(
            "SELECT movie_id, title, manifest_cid, opened FROM recent WHERE browser = ? ORDER BY opened DESC",
            (browser,),
        ).fetchall()
        return [{"movie_id": r[0], "title": r[1], "manifest_cid": r[2], "opened": r[3]} for r in rows]

    # timeline
    def segments(self, movie_id: int, info: dict, viewer: str | None, manifest: dict | None = None) -> list[dict]:
        """Every segment's cell from ONE eth_call, plus local job state and thumbnails."""
        from movieminter.app.rights import allowlist_tree

        raw = self.chain().segments(movie_id, 0, info["segment_count"])
        allowed: set[int] = set()
        if viewer and manifest is not None and info["mint_mode"] == "allowlist":
            tree = allowlist_tree(self.ctx.store, manifest, info["allowlist_root"])
            if tree is not None:  # the viewer's segments on the allowlist (no proof shown to anyone)
                allowed = {int(v["value"][1]) for v in tree.values if str(v["value"][0]).lower() == viewer.lower()}
        cells = [normalize_segment(r, i) for i, r in enumerate(raw)]
        jobs = self.jobs_by_segment(movie_id)
        previews = self.ctx.settings.data_dir / "previews" / str(movie_id)
        for cell in cells:
            job = jobs.get(cell["index"])
            status = cell["chain_status"]
            holder = (cell["holder"] or "").lower()
            mine = bool(viewer) and holder == viewer.lower()
            if status == "minted":
                state = "minted"
            elif job is not None and not job["terminal"]:
                state = "rendering"
            elif status in ("claimed", "won"):  # the contract already reopens expired reservations
                state = "yours" if mine else "assigned"
            elif status == "allowlisted":  # reserved for the allowlist's wallets until the deadline
                mine = cell["index"] in allowed
                state = "yours" if mine else "assigned"
                cell["allowlisted"] = True
            else:
                state = "open"  # open, or pending (lottery not drawn yet: enter it)
            cell["state"] = state
            cell["mine"] = mine
            cell["job"] = job
            cell["thumb"] = status == "minted" or (previews / str(cell["index"]) / "0.png").exists()
        return cells

    def jobs_by_segment(self, movie_id: int) -> dict[int, dict]:
        out: dict[int, dict] = {}
        try:
            jobs = self.ctx.journal.list(limit=5000)
        except Exception:  # journal not available: only the chain's view
            return out
        for job in reversed(jobs):  # oldest first, so the newest job of a segment wins
            if job.movie_id == movie_id:
                out[job.segment] = {"id": job.id, "state": job.state, "terminal": job.terminal, "wallet": job.wallet}
        return out


def movies(ctx) -> Movies:
    m = ctx.extras.get("movies")
    if m is None:
        m = ctx.extras["movies"] = Movies(ctx)
    return m


# -- scene detail -----------------------------------------------------------------------------


def camera_curves(manifest: dict, segment: dict) -> list[dict]:
    """Each camera schedule evaluated on every frame of the segment (what the plot draws)."""
    from movieminter.manifest.schedules import evaluate_schedule

    frames = int(segment["frame_count"])
    camera = {**(manifest.get("defaults", {}).get("camera") or {}), **(segment.get("camera") or {})}
    curves = []
    for key, (label, neutral) in CAMERA_KEYS.items():
        text = camera.get(key, neutral)
        values = evaluate_schedule(text, frames, seed=int(segment.get("seed", 0) or 0))
        curves.append(
            {
                "key": key,
                "label": label,
                "schedule": text,
                "values": values,
                "moves": key in camera and max(values) != min(values) or key in (segment.get("camera") or {}),
            }
        )
    return curves


def split_prompt(text: str) -> tuple[str, str]:
    """Deforum's `--neg` splits a frame prompt into positive and negative parts."""
    pos, _, neg = text.partition("--neg")
    return pos.strip(), neg.strip()


def estimate_seconds(manifest: dict, segment: dict, it_per_s: float) -> dict:
    """Diffusion steps Deforum will run for this segment, at a given speed."""
    defaults = manifest.get("defaults", {})
    frames = int(segment["frame_count"])
    cadence = max(1, int(segment.get("diffusion_cadence", defaults.get("diffusion_cadence", 1)) or 1))
    steps = int(segment.get("steps", defaults.get("steps", 20)) or 20)
    movie = manifest.get("movie", {})
    pixels = (int(movie.get("width", 512)) * int(movie.get("height", 512))) / (512 * 512)
    strength = 0.65
    try:
        from movieminter.manifest.schedules import evaluate_schedule

        strength = sum(evaluate_schedule(defaults.get("strength_schedule", "0: (0.65)"), frames)) / frames
    except Exception:
        pass
    diffusions = -(-frames // cadence)
    # the first frame is txt2img (all steps); later ones img2img at (1 - strength) of the steps
    total_steps = steps + (diffusions - 1) * max(1, round(steps * (1 - strength)))
    seconds = total_steps * max(pixels, 0.25) / it_per_s
    return {
        "seconds": round(seconds, 1),
        "diffusions": diffusions,
        "steps": total_steps,
        "it_per_s": it_per_s,
        "basis": f"{diffusions} diffused frames of {frames} (cadence {cadence}), about {total_steps} sampler "
        f"steps at {it_per_s:g} it/s",
    }


RECEIPT_WAIT_SECONDS = 5  # a GET never holds a worker long; the page polls


class TxIn(BaseModel):
    action: str
    segment: int | None = Field(None, ge=0, le=UINT32_MAX)


def build_router(ctx) -> APIRouter:
    router = APIRouter(prefix="/movies", tags=["movies"])

    def guard(fn, *args):
        try:
            return fn(*args)
        except MovieMinterError as exc:
            raise http_error(exc, getattr(exc, "status", 400)) from exc

    def summary(movie_id: int) -> dict:
        m = movies(ctx)
        info = m.info(movie_id)
        manifest, cid = m.manifest(movie_id, info)
        movie = manifest.get("movie", {})
        return {
            **info,
            "manifest_cid": cid,
            "title": movie.get("title", f"Movie {movie_id}"),
            "description": movie.get("description", ""),
            "fps": movie.get("fps"),
            "width": movie.get("width"),
            "height": movie.get("height"),
        }

    def segment_of(manifest: dict, index: int) -> dict:
        for seg in manifest.get("segments", []):
            if int(seg.get("index", -1)) == index:
                return seg
        raise MovieError(f"Segment {index} is not in this movie.", hint="Pick a segment from the timeline.", status=404)

    @router.get("/recent")
    def recent(request: Request, response: Response):
        return {"movies": movies(ctx).recent(browser_id(request, response))}

    @router.get("/open")
    def open_movie(ref: str, request: Request, response: Response):
        ref = ref.strip().removeprefix("ipfs://")

        def run():
            if ref.isdigit():
                movie_id = int(ref)
            elif CID_RE.match(ref):
                movie_id = movies(ctx).find_by_cid(ref)
            else:
                raise MovieError(
                    f"{ref!r} is neither a movie id nor a manifest CID.",
                    hint="Enter a number such as 1, or a CID such as bafy...",
                )
            out = summary(movie_id)
            movies(ctx).remember(browser_id(request, response), movie_id, out["title"], out["manifest_cid"])
            return out

        return guard(run)

    @router.get("/{movie_id}")
    def movie(movie_id: MovieId):
        return guard(summary, movie_id)

    @router.get("/{movie_id}/segments")
    def segments(movie_id: MovieId, request: Request):
        def run():
            m = movies(ctx)
            info = m.info(movie_id)
            viewer = session_address(ctx, request)
            manifest, _ = m.manifest(movie_id, info)
            titles = {int(s["index"]): s.get("title", "") for s in manifest.get("segments", [])}
            cells = m.segments(movie_id, info, viewer, manifest)
            for c in cells:
                c["title"] = titles.get(c["index"], "")
            return {
                "movie_id": movie_id,
                "viewer": viewer,
                "mint_mode": info["mint_mode"],
                "now": int(time.time()),
                "segments": cells,
            }

        return guard(run)

    @router.get("/{movie_id}/segments/{index}")
    def scene(movie_id: MovieId, index: SegmentIndex, request: Request):
        def run():
            m = movies(ctx)
            info = m.info(movie_id)
            manifest, cid = m.manifest(movie_id, info)
            seg = segment_of(manifest, index)
            defaults = manifest.get("defaults", {})
            prompts = []
            for frame, text in sorted(seg.get("prompts", {}).items(), key=lambda kv: int(kv[0])):
                pos, neg = split_prompt(text)
                prompts.append({"frame": int(frame), "prompt": pos, "negative": neg})
            preview_dir = ctx.settings.data_dir / "previews" / str(movie_id) / str(index)
            stills = sorted(preview_dir.glob("*.png"), key=lambda p: int(p.stem)) if preview_dir.exists() else []
            it_per_s = float(ctx.extras.get("it_per_s", DEFAULT_IT_PER_S))
            return {
                "movie_id": movie_id,
                "index": index,
                "title": seg.get("title", ""),
                "start_frame": seg.get("start_frame"),
                "frame_count": seg["frame_count"],
                "fps": manifest.get("movie", {}).get("fps"),
                "seed": seg.get("seed"),
                "prompts": prompts,
                "positive_suffix": defaults.get("positive_prompt", ""),
                "negative_prompt": seg.get("negative_prompt", defaults.get("negative_prompt", "")),
                "camera": camera_curves(manifest, seg),
                "models": model_readiness(manifest, index),
                "previews": [f"api/v1/movies/{movie_id}/segments/{index}/previews/{p.stem}.png" for p in stills],
                "estimate": estimate_seconds(manifest, seg, it_per_s),
                "viewer": session_address(ctx, request),
                "mint_mode": info["mint_mode"],
                "manifest_cid": cid,
            }

        return guard(run)

    def model_readiness(manifest: dict, index: int) -> dict:
        try:
            from movieminter.render.readiness import check_models

            statuses = check_models(ctx.a1111, manifest, index)
        except MovieMinterError as exc:
            return {"error": exc.to_dict(), "models": []}
        except ImportError:
            return {
                "error": {"message": "Model checks are not available in this build.", "hint": "Update Movie Minter."},
                "models": [],
            }
        return {
            "error": None,
            "models": [
                {
                    "name": _field(s, "name"),
                    "kind": _field(s, "kind"),
                    "state": _field(s, "state"),
                    "message": _field(s, "message", default=""),
                    "hint": _field(s, "hint", default=""),
                }
                for s in statuses
            ],
        }

    @router.post("/{movie_id}/segments/{index}/previews")
    def make_previews(movie_id: MovieId, index: SegmentIndex):
        def run():
            from movieminter.render.previews import keyframe_previews

            m = movies(ctx)
            info = m.info(movie_id)
            manifest, _ = m.manifest(movie_id, info)
            segment_of(manifest, index)
            out = ctx.settings.path("previews", str(movie_id), str(index))
            paths = keyframe_previews(ctx.a1111, manifest, index, out)
            for k, p in enumerate(paths):  # stable names 0.png, 1.png... for the routes
                target = out / f"{k}.png"
                if Path(p) != target:
                    Path(p).replace(target)
            return {
                "previews": [f"api/v1/movies/{movie_id}/segments/{index}/previews/{k}.png" for k in range(len(paths))]
            }

        return guard(run)

    @router.get("/{movie_id}/segments/{index}/previews/{k}.png")
    def preview(movie_id: MovieId, index: SegmentIndex, k: ItemIndex):
        path = ctx.settings.data_dir / "previews" / str(movie_id) / str(index) / f"{k}.png"
        if not path.is_file():
            raise HTTPException(404, {"message": "No preview yet.", "hint": "Click Preview keyframes."})
        return FileResponse(path, media_type="image/png")

    @router.get("/{movie_id}/segments/{index}/thumb")
    def thumb(movie_id: MovieId, index: SegmentIndex):
        local = ctx.settings.data_dir / "previews" / str(movie_id) / str(index) / "0.png"
        poster = ctx.settings.data_dir / "thumbs" / str(movie_id) / f"{index}.jpg"
        if not poster.exists():
            guard(fetch_poster, movie_id, index, poster)
        if poster.exists():
            return FileResponse(poster, headers={"Cache-Control": "max-age=86400"})
        if local.exists():
            return FileResponse(local, media_type="image/png")
        raise HTTPException(404, {"message": "No thumbnail yet.", "hint": "Mint or preview the segment."})

    def fetch_poster(movie_id: int, index: int, out: Path) -> None:
        """A minted segment's poster: its metadata (from the chain's digest) names the image."""
        from movieminter.ipfs.cid import digest_to_cid

        raw = movies(ctx).chain().segments(movie_id, index, 1)
        cell = normalize_segment(raw[0], index) if raw else None
        if not cell or not cell["metadata_digest"]:
            return
        try:
            meta = json.loads(ctx.store.cat(digest_to_cid(cell["metadata_digest"])))
            image = str(meta.get("image", "")).removeprefix("ipfs://").split("/")[0]
            if image:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(ctx.store.cat(image))
        except (MovieMinterError, ValueError, KeyError):
            return  # not pinned here: the cell keeps its colour

    @router.post("/{movie_id}/segments/{index}/models/acquire")
    def acquire(movie_id: MovieId, index: SegmentIndex):
        """Download the segment's missing models into a local A1111 (sha256-verified); for a remote
        A1111, each result's `instructions` say what to download and where to put it."""

        def run():
            from movieminter.render.acquire import ensure_models_for_app

            m = movies(ctx)
            info = m.info(movie_id)
            manifest, _ = m.manifest(movie_id, info)
            segment_of(manifest, index)
            results = ensure_models_for_app(ctx, manifest, index)
            return {
                "models": model_readiness(manifest, index),
                "results": [
                    {
                        "name": r.name,
                        "kind": r.kind,
                        "action": r.action,
                        "ok": r.ok,
                        "message": r.message,
                        "hint": r.hint,
                        "instructions": r.instructions,
                    }
                    for r in results
                ],
            }

        return guard(run)

    @router.post("/{movie_id}/tx")
    def prepare_tx(movie_id: MovieId, body: TxIn, request: Request):
        """An unsigned transaction for the signed-in wallet (it signs and sends it itself)."""

        def run():
            viewer = session_address(ctx, request)
            if not viewer:
                raise MovieError(
                    "Connect and sign in with your wallet first.",
                    hint="Click Connect wallet at the top of the page.",
                    status=401,
                )
            if body.action == "enter":
                tx = movies(ctx).chain().build_tx("enter", [movie_id], viewer)
            elif body.action == "claim":
                if body.segment is None:
                    raise MovieError(
                        "Which segment? The claim needs a segment number.", hint="Pick a segment on the timeline."
                    )
                tx = movies(ctx).chain().build_tx("claim", [movie_id, body.segment], viewer)
            else:
                raise MovieError(f"Unknown action {body.action!r}.", hint="Use enter or claim.")
            return {"tx": _jsonable(tx)}

        return guard(run)

    @router.get("/{movie_id}/segments/{index}/video")
    def job_video(movie_id: MovieId, index: SegmentIndex, job: JobId):
        """The encoded segment of a job on this machine (before and after minting), with Range."""
        try:
            found = ctx.journal.get(job)
        except Exception:
            found = None
        encoded = (found.data.get("encoded") or {}) if found else {}
        if not found or found.movie_id != movie_id or found.segment != index or not encoded:
            raise http_error(
                MovieError(
                    "This job has no encoded video yet.",
                    hint="Wait until the job is past the encoding step.",
                    status=404,
                )
            )
        path = Path(encoded["video"])
        if not path.is_file():
            raise http_error(
                MovieError(
                    "The encoded video is no longer on this machine.",
                    hint="Play it from IPFS instead (the minted token links it).",
                    status=404,
                )
            )
        return FileResponse(path, media_type="video/mp4")

    @router.get("/{movie_id}/receipt/{tx_hash}")
    def receipt(movie_id: MovieId, tx_hash: TxHash):
        """A wallet-sent transaction's receipt (waits a moment, then says `status: null`: still pending,
        ask again); a revert comes back decoded (who holds the segment, ...)."""
        from movieminter.chain.client import ChainError, ChainUnavailable

        try:
            r = movies(ctx).chain().wait(tx_hash, timeout=RECEIPT_WAIT_SECONDS)
        except ChainUnavailable:
            raise  # unknown yet, not failed: 503, and the page keeps polling
        except ChainError as exc:  # mined, reverted
            return {"status": 0, "message": exc.message, "hint": exc.hint}
        except MovieMinterError:  # not mined yet
            return {"status": None, "pending": True}
        return {"status": int(r["status"]), "block_number": int(r["blockNumber"]), "gas_used": int(r["gasUsed"])}

    return router


def _jsonable(tx: dict) -> dict:
    out = {}
    for k, v in dict(tx).items():
        if isinstance(v, (bytes, bytearray)):
            v = "0x" + bytes(v).hex()
        elif isinstance(v, int) and k not in ("chainId",):
            v = hex(v)
        elif hasattr(v, "hex") and not isinstance(v, str):
            v = v.to_0x_hex() if hasattr(v, "to_0x_hex") else "0x" + v.hex()
        out[k] = v
    return out
