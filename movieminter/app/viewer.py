"""Viewers: the stitched movie and its chapters that credit each minter, the poster, and an HLS playlist.
The routes are in routes_viewer; tickets are in movieminter.app.tickets, the revenue dashboard in
movieminter.app.revenue_views.

Playback uses the movie stitched here from the minted segments (media.stitch);
an HLS playlist over IPFS gateway URLs (media.hls) is offered too, for players
that speak HLS natively.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from movieminter.app.errors import NotFound

_stitch_locks: dict[int, threading.Lock] = {}


# ---------------------------------------------------------------- chain reads
def movie_manifest(ctx, movie_id: int) -> dict:
    """The movie's manifest, fetched by the digest recorded on chain (and checked against that record)."""
    from movieminter.app.rights import movie_manifest as onchain

    return onchain(ctx, movie_id)[0]


def minted_segments(ctx, movie_id: int) -> list[dict]:
    """The minted segments from the chain's one-call `segments` view."""
    return [s for s in ctx.chain.segments(movie_id, 0, None) if s["status"] == "minted"]


def awaiting_approval(ctx, movie_id: int, segs: list[dict]) -> dict[int, dict]:
    """The minted segments (of `segs`) that do not play yet: the movie requires the director's approval
    (Community `approvalWindow`) and the segment is unsubmitted, or pending before its auto-approval time.
    {segment: {"review": "unsubmitted" | "pending", "auto_approve_at": unix time or None}}; empty for a movie
    that requires no approval. Chain time decides (`reviewOf`), as for the payout, so the answer changes once
    the director approves or the window ends."""
    from movieminter.chain.community import REVIEW_STATES

    if not ctx.settings.community_address or not segs:
        return {}
    community = ctx.community
    if not int(community.call("approvalWindow", movie_id)):
        return {}
    ids = sorted(s["segment"] for s in segs)
    # one round trip each for a movie's ~1,000 segments
    reviews = community.call_many("reviewOf", [(movie_id, i) for i in ids])
    approve_at = community.call_many("autoApproveAt", [(movie_id, i) for i in ids])
    out = {}
    for i, raw, at in zip(ids, reviews, approve_at, strict=True):
        review = REVIEW_STATES[int(raw)]
        if review in ("unsubmitted", "pending"):
            out[i] = {"review": review, "auto_approve_at": int(at) if review == "pending" else None}
    return out


def playable_segments(ctx, movie_id: int) -> list[dict]:
    """The minted segments that play: not those awaiting the director's approval."""
    segs = minted_segments(ctx, movie_id)
    held = awaiting_approval(ctx, movie_id, segs)
    return [s for s in segs if s["segment"] not in held]


def awaiting_text(held: dict) -> str:
    """What the chapter list says of a segment held back for approval."""
    from datetime import datetime, timezone

    if held["auto_approve_at"]:
        when = datetime.fromtimestamp(held["auto_approve_at"], timezone.utc).strftime("%Y-%m-%d %H:%M")
        return f"awaiting the director's approval (auto-approved {when} UTC)"
    return "awaiting the director's approval (not submitted for review yet)"


def chapters(ctx, movie_id: int) -> list[dict]:
    """One chapter per segment, crediting its minter (or saying it is still to be made, or that it awaits the
    director's approval: `awaiting` is that text, None for a segment that plays or is not minted)."""
    manifest = movie_manifest(ctx, movie_id)
    fps = manifest["movie"]["fps"]
    segs = minted_segments(ctx, movie_id)
    minters = {s["segment"]: s["account"] for s in segs}
    held = awaiting_approval(ctx, movie_id, segs)
    out, frames = [], 0
    for seg in sorted(manifest["segments"], key=lambda s: int(s["index"])):
        i = int(seg["index"])
        # times from whole frame counts (no drift summing float durations over 1,080 segments)
        start, frames = frames, frames + seg["frame_count"]
        out.append(
            {
                "index": i,
                "title": seg.get("title") or f"Segment {i}",
                "start": round(start / fps, 3),
                "end": round(frames / fps, 3),
                "minted": i in minters,
                "minter": minters.get(i),
                "awaiting": awaiting_text(held[i]) if i in held else None,
            }
        )
    return out


