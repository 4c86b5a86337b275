"""The full movie: every segment in index order, by stream copy.

One ffmpeg run: the concat demuxer reads a list file of all segments (minted
ones and placeholders) and copies the video samples untouched; the soundtrack
is encoded once over the whole movie (re-using each segment's own AAC slice
would drift: every slice ends on a 1024-sample AAC frame); chapters come from
an ffmetadata file. Valid segments cost only a header read each, so 1,000+
segments are fine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import ffmpeg

from movieminter.media.check import check_segment
from movieminter.media.credits import make_credits
from movieminter.media.encode import audio_stream
from movieminter.media.mp4 import read_mp4
from movieminter.media.placeholder import AWAITING_APPROVAL, make_placeholder
from movieminter.media.profile import EncodingProfile, MediaError, ensure_dir, ffmpeg_exe, run_ffmpeg, soundtrack_of


def short_address(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def chapter_title(seg: dict, minter: str | None, present: bool = True, awaiting: bool = False) -> str:
    name = f"Segment {seg['index']}: {seg.get('title', '')}"
    if awaiting:
        return f"{name} — minted by {short_address(minter or '')}, awaiting the director's approval"
    if not present:
        return f"{name} — not minted yet"
    return f"{name} — minted by {short_address(minter)}" if minter else name


def _meta_escape(text: str) -> str:
    """ffmetadata escaping: '=', ';', '#', '\\' and newlines take a backslash."""
    for ch in "\\=;#\n":
        text = text.replace(ch, "\\" + ch)
    return text


def ffmetadata(
    manifest: dict,
    minters: dict[int, str],
    present: set[int],
    credits_frames: int = 0,
    awaiting: frozenset = frozenset(),
) -> str:
    fps = manifest["movie"]["fps"]
    lines = [";FFMETADATA1", f"title={_meta_escape(manifest['movie'].get('title', ''))}"]
    pos = 0
    for seg in sorted(manifest["segments"], key=lambda s: s["index"]):
        lines += [
            "[CHAPTER]",
            f"TIMEBASE=1/{fps}",
            f"START={pos}",
            f"END={pos + seg['frame_count']}",
            "title="
            + _meta_escape(
                chapter_title(seg, minters.get(seg["index"]), seg["index"] in present, seg["index"] in awaiting)
            ),
        ]
        pos += seg["frame_count"]
    if credits_frames:
        lines += ["[CHAPTER]", f"TIMEBASE=1/{fps}", f"START={pos}", f"END={pos + credits_frames}", "title=Credits"]
    return "\n".join(lines) + "\n"


# Per-file probing options. The concat demuxer runs avformat_find_stream_info on
# every file, which by default opens an H.264 decoder and decodes up to 7 frames
# to guess the decode delay. The segments were validated already and share one
# profile, and stream copy needs no decoder: read one packet and allow no
# decoder at all (the parameters come from the avcC). The output is
# byte-identical; on 1,000 segments the ffmpeg run is about 3x faster.
PROBE_OPTIONS = (("probesize", "32"), ("fpsprobesize", "0"), ("analyzeduration", "0"), ("codec_whitelist", "none"))


def concat_list(entries: list[tuple[Path, float]]) -> str:
    """An ffconcat list. `duration` pins each file's length to its frames, so a
    segment whose AAC slice runs a few ms past the video does not shift the next one."""
    out = ["ffconcat version 1.0"]
    options = [f"option {k} {v}" for k, v in PROBE_OPTIONS]
    for path, duration in entries:
        quoted = str(path.resolve()).replace("'", "'\\''")
        out += [f"file '{quoted}'", *options, f"duration {duration:.6f}"]
    return "\n".join(out) + "\n"


def validate_segments(manifest: dict, segments: dict[int, Path], profile: EncodingProfile) -> dict[int, dict]:
    """check_segment on every given file; one error listing every bad segment."""
    known = {s["index"] for s in manifest["segments"]}
    unknown = sorted(set(segments) - known)
    if unknown:
        raise MediaError(
            f"segment index(es) {unknown[:10]} are not in the manifest",
            hint=f"the manifest has segments {min(known)}..{max(known)}",
        )
    reports, errors = {}, []
    for index in sorted(segments):
        try:
            reports[index] = check_segment(segments[index], manifest, index, profile=profile)
        except MediaError as exc:
            errors.append(f"segment {index}: {exc.message}")
    if errors:
        raise MediaError(
            f"{len(errors)} segment file(s) cannot be stitched:\n" + "\n".join(errors),
            hint="re-encode those segments with `movieminter media encode`, or leave them out "
            "(a placeholder card fills their place)",
            problems=errors,
        )
    return reports


def moov_reserve(profile: EncodingProfile, frames: int, segments: int) -> int:
    """Bytes to reserve for the moov at the front of the movie (generous: unused room becomes a `free` box).

    With room reserved, the muxer writes the moov in place and the movie is
    faststart without `+faststart`'s second pass, which re-reads and re-writes
    the whole file (as long as copying every segment again)."""
    per_video_sample = 4 + 8 + 4 + 4  # stsz, ctts, stss and stts at worst
    audio_samples = 0
    if profile.audio is not None:
        audio_samples = int(frames / profile.fps * profile.audio.sample_rate / 1024) + 2 * segments + 16
    chunks = 2 * (frames // profile.fps + segments + 16)  # a chunk per track and second at most (co64 + stsc)
    return 16 * 1024 + 400 * segments + per_video_sample * frames + 8 * audio_samples + 20 * chunks


def build_stitch_command(
    profile: EncodingProfile,
    list_file: Path,
    meta_file: Path,
    out_path: Path,
    *,
    soundtrack: Path | None,
    audio_start: float,
    duration: float,
    moov_size: int | None = None,
) -> list[str]:
    """The ffmpeg command: video by stream copy from the concat list, soundtrack encoded once.

    The moov goes first: into `moov_size` reserved bytes, or else by `+faststart`."""
    # auto_convert=0: otherwise the concat demuxer inserts h264_mp4toannexb,
    # which rewrites samples (in-band SPS/PPS) instead of copying them.
    concat = ffmpeg.input(str(list_file), format="concat", safe=0, auto_convert=0)
    streams = [concat["v:0"]]
    audio = {}
    if profile.audio is not None:
        streams.append(audio_stream(profile, soundtrack, audio_start, duration))
        audio = profile.audio_args()
    args = (
        ffmpeg.output(
            *streams,
            str(out_path),
            vcodec="copy",
            **audio,
            format="mp4",
            fflags="+bitexact",
            **({"moov_size": moov_size} if moov_size else {"movflags": "+faststart"}),
            video_track_timescale=profile.timescale,
        )
        .global_args("-hide_banner", "-loglevel", "error")
        .compile(cmd=ffmpeg_exe(), overwrite_output=True)
    )
    # ffmpeg-python only emits inputs that feed a mapped stream, and the
    # ffmetadata input (movie title + chapters) has none: add it by hand.
    # Its metadata must be mapped too: with -map_metadata -1 the chapter titles are dropped.
    n_inputs = args.count("-i")
    last_input = max(i for i, a in enumerate(args) if a == "-i") + 2
    return (
        args[:last_input]
        + ["-f", "ffmetadata", "-i", str(meta_file), "-map_metadata", str(n_inputs), "-map_chapters", str(n_inputs)]
        + args[last_input:]
    )


def stitch_movie(
    manifest: dict,
    segments: dict[int, Path],
    out_path: Path | str,
    *,
    minters: dict[int, str] | None = None,
    soundtrack: Path | str | None = None,
    cache_dir: Path | str,
    credits: list[tuple[str, list[str]]] | None = None,
    awaiting: set[int] | frozenset = frozenset(),
) -> Path:
    """Write the full movie to `out_path` (faststart MP4); missing segments become placeholder cards.

    `segments` maps segment index -> local segment file; `minters` maps index
    -> minter address (chapter names); `soundtrack` is the local soundtrack
    file, required when the manifest has one; `cache_dir` is where placeholder
    segments are kept (the caller decides: media reads no settings of its own). `credits`, when given, is
    the end credits' roll, (heading, names) pairs (media.credits): drawn, encoded and appended after the last
    segment, with a "Credits" chapter. `awaiting`: minted segments held back until the director approves them
    (Community): they get a placeholder card saying so, not their video.
    """
    minters = minters or {}
    profile = EncodingProfile.from_manifest(manifest)
    awaiting = frozenset(int(i) for i in awaiting)
    segments = {int(i): Path(p) for i, p in segments.items() if int(i) not in awaiting}
    if profile.audio is not None and soundtrack is None:
        raise MediaError(
            f"the movie has a soundtrack ({soundtrack_of(manifest)['cid']}) but no soundtrack file was given",
            hint="fetch it from IPFS and pass it (--soundtrack FILE)",
        )
    if soundtrack is not None and not Path(soundtrack).is_file():
        raise MediaError(f"soundtrack file {soundtrack} does not exist", hint="pass the downloaded soundtrack file")
    reports = validate_segments(manifest, segments, profile)
    cache = Path(cache_dir)
    ordered = sorted(manifest["segments"], key=lambda s: s["index"])
    entries = []
    for seg in ordered:
        i = seg["index"]
        # Placeholders with silence: the movie's audio is the soundtrack encoded once over
        # everything, so their own audio is never used here (and one cache serves any soundtrack).
        if i in awaiting:
            path = make_placeholder(manifest, i, cache, status=AWAITING_APPROVAL)
        else:
            path = segments.get(i) or make_placeholder(manifest, i, cache)
        if i not in segments:
            reports[i] = check_segment(path, manifest, i, profile=profile)
        entries.append((path, seg["frame_count"] / profile.fps))
    credits_frames = 0
    if credits is not None:
        path, extended = make_credits(manifest, credits, cache)
        credits_frames = extended["segments"][-1]["frame_count"]
        reports[len(extended["segments"]) - 1] = check_segment(path, extended, len(extended["segments"]) - 1)
        entries.append((path, credits_frames / profile.fps))
    _same_parameter_sets(reports)
    out_path = ensure_dir(Path(out_path))
    total_frames = sum(s["frame_count"] for s in ordered) + credits_frames
    offset = float((soundtrack_of(manifest) or {}).get("offset_seconds", 0))
    with tempfile.TemporaryDirectory(prefix=".stitch-", dir=out_path.parent) as tmp:
        list_file, meta_file = Path(tmp) / "segments.ffconcat", Path(tmp) / "chapters.txt"
        list_file.write_text(concat_list(entries), encoding="utf-8")
        meta_file.write_text(ffmetadata(manifest, minters, set(segments), credits_frames, awaiting), encoding="utf-8")
        part = Path(tmp) / "movie.mp4"
        audio = dict(
            soundtrack=Path(soundtrack) if soundtrack else None,
            audio_start=offset + ordered[0]["start_frame"] / profile.fps,
            duration=total_frames / profile.fps,
        )
        cmd = build_stitch_command(
            profile, list_file, meta_file, part, **audio, moov_size=moov_reserve(profile, total_frames, len(ordered))
        )
        try:
            run_ffmpeg(cmd, what="stitching the movie")
        except MediaError as exc:
            if "reserved_moov_size is too small" not in exc.message:
                raise
            cmd = build_stitch_command(profile, list_file, meta_file, part, **audio)  # estimate missed: two passes
            run_ffmpeg(cmd, what="stitching the movie")
        got = read_mp4(part).track("vide").sample_count
        if got != total_frames:
            raise MediaError(
                f"the stitched movie has {got} frames, expected {total_frames}",
                hint="a segment file may be truncated; run `movieminter media check` on each",
            )
        part.replace(out_path)
    return out_path


def _same_parameter_sets(reports: dict[int, dict]) -> None:
    """Stream copy keeps the first file's SPS/PPS; every segment must share them."""
    groups: dict[str, list[int]] = {}
    for index, report in sorted(reports.items()):
        groups.setdefault(report.get("avcc", ""), []).append(index)
    if len(groups) > 1:
        main = max(groups.values(), key=len)
        odd = sorted(i for g in groups.values() if g is not main for i in g)
        raise MediaError(
            f"segments {odd[:20]} were encoded with different H.264 parameter sets than segments "
            f"{main[:5]}…, so they cannot be joined by stream copy",
            hint="re-encode those segments with `movieminter media encode` (same ffmpeg/x264 build)",
            segments=odd,
        )
