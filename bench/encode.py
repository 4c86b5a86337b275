"""Segment encoding: movieminter.media.encode_segment against the bare ffmpeg
command line with identical encoder parameters, in the same run.

    ./mm bench encode [--frames 240] [--repeat 5]   (or .venv/bin/python bench/encode.py)

Frames are PNGs at the example film's size (512x288). The bare command reads
them with ffmpeg's own image2 pattern and writes only the MP4; ours streams
them to ffmpeg (any list of paths works), checks their sizes first, and also
writes the poster and the animated preview. Goal: ours / bare <= 1.05.
Prints the table and writes bench/results/encode.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from _common import HERE, report, timed
from PIL import Image

from movieminter.media.encode import encode_segment
from movieminter.media.profile import SEGMENT_MOVFLAGS, EncodingProfile, ffmpeg_exe

MANIFEST = HERE.parent / "examples" / "lighthouse.json"


def make_frames(folder: Path, manifest: dict, count: int, noise: int = 12) -> None:
    """Moving gradients plus per-frame grain: about the bitrate of detailed AI-rendered
    frames at crf 20 (Deforum output changes everywhere from frame to frame)."""
    w, h = manifest["movie"]["width"], manifest["movie"]["height"]
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w]
    for i in range(count):
        r = (x + 3 * i) % 256
        g = (y * 2 + i) % 256
        b = ((x + y) // 2 + 5 * i) % 256
        img = np.stack([r, g, b], -1).astype(np.int16) + rng.integers(-noise, noise + 1, (h, w, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"frame_{i:09d}.png", compress_level=1)


def bare_command(profile: EncodingProfile, frames: Path, out: Path) -> list[str]:
    """What a person would type, with the same parameters the profile pins."""
    return [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-framerate",
        str(profile.fps),
        "-i",
        str(frames / "frame_%09d.png"),
        "-vf",
        f"scale={profile.width}:{profile.height}:flags=accurate_rnd+bitexact,format={profile.pix_fmt}",
        "-c:v",
        "libx264",
        "-profile:v",
        profile.profile,
        "-level:v",
        profile.level,
        "-pix_fmt",
        profile.pix_fmt,
        "-preset",
        profile.preset,
        "-crf",
        str(profile.crf),
        "-x264-params",
        profile.x264_params,
        "-flags:v",
        "+bitexact",
        "-fflags",
        "+bitexact",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-metadata",
        "creation_time=1970-01-01T00:00:00Z",
        "-movflags",
        SEGMENT_MOVFLAGS,
        "-video_track_timescale",
        str(profile.timescale),
        "-f",
        "mp4",
        str(out),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    manifest = json.loads(MANIFEST.read_text())
    manifest = copy.deepcopy(manifest)
    manifest["segments"][0]["frame_count"] = args.frames
    manifest["segments"] = manifest["segments"][:1]
    manifest["segments"][0]["prompts"] = {"0": manifest["segments"][0]["prompts"]["0"]}
    profile = EncodingProfile.from_manifest(manifest)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames = tmp / "frames"
        frames.mkdir()
        make_frames(frames, manifest, args.frames)
        bare_out, ours_out, video_out = tmp / "bare.mp4", tmp / "ours" / "seg.mp4", tmp / "video" / "seg.mp4"

        def bare():
            subprocess.run(bare_command(profile, frames, bare_out), check=True)

        def ours():
            encode_segment(frames, manifest, 0, ours_out)

        def ours_video_only():
            encode_segment(frames, manifest, 0, video_out, poster=False, preview=False)

        bare()  # warm the page cache and ffmpeg's binary
        wall = {"bare": [], "ours": [], "video": []}
        cpu = {"bare": [], "ours": [], "video": []}
        for _ in range(args.repeat):  # interleaved, so drifting load hits both alike
            for key, fn in (("bare", bare), ("ours", ours), ("video", ours_video_only)):
                w, c = timed(fn)
                wall[key].append(w)
                cpu[key].append(c)
        t = {k: min(v) for k, v in wall.items()}
        c = {k: min(v) for k, v in cpu.items()}
        same = bare_out.read_bytes() == video_out.read_bytes()
        rows = [
            {"case": "bare ffmpeg command line (MP4 only)", "seconds": t["bare"], "ratio": 1.0},
            {
                "case": "encode_segment: MP4 + poster + WebP preview",
                "seconds": t["ours"],
                "ratio": t["ours"] / t["bare"],
                "goal": 1.05,
            },
            {"case": "encode_segment: MP4 only", "seconds": t["video"], "ratio": t["video"] / t["bare"], "goal": 1.05},
            {"case": "CPU time: bare ffmpeg", "seconds": c["bare"], "ratio": 1.0},
            {"case": "CPU time: MP4 + poster + preview", "seconds": c["ours"], "ratio": c["ours"] / c["bare"]},
            {"case": "CPU time: MP4 only", "seconds": c["video"], "ratio": c["video"] / c["bare"]},
        ]
        params = {
            "frames": args.frames,
            "size": f"{profile.width}x{profile.height}",
            "fps": profile.fps,
            "profile": profile.describe(),
            "x264_params": profile.x264_params,
            "repeat": args.repeat,
            "mp4_identical_to_bare": same,
        }
        report("encode", rows, params)
        print(f"MP4 bytes identical to the bare command's: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
