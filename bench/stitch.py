"""Stitching 1,000 short segments: movieminter.media.stitch_movie against the
I/O floor, copying the same bytes (shutil.copyfileobj of every segment file
into one file), in the same run.

    ./mm bench stitch [--segments 1000] [--frames 48] [--repeat 3]

Segments are real encodes at the example film's size (512x288, 12 fps): a few
distinct ones are encoded, then copied to make up the count (encoding 1,000
would take the whole time budget). Ours validates every file (box headers),
writes the concat list and chapters, and runs one ffmpeg stream copy plus the
faststart rewrite. Goal: ours / copy <= 3.
Prints the table and writes bench/results/stitch.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import tempfile
from pathlib import Path

from _common import HERE, best_of, report
from encode import make_frames

from movieminter.media.check import check_segment
from movieminter.media.encode import encode_segment
from movieminter.media.mp4 import read_mp4
from movieminter.media.stitch import stitch_movie

MANIFEST = HERE.parent / "examples" / "lighthouse.json"
DISTINCT = 4


def movie_manifest(count: int, frames: int) -> dict:
    m = json.loads(MANIFEST.read_text())
    base = m["segments"][0]
    m["segments"] = []
    for i in range(count):
        seg = copy.deepcopy(base)
        seg.update(index=i, title=f"Scene {i}", start_frame=i * frames, frame_count=frames, prompts={"0": "a scene"})
        seg.pop("camera", None)
        m["segments"].append(seg)
    return m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=48, help="frames per segment (the example film: 48 = 4 s)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    manifest = movie_manifest(args.segments, args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames = tmp / "frames"
        frames.mkdir()
        make_frames(frames, manifest, args.frames * DISTINCT)
        all_frames = sorted(frames.glob("*.png"))
        distinct = [
            encode_segment(
                all_frames[k * args.frames : (k + 1) * args.frames],
                manifest,
                k,
                tmp / f"distinct{k}.mp4",
                poster=False,
                preview=False,
            ).video
            for k in range(DISTINCT)
        ]
        segdir = tmp / "segments"
        segdir.mkdir()
        segments = {}
        for i in range(args.segments):
            segments[i] = segdir / f"{i:05d}.mp4"
            shutil.copyfile(distinct[i % DISTINCT], segments[i])
        total_bytes = sum(p.stat().st_size for p in segments.values())
        movie, floor_out = tmp / "movie.mp4", tmp / "copy.bin"
        minters = {i: "0x" + f"{i:040x}" for i in range(args.segments)}

        def copy_bytes():
            with open(floor_out, "wb") as out:
                for i in range(args.segments):
                    with open(segments[i], "rb") as f:
                        shutil.copyfileobj(f, out)

        def ours():
            stitch_movie(manifest, segments, movie, minters=minters, cache_dir=tmp / "cache")

        def validate_only():
            for i, p in segments.items():
                check_segment(p, manifest, i)

        copy_bytes()
        times = {"copy": [], "ours": [], "validate": []}
        for _ in range(args.repeat):
            for key, fn in (("copy", copy_bytes), ("ours", ours), ("validate", validate_only)):
                times[key].append(best_of(fn, 1))
        t_copy, t_ours, t_val = (min(times[k]) for k in ("copy", "ours", "validate"))
        frames_out = read_mp4(movie).track("vide").sample_count
        assert frames_out == args.segments * args.frames, frames_out
        rows = [
            {"case": f"copy the same bytes ({args.segments} files)", "seconds": t_copy, "ratio": 1.0},
            {
                "case": f"stitch_movie ({args.segments} segments)",
                "seconds": t_ours,
                "ratio": t_ours / t_copy,
                "goal": 3,
            },
            {"case": "  of which: check_segment on every file", "seconds": t_val, "ratio": t_val / t_copy},
        ]
        params = {
            "segments": args.segments,
            "frames_per_segment": args.frames,
            "bytes": total_bytes,
            "mean_segment_bytes": total_bytes // args.segments,
            "movie_bytes": movie.stat().st_size,
            "repeat": args.repeat,
        }
        report("stitch", rows, params)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
