"""One segment of a movie as the minter tab's scene view shows it: prompts, camera
curves, models, a render-time estimate, preview stills, the thumbnail, and the
transactions and receipts the page's wallet needs."""

from __future__ import annotations

import json
from pathlib import Path

from movieminter.app.errors import MovieError, MovieNotFound, NotSignedIn
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
RECEIPT_WAIT_SECONDS = 5  # a GET never holds a worker long; the page polls


def camera_curves(manifest: dict, segment: dict) -> list[dict]:
    """Each camera schedule evaluated on every frame of the segment (what the plot draws)."""
    from movieminter.manifest.schedules import evaluate_schedule

    frames = int(segment["frame_count"])
    camera = {**(manifest.get("defaults", {}).get("camera") or {}), **(segment.get("camera") or {})}
    curves = []
    for key, (label, neutral) in CAMERA_KEYS.items():
        text = camera.get(key, neutral)
        values = evaluate_schedule(text, frames, seed=int(segment.get("seed", 0) or 0))
        moves = key in camera and max(values) != min(values) or key in (segment.get("camera") or {})
        curves.append({"key": key, "label": label, "schedule": text, "values": values, "moves": moves})
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


def segment_of(manifest: dict, index: int) -> dict:
    for seg in manifest.get("segments", []):
        if int(seg.get("index", -1)) == index:
            return seg
    raise MovieNotFound(f"Segment {index} is not in this movie.", hint="Pick a segment from the timeline.")


def preview_dir(ctx, movie_id: int, index: int) -> Path:
    return ctx.settings.data_dir / "previews" / str(movie_id) / str(index)


def preview_urls(movie_id: int, index: int, names) -> list[str]:
    return [f"api/v1/movies/{movie_id}/segments/{index}/previews/{k}.png" for k in names]


def scene(ctx, movie_id: int, index: int, viewer: str | None) -> dict:
    info = ctx.movies.info(movie_id)
    manifest, cid = ctx.movies.manifest(movie_id, info)
    seg = segment_of(manifest, index)
    defaults = manifest.get("defaults", {})
    prompts = []
    for frame, text in sorted(seg.get("prompts", {}).items(), key=lambda kv: int(kv[0])):
        pos, neg = split_prompt(text)
        prompts.append({"frame": int(frame), "prompt": pos, "negative": neg})
    folder = preview_dir(ctx, movie_id, index)
    stills = sorted(folder.glob("*.png"), key=lambda p: int(p.stem)) if folder.exists() else []
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
        "models": model_readiness(ctx, manifest, index),
        "previews": preview_urls(movie_id, index, (p.stem for p in stills)),
        "estimate": estimate_seconds(manifest, seg, float(ctx.it_per_s)),
        "viewer": viewer,
        "mint_mode": info["mint_mode"],
        "manifest_cid": cid,
    }


def model_readiness(ctx, manifest: dict, index: int) -> dict:
    from movieminter.render.readiness import check_models

    try:
        statuses = check_models(ctx.a1111, manifest, index)
    except MovieMinterError as exc:
        return {"error": exc.to_dict(), "models": []}
    keys = ("name", "kind", "state", "message", "hint")
    return {"error": None, "models": [{k: getattr(s, k) for k in keys} for s in statuses]}


def manifest_and_segment(ctx, movie_id: int, index: int) -> dict:
    info = ctx.movies.info(movie_id)
    manifest, _ = ctx.movies.manifest(movie_id, info)
    segment_of(manifest, index)
    return manifest


def make_previews(ctx, movie_id: int, index: int) -> dict:
    from movieminter.render.previews import keyframe_previews

    manifest = manifest_and_segment(ctx, movie_id, index)
    out = ctx.settings.path("previews", str(movie_id), str(index))
    paths = keyframe_previews(ctx.a1111, manifest, index, out)
    for k, p in enumerate(paths):  # stable names 0.png, 1.png... for the routes
        target = out / f"{k}.png"
        if Path(p) != target:
            Path(p).replace(target)
    return {"previews": preview_urls(movie_id, index, range(len(paths)))}


