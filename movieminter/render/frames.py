"""Deforum's frames: where they are, how many are done, and bringing them home.

Deforum writes `{outdir}/{timestring}_{frame:09d}.png`. When A1111 runs on
this machine the files are read (hardlinked or copied) directly; otherwise
they come over HTTP through gradio's `/file=` route. Either way they land in
a work folder we own, so later steps never depend on A1111's outputs.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from PIL import Image

from movieminter.render.a1111 import A1111Client
from movieminter.render.errors import FramesError


def frame_name(timestring: str, frame: int) -> str:
    return f"{timestring}_{frame:09d}.png"


def local_frames_done(outdir: str, timestring: str, total: int) -> int:
    """How many of the frames exist locally (Deforum writes them in order)."""
    done = 0
    while done < total and os.path.exists(os.path.join(outdir, frame_name(timestring, done))):
        done += 1
    return done


def check_frame(path: Path, width: int, height: int) -> None:
    try:
        with Image.open(path) as im:
            im.load()  # decodes every byte: a truncated PNG fails here
            size = im.size
    except Exception as exc:
        raise FramesError(f"frame {path.name} is not a readable PNG ({exc})", hint="render the segment again") from exc
    if size != (width, height):
        raise FramesError(
            f"frame {path.name} is {size[0]}x{size[1]}, the movie is {width}x{height}",
            hint="the settings A1111 used differ from the manifest's; check Deforum's W/H",
        )


def complete_frames(folder: Path, total: int, width: int, height: int) -> list[Path] | None:
    """The work folder's frames if all `total` are there and valid, else None."""
    paths = [folder / f"frame_{i:06d}.png" for i in range(total)]
    if not all(p.exists() for p in paths) or (folder / f"frame_{total:06d}.png").exists():
        return None
    try:
        for p in paths:
            check_frame(p, width, height)
    except FramesError:
        return None
    return paths


def collect_frames(
    client: A1111Client,
    outdir: str,
    timestring: str,
    total: int,
    width: int,
    height: int,
    dest: Path,
    writes: int | None = None,
) -> list[Path]:
    """Bring the first `total` frames of a finished job into `dest` as
    frame_000000.png…, checked. `writes` is how many the job's settings make
    Deforum write (more than `total` when cadence padding asked for extra)."""
    writes = total if writes is None else writes
    dest.mkdir(parents=True, exist_ok=True)
    local = client.is_local(outdir)
    if local:
        pattern = re.compile(re.escape(timestring) + r"_\d{9}\.png")  # not depth maps or settings
        found = [p for p in os.listdir(outdir) if pattern.fullmatch(p)]
        if len(found) != writes:
            raise FramesError(
                f"Deforum wrote {len(found)} frames where these settings write {writes} (the segment keeps {total})",
                hint="the job was changed or interrupted in A1111; render the segment again",
            )
    out = []
    for i in range(total):
        src = os.path.join(outdir, frame_name(timestring, i))
        target = dest / f"frame_{i:06d}.png"
        tmp = dest / f".frame_{i:06d}.png.part"
        if local:
            if not os.path.exists(src):
                raise FramesError(f"frame {i} ({src}) is missing", hint="render the segment again")
            if tmp.exists():
                tmp.unlink()
            try:
                os.link(src, tmp)  # no copy when A1111's outputs are on the same disk
            except OSError:
                shutil.copyfile(src, tmp)
        else:
            tmp.write_bytes(client.fetch_file(src))
        check_frame(tmp, width, height)
        tmp.replace(target)
        out.append(target)
    if not local:  # one more than expected means the job ran with other settings
        extra = os.path.join(outdir, frame_name(timestring, writes))
        try:
            client.fetch_file(extra)
        except FramesError:
            pass
        else:
            raise FramesError(
                f"Deforum wrote more than the {writes} frames these settings write",
                hint="the job ran with other settings (max_frames); render it again",
            )
    return out
