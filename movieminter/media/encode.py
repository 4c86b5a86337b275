"""Frames -> segment video (+ poster + animated preview), in the movie's pinned profile.

One ffmpeg run decodes the frames once and writes both the MP4 and the
preview (a `split` filter), so the preview costs little on top of the encode.
Frames are streamed to ffmpeg's stdin (image2pipe), so any list of paths works
(Deforum's `{timestring}_{frame:09d}.png`, a placeholder card repeated, ...).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

import ffmpeg
from PIL import Image

from movieminter.media.mp4 import read_mp4
from movieminter.media.profile import (
    EncodingProfile,
    MediaError,
    ensure_dir,
    ffmpeg_exe,
    segment_of,
    soundtrack_of,
)

PREVIEW_WIDTH = 256
PREVIEW_FPS = 8
PREVIEW_MAX_FRAMES = 24  # the preview shows the whole segment in at most 3 s


@dataclasses.dataclass
class SegmentMedia:
    video: Path
    poster: Path | None
    preview: Path | None
    frame_count: int
    duration: float


# Deforum names frames `{timestring}_{frame:09d}.png` (timestring = %Y%m%d%H%M%S) and may
# write depth maps (`{timestring}_depth_{frame:09d}.png`) into the same folder.
DEFORUM_FRAME = re.compile(r"^\d{14}_\d{9}\.png$")


def list_frames(frames: Path | str | Iterable[Path | str]) -> list[Path]:
    """A directory or an explicit list of frame paths. From a directory: its
    Deforum frames if it has any (depth maps and other images left out), else
    every *.png; sorted by name."""
    if isinstance(frames, (str, Path)):
        folder = Path(frames)
        if not folder.is_dir():
            raise MediaError(
                f"frames folder {folder} does not exist",
                hint="pass the folder Deforum wrote the PNG frames to, or a list of frame files",
            )
        paths = sorted(folder.glob("*.png"))
        deforum = [p for p in paths if DEFORUM_FRAME.match(p.name)]
        paths = deforum or paths
        if not paths:
            raise MediaError(f"no *.png frames in {folder}", hint="render the segment first; frames must be PNG files")
        return paths
    paths = [Path(p) for p in frames]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise MediaError(
            f"{len(missing)} frame file(s) missing, e.g. {missing[0]}",
            hint="re-render the segment or pass the right frame list",
        )
    return paths


def check_frames(paths: list[Path], profile: EncodingProfile, seg: dict) -> None:
    """Fail before encoding: wrong frame count or size would make a segment that cannot be stitched."""
    expected = seg["frame_count"]
    problems = []
    if len(paths) != expected:
        problems.append(f"{len(paths)} frames given, segment {seg['index']} needs exactly {expected}")
    wrong = []
    for p in dict.fromkeys(paths):  # a repeated path (placeholder card) is read once
        try:
            with Image.open(p) as im:  # reads the header only
                size = im.size
        except OSError as exc:
            raise MediaError(f"frame {p.name} is not a readable image ({exc})", hint="re-render this frame") from None
        if size != (profile.width, profile.height):
            wrong.append(f"{p.name} is {size[0]}x{size[1]}")
    if wrong:
        problems.append(f"{len(wrong)} frame(s) not {profile.width}x{profile.height}: " + "; ".join(wrong[:3]))
    if problems:
        raise MediaError(
            "frames do not match the manifest: " + "; ".join(problems),
            hint=f"render segment {seg['index']} with the manifest's size "
            f"{profile.width}x{profile.height} and frame_count {expected}",
        )


def segment_times(manifest: dict, seg: dict) -> tuple[float, float]:
    """(soundtrack position, duration) in seconds of a segment's slice of the soundtrack."""
    fps = manifest["movie"]["fps"]
    offset = float((soundtrack_of(manifest) or {}).get("offset_seconds", 0))
    return offset + seg["start_frame"] / fps, seg["frame_count"] / fps


def audio_stream(profile: EncodingProfile, soundtrack: Path | None, start: float, duration: float):
    """The slice [start, start+duration) of the soundtrack (silence past its end), or silence.

    Input seeking (-ss before -i) with ffmpeg's default accurate_seek decodes
    from the preceding seek point and drops samples up to `start`, so the slice
    is sample-accurate without decoding the soundtrack from its beginning.
    """
    a = profile.audio
    layout = "mono" if a.channels == 1 else "stereo"
    if soundtrack is None:
        src = ffmpeg.input(f"anullsrc=r={a.sample_rate}:cl={layout}", format="lavfi")["a"]
    else:
        src = ffmpeg.input(str(soundtrack), ss=f"{start:.6f}")["a"]
    return (
        src.filter("aresample", a.sample_rate)
        .filter("aformat", sample_fmts="fltp", sample_rates=a.sample_rate, channel_layouts=layout)
        .filter("apad", whole_dur=f"{duration:.6f}")
        .filter("atrim", duration=f"{duration:.6f}")
    )