def webvtt_chapters(items: list[dict]) -> str:
    def ts(t: float) -> str:
        ms = int(round(t * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    lines = ["WEBVTT", ""]
    for c in items:
        credit = f"minted by {c['minter']}" if c["minter"] else "not minted yet"
        if c.get("awaiting"):
            credit += f", {c['awaiting']}"
        lines += [f"seg-{c['index']}", f"{ts(c['start'])} --> {ts(c['end'])}", f"{c['title']} ({credit})", ""]
    return "\n".join(lines)


# ----------------------------------------------------------- stitched movie
def segment_files(ctx, movie_id: int, segs: list[dict] | None = None) -> dict[int, Path]:
    """Local copies of the minted segment videos, fetched from the content store by the digest the
    chain recorded (so what plays is what was minted); each is fetched once."""
    from movieminter.ipfs.cid import digest_to_cid

    folder = ctx.settings.path("movies", str(int(movie_id)), "segments")
    out = {}
    for s in minted_segments(ctx, movie_id) if segs is None else segs:
        cid = digest_to_cid(s["contentDigest"])
        path = folder / f"{s['segment']:05d}-{cid}.mp4"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(ctx.store.cat(cid))
            tmp.replace(path)
        out[s["segment"]] = path
    return out


def stitched_movie(ctx, movie_id: int) -> Path:
    """The movie stitched from every minted segment (placeholders for the rest, and for the minted ones that
    await the director's approval), ending with the credits.

    Rebuilt only when the set of minted segments, their approval or the credits changed: the file name carries
    a digest of the minted content digests, the segments held back for approval and the credits."""
    from movieminter.app.community import credits_roll
    from movieminter.media.stitch import stitch_movie

    manifest = movie_manifest(ctx, movie_id)
    segs = minted_segments(ctx, movie_id)
    roll = credits_roll(ctx, movie_id)  # the end credits; a new pass holder or ENS name makes a new cut
    held = sorted(awaiting_approval(ctx, movie_id, segs))  # an approval (or the window ending) makes a new cut
    cut: list = [sorted((s["segment"], s["contentDigest"]) for s in segs), roll]
    if held:  # only then: the key of a movie without approval stays what it was
        cut.append(held)
    key = hashlib.sha256(json.dumps(cut).encode()).hexdigest()[:16]
    folder = ctx.settings.path("movies", str(int(movie_id)))
    out = folder / f"movie-{key}.mp4"
    lock = _stitch_locks.setdefault(int(movie_id), threading.Lock())
    with lock:
        if out.exists():
            return out
        files = segment_files(ctx, movie_id, [s for s in segs if s["segment"] not in held])
        minters = {s["segment"]: s["account"] or "" for s in segs}
        soundtrack = None
        track = manifest["movie"].get("soundtrack")
        if track:  # the manifest pins its soundtrack by CID; fetch it like the segments
            soundtrack = folder / f"soundtrack-{track['cid']}"
            if not soundtrack.exists():
                soundtrack.write_bytes(ctx.store.cat(track["cid"]))
        tmp = folder / f".movie-{key}.part.mp4"
        stitch_movie(
            manifest,
            files,
            tmp,
            minters=minters,
            soundtrack=soundtrack,
            cache_dir=ctx.settings.path("cache", "placeholders"),
            credits=roll,
            awaiting=set(held),
        )
        tmp.replace(out)
        for old in folder.glob("movie-*.mp4"):  # keep only the current cut
            if old != out:
                old.unlink(missing_ok=True)
    return out


def poster_jpg(ctx, movie_id: int) -> Path:
    """The movie's poster: the first frame of its first minted segment's video that plays (not one awaiting the
    director's approval), as a JPEG. The video is the one the chain recorded (fetched by its digest), so the
    still is minted content, not a stand-in."""
    from movieminter.ipfs.cid import digest_to_cid
    from movieminter.media.profile import ffmpeg_exe, run_ffmpeg

    segs = playable_segments(ctx, movie_id)
    if not segs:
        raise NotFound(
            f"No segment of movie {movie_id} is minted (and approved, where the director approves) yet, so it "
            "has no poster.",
            hint="The poster is a still of the first minted segment that plays.",
        )
    first = min(segs, key=lambda s: s["segment"])
    cid = digest_to_cid(first["contentDigest"])
    out = ctx.settings.path("movies", str(int(movie_id))) / f"poster-{first['segment']}-{cid}.jpg"
    if not out.exists():
        video = segment_files(ctx, movie_id, [first])[first["segment"]]
        tmp = out.with_name(f".{out.name}.part.jpg")
        run_ffmpeg(
            [ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-frames:v", "1", "-q:v", "3", str(tmp)],
            what=f"the poster from segment {first['segment']}",
        )
        tmp.replace(out)
    return out


def hls_playlist(ctx, movie_id: int, gateway_url: str) -> str:
    """An HLS playlist whose media are the minted segment videos on an IPFS gateway (`gateway_url`,
    e.g. the app's own /ipfs/ or a public one); byte layouts come from the local copies."""
    from movieminter.ipfs.cid import digest_to_cid
    from movieminter.media.hls import SegmentLayout, build_playlist

    segs = playable_segments(ctx, movie_id)  # awaiting the director's approval: a gap, as unminted
    files = segment_files(ctx, movie_id, segs)
    gateway = gateway_url.rstrip("/") + "/"
    urls = {s["segment"]: gateway + digest_to_cid(s["contentDigest"]) for s in segs}
    layouts = {i: SegmentLayout.of_file(p) for i, p in files.items()}
    return build_playlist(movie_manifest(ctx, movie_id), urls, layouts=layouts)