def acquire_models(ctx, movie_id: int, index: int) -> dict:
    from movieminter.render.acquire import ensure_models_for_app

    manifest = manifest_and_segment(ctx, movie_id, index)
    results = ensure_models_for_app(ctx, manifest, index)
    keys = ("name", "kind", "action", "ok", "message", "hint", "instructions")
    return {
        "models": model_readiness(ctx, manifest, index),
        "results": [{k: getattr(r, k) for k in keys} for r in results],
    }


def thumbnail(ctx, movie_id: int, index: int) -> Path | None:
    """The cell's thumbnail: a minted segment's poster (fetched once), else the first preview still."""
    poster = ctx.settings.data_dir / "thumbs" / str(movie_id) / f"{index}.jpg"
    if not poster.exists():
        fetch_poster(ctx, movie_id, index, poster)
    if poster.exists():
        return poster
    local = preview_dir(ctx, movie_id, index) / "0.png"
    return local if local.exists() else None


def fetch_poster(ctx, movie_id: int, index: int, out: Path) -> None:
    """A minted segment's poster: its metadata (from the chain's digest) names the image."""
    from movieminter.ipfs.cid import digest_to_cid

    raw = ctx.movies.chain().segments(movie_id, index, 1)
    digest = raw[0]["metadataDigest"] if raw else None
    if not digest:
        return
    try:
        meta = json.loads(ctx.store.cat(digest_to_cid(digest)))
        image = str(meta.get("image", "")).removeprefix("ipfs://").split("/")[0]
        if image:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(ctx.store.cat(image))
    except (MovieMinterError, ValueError, KeyError):
        return  # not pinned here: the cell keeps its colour


def job_video(ctx, movie_id: int, index: int, job_id: int) -> Path:
    """The encoded segment of a job on this machine (before and after minting)."""
    try:
        found = ctx.journal.get(job_id)
    except Exception:
        found = None
    encoded = (found.data.get("encoded") or {}) if found else {}
    if not found or found.movie_id != movie_id or found.segment != index or not encoded:
        raise MovieNotFound("This job has no encoded video yet.", hint="Wait until the job is past the encoding step.")
    path = Path(encoded["video"])
    if not path.is_file():
        raise MovieNotFound(
            "The encoded video is no longer on this machine.",
            hint="Play it from IPFS instead (the minted token links it).",
        )
    return path


def prepare_tx(ctx, movie_id: int, action: str, segment: int | None, viewer: str | None) -> dict:
    """An unsigned enter / claim transaction for the signed-in wallet (it signs and sends it itself)."""
    if not viewer:
        raise NotSignedIn(
            "Connect and sign in with your wallet first.", hint="Click Connect wallet at the top of the page."
        )
    if action == "enter":  # enter is payable: the movie's entry fee goes with it
        chain = ctx.movies.chain()
        return chain.build_tx("enter", [movie_id], viewer, value=int(chain.movie(movie_id)["entryFee"]))
    if action == "claim":
        if segment is None:
            raise MovieError("Which segment? The claim needs a segment number.", hint="Pick a segment on the timeline.")
        return ctx.movies.chain().build_tx("claim", [movie_id, segment], viewer)
    raise MovieError(f"Unknown action {action!r}.", hint="Use enter or claim.")


def receipt(ctx, tx_hash: str) -> dict:
    """A wallet-sent transaction's receipt, `status: null` while it is still pending; a revert decoded."""
    from movieminter.chain.client import ChainError, ChainTimeout

    try:
        r = ctx.movies.chain().wait(tx_hash, timeout=RECEIPT_WAIT_SECONDS)
    except ChainTimeout:  # not mined yet
        return {"status": None, "pending": True}
    except ChainError as exc:  # mined, reverted
        return {"status": 0, "message": exc.message, "hint": exc.hint}
    return {"status": int(r["status"]), "block_number": int(r["blockNumber"]), "gas_used": int(r["gasUsed"])}