def build_encode_command(
    profile: EncodingProfile,
    frame_count: int,
    out_path: Path,
    *,
    audio_source: Path | None = None,
    audio_start: float = 0.0,
    preview_path: Path | None = None,
) -> list[str]:
    """The ffmpeg command (stdin: the PNG frames) for one segment, built with ffmpeg-python."""
    frames = ffmpeg.input("pipe:", format="image2pipe", framerate=profile.fps, vcodec="png")["v"]
    if preview_path is not None:
        split = frames.split()
        video, preview = split[0], split[1]
    else:
        video, preview = frames, None
    video = video.filter("scale", **profile.scale_filter_args()).filter("format", profile.pix_fmt)
    streams = [video]
    if profile.audio is not None:
        streams.append(audio_stream(profile, audio_source, audio_start, frame_count / profile.fps))
    outputs = [
        ffmpeg.output(
            *streams,
            str(out_path),
            **profile.video_args(),
            **profile.audio_args(),
            **profile.container_args(segment=True),
        )
    ]
    if preview is not None:
        step = max(1, -(-frame_count // PREVIEW_MAX_FRAMES))  # ceil
        preview = (
            preview.filter("select", f"not(mod(n,{step}))")
            .filter("setpts", f"N/({PREVIEW_FPS}*TB)")
            .filter("scale", PREVIEW_WIDTH, -2, flags="bicubic+bitexact")
        )
        outputs.append(
            ffmpeg.output(
                preview,
                str(preview_path),
                vcodec="libwebp_anim",
                format="webp",
                loop=0,
                quality=60,
                compression_level=4,
                r=PREVIEW_FPS,
                fflags="+bitexact",
                **{"flags:v": "+bitexact"},
            )
        )
    # -xerror: a frame that fails to decode stops ffmpeg (by default it is dropped, silently shortening the segment)
    return (
        ffmpeg.merge_outputs(*outputs)
        .global_args("-hide_banner", "-loglevel", "error", "-xerror")
        .compile(cmd=ffmpeg_exe(), overwrite_output=True)
    )


def pipe_frames(cmd: list[str], paths: list[Path], what: str) -> None:
    """Run ffmpeg, streaming the PNG files to its stdin; stderr is drained on a thread."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    last, data = None, b""
    try:
        for p in paths:
            if p != last:  # a placeholder repeats one card: read it once
                last, data = p, p.read_bytes()
            proc.stdin.write(data)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    proc.wait()
    reader.join()
    if proc.returncode != 0:
        tail = "\n".join(b"".join(err).decode(errors="replace").strip().splitlines()[-8:])
        raise MediaError(
            f"{what} failed (ffmpeg exit {proc.returncode}):\n{tail}",
            hint="check that every frame is a valid PNG of the manifest's size",
        )


def encode_segment(
    frames: list[Path] | Path,
    manifest: dict,
    index: int,
    out_path: Path | str,
    *,
    soundtrack: Path | str | None = None,
    poster: bool = True,
    preview: bool = True,
    allow_silence: bool = False,
) -> SegmentMedia:
    """Encode one segment's frames into `out_path` (fMP4) + `<stem>.poster.jpg` + `<stem>.preview.webp`.

    When the movie has a soundtrack, `soundtrack` (a local copy of the
    soundtrack file) is required: the segment carries its exact slice.
    """
    profile = EncodingProfile.from_manifest(manifest)
    seg = segment_of(manifest, index)
    paths = list_frames(frames)
    check_frames(paths, profile, seg)
    if profile.audio is not None and soundtrack is None and not allow_silence:
        raise MediaError(
            f"the movie has a soundtrack ({soundtrack_of(manifest)['cid']}) but none was given",
            hint="fetch the soundtrack file from IPFS and pass it (--soundtrack FILE)",
        )
    if profile.audio is None and soundtrack is not None:
        raise MediaError(
            "a soundtrack was given but the manifest has none",
            hint="add movie.soundtrack to the manifest, or encode without --soundtrack",
        )
    if soundtrack is not None and not Path(soundtrack).is_file():
        raise MediaError(
            f"soundtrack file {soundtrack} does not exist", hint="pass the path of the downloaded soundtrack"
        )
    out_path = ensure_dir(Path(out_path))
    preview_path = out_path.with_name(out_path.stem + ".preview.webp") if preview else None
    start, duration = segment_times(manifest, seg)
    # Written under temporary names and renamed on success: a crash never leaves
    # a truncated file where a finished segment is expected.
    part = out_path.with_name(out_path.name + ".part")
    preview_part = preview_path.with_name(preview_path.name + ".part") if preview_path else None
    cmd = build_encode_command(
        profile,
        len(paths),
        part,
        audio_source=Path(soundtrack) if soundtrack else None,
        audio_start=start,
        preview_path=preview_part,
    )
    try:
        pipe_frames(cmd, paths, f"encoding segment {index}")
        got = read_mp4(part).track("vide").sample_count
        if got != len(paths):
            raise MediaError(
                f"encoding segment {index} produced {got} frames from {len(paths)} PNG files",
                hint="a frame file is probably corrupt; re-render the segment",
            )
        if preview_part:
            preview_part.replace(preview_path)
        part.replace(out_path)
    finally:
        part.unlink(missing_ok=True)
        if preview_part:
            preview_part.unlink(missing_ok=True)
    poster_path = None
    if poster:
        poster_path = out_path.with_name(out_path.stem + ".poster.jpg")
        write_poster(paths[len(paths) // 2], poster_path)
    return SegmentMedia(out_path, poster_path, preview_path, len(paths), duration)


def write_poster(frame: Path, out: Path) -> Path:
    """The middle frame as a JPEG (Pillow's encoder is deterministic)."""
    with Image.open(frame) as im:
        im.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    return out
