"""The newest frame of a job's render, small, for the Minter tab's live preview.

Deforum writes `{outdir}/{timestring}_{n:09d}.png` while it renders (the render state
the pipeline journals names outdir and timestring); once collected, the frames are in
the job's own folder. Only the job's wallet (its SIWE session) may look: a segment's
frames are its minter's until minted. Previews are downscaled JPEGs, cached by frame."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from movieminter.app.errors import NotSignedIn
from movieminter.errors import MovieMinterError

PREVIEW_MAX_SIDE = 384  # px: enough to judge a frame, small enough to poll
_CACHE_KEY = "_frame_previews"
_lock = threading.Lock()


class NotYourJob(MovieMinterError, status=403): ...


def _newest_local(outdir: Path, timestring: str, known: int) -> tuple[int, Path] | None:
    """The highest frame present (Deforum writes in order), starting from `known`."""
    from movieminter.render.frames import frame_name

    n = max(0, known - 1)
    if not (outdir / frame_name(timestring, n)).exists():
        n = 0
        if not (outdir / frame_name(timestring, 0)).exists():
            return None
    while (outdir / frame_name(timestring, n + 1)).exists():
        n += 1
    return n, outdir / frame_name(timestring, n)


def _newest_collected(folder: Path) -> tuple[int, Path] | None:
    files = sorted(folder.glob("*.png")) if folder.is_dir() else []
    return (len(files) - 1, files[-1]) if files else None


def _shrink(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as src:
        img = src.convert("RGB")
    img.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def newest_frame(ctx, job_id: int, wallet: str | None) -> tuple[int, bytes] | None:
    """(frame number, JPEG bytes) of the newest frame rendered for the job, or None
    when no frame exists yet. Raises unless `wallet` is the job's own."""
    job = ctx.journal.get(job_id)
    if not wallet:
        raise NotSignedIn("Sign in with your wallet to see the frames of your render.", hint="Click Connect wallet.")
    if wallet.lower() != str(job.wallet).lower():
        raise NotYourJob(
            "This render belongs to another wallet.", hint="Only the wallet minting a segment sees its frames."
        )
    from movieminter.app.pipeline import job_dir
    from movieminter.render.frames import frame_name

    state = job.data.get("_render") or {}
    # Frames are copied out of A1111 in order once rendered: until that is done, the
    # copy's newest frame is older than A1111's and the preview would go backwards.
    found = _newest_collected(job_dir(ctx, job) / "render" / "frames") if state.get("collected") else None
    outdir, ts = str(state.get("outdir") or ""), str(state.get("timestring") or "")
    remote: int | None = None
    if found is None and outdir and ts:
        done = int((ctx.events.last_progress(job_id) or {}).get("frame") or 0)
        if ctx.a1111.is_local(outdir):
            found = _newest_local(Path(outdir), ts, done)
        elif done:  # over A1111's file route: the newest frame the progress counts
            remote = done - 1
    if found is not None:
        number = found[0]
    elif remote is not None:
        number = remote
    else:
        return None
    cache = ctx.caches.setdefault(_CACHE_KEY, {})
    key = (job_id, number)
    with _lock:
        if key in cache:
            return number, cache[key]
    try:
        raw = found[1].read_bytes() if found else ctx.a1111.fetch_file(f"{outdir}/{frame_name(ts, number)}")
        small = _shrink(raw)
    except (OSError, ValueError, MovieMinterError):
        return None  # being written or not served: the next poll tries again
    with _lock:
        for old in [k for k in cache if k[0] == job_id]:
            del cache[old]  # one frame per job is all the preview needs
        cache[key] = small
    return number, small
