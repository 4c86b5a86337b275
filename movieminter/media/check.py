"""Validate a segment file against the movie's encoding profile.

Used before stitching (every segment must fit, or stream copy breaks) and to
check segments other people minted. Reads only the MP4 boxes (see mp4.py),
so it is cheap enough to run on 1,000 segments.
"""

from __future__ import annotations

import functools
from pathlib import Path

from movieminter.media.mp4 import Mp4FormatError, Track, nal_types, parse_avcc, read_mp4, read_sample
from movieminter.media.profile import EncodingProfile, MediaError, segment_of

REENCODE = "re-encode it from its frames with `movieminter media encode`"
CHROMA = {0: "gray", 1: "yuv420p", 2: "yuv422p", 3: "yuv444p"}
PROFILE_NAMES = {66: "baseline", 77: "main", 100: "high", 110: "high10", 122: "high422", 244: "high444"}


def check_segment(
    path: Path | str, manifest: dict, index: int | None = None, *, profile: EncodingProfile | None = None
) -> dict:
    """Return a report of the segment's properties; raise MediaError listing every mismatch.

    With `index`, the frame count and duration must be that segment's; without,
    they must match some segment of the manifest.
    """
    path = Path(path)
    profile = profile or EncodingProfile.from_manifest(manifest)
    if not path.is_file():
        raise MediaError(f"segment file {path} does not exist", hint="check the path (or download the segment first)")
    try:
        info = read_mp4(path)
    except Mp4FormatError as exc:
        raise MediaError(f"{path.name} is not a readable MP4: {exc}", hint=REENCODE) from None
    problems: list[str] = []
    expect = functools.partial(_expect, problems)
    report: dict = {"path": str(path), "size": info.size, "fragmented": info.fragmented}
    expect(
        "layout",
        "fragmented MP4 (moov, then moof/mdat pairs)",
        "fragmented MP4 (moov, then moof/mdat pairs)" if info.fragmented else "regular MP4 (one moov index)",
    )
    video = info.track("vide")
    if video is None:
        raise MediaError(f"{path.name} has no video track", hint=REENCODE)
    expect("codec", "h264 (avc1)", "h264 (avc1)" if video.codec == "avc1" else f"{video.codec} (not H.264 in avc1)")
    if video.codec == "avc1" and video.avcc:
        _check_h264(path, video, video.avcc, profile, problems, report)
    expect(
        "resolution",
        f"{profile.width}x{profile.height}",
        f"{video.width}x{video.height}",
        f"render at the manifest's size, then {REENCODE}",
    )
    expect("video timebase", f"1/{profile.timescale}", f"1/{video.timescale}")
    frames = video.sample_count
    report.update(
        width=video.width, height=video.height, timescale=video.timescale, frame_count=frames, duration=video.duration
    )
    _check_timing(video, profile, _expected_frames(manifest, index), index, problems, report)
    _check_audio(info.track("soun"), profile, frames / profile.fps, problems, report)
    if problems:
        raise MediaError(
            f"{path.name} does not fit the movie's encoding profile ({profile.describe()}):\n  - "
            + "\n  - ".join(problems),
            hint=REENCODE,
            problems=problems,
        )
    if info.fragmented:
        report["init_range"], report["media_range"] = info.init_range, info.media_range
    return report


def _expect(problems: list[str], what: str, expected: object, got: object, fix: str = REENCODE) -> None:
    if expected != got:
        problems.append(f"{what}: expected {expected}, got {got} (fix: {fix})")


def _check_h264(
    path: Path, video: Track, avcc: bytes, profile: EncodingProfile, problems: list[str], report: dict
) -> None:
    """The H.264 profile, level, pixel format and first frame against the movie's profile."""
    expect = functools.partial(_expect, problems)
    avc = parse_avcc(avcc)
    sps = avc.sps[0]
    report["avcc"] = avcc.hex()
    report["codecs"] = f"avc1.{sps[1]:02X}{sps[2]:02X}{sps[3]:02X}"
    expect("H.264 profile", profile.profile, PROFILE_NAMES.get(avc.profile_idc, f"profile_idc {avc.profile_idc}"))
    expect("H.264 level", _level(profile.level_idc), _level(avc.level_idc))
    expect(
        "pixel format",
        profile.pix_fmt,
        CHROMA.get(avc.chroma_format_idc, "?") if avc.bit_depth_luma == 8 else f"{avc.bit_depth_luma}-bit",
    )
    if video.sizes and video.first_sample_offset is not None:
        first = nal_types(read_sample(path, video), avc.nal_length_size)
        expect("first frame", "an IDR keyframe", "an IDR keyframe" if 5 in first else f"NAL types {first} (no IDR)")


def _check_timing(
    video: Track,
    profile: EncodingProfile,
    segment_frames: set[int],
    index: int | None,
    problems: list[str],
    report: dict,
) -> None:
    """Frame rate, first keyframe, frame count and duration."""
    frames = video.sample_count
    if frames:
        distinct = sorted(set(video.durations))
        fps = [round(video.timescale / d, 3) for d in distinct if d]
        report["fps"] = fps[0] if len(fps) == 1 else fps
        # Every frame must last exactly 1/fps (±1 tick when the timescale is not a multiple of fps).
        ticks = video.timescale / profile.fps
        if any(abs(d - ticks) >= 1 for d in distinct):
            problems.append(
                f"fps: expected {profile.fps} (every frame 1/{profile.fps} s), "
                f"got {', '.join(map(str, fps))} fps (fix: {REENCODE} at the manifest's fps)"
            )
    if video.sync and not video.sync[0]:
        problems.append(f"first frame: expected a sync sample (keyframe), got a non-sync sample (fix: {REENCODE})")
    if frames not in segment_frames:
        want = " or ".join(str(n) for n in sorted(segment_frames)[:5])
        which = f"segment {index}" if index is not None else "any segment of the manifest"
        problems.append(
            f"frame count: expected {want} ({which}), got {frames} "
            f"(fix: render exactly the segment's frame_count frames, then {REENCODE})"
        )
    else:
        _expect(problems, "duration", f"{frames / profile.fps:.6f} s", f"{video.duration:.6f} s")


def _level(level_idc: int) -> str:
    return f"{level_idc // 10}.{level_idc % 10}"


def _expected_frames(manifest: dict, index: int | None) -> set[int]:
    if index is not None:
        return {segment_of(manifest, index)["frame_count"]}
    return {s["frame_count"] for s in manifest["segments"]}


def _check_audio(audio, profile: EncodingProfile, video_duration: float, problems: list[str], report: dict) -> None:
    if profile.audio is None:
        if audio is not None:
            problems.append(
                "audio: expected no audio track (the movie has no soundtrack), got one "
                f"(fix: {REENCODE} without a soundtrack)"
            )
        return
    want = profile.audio
    if audio is None:
        problems.append(
            f"audio: expected an AAC track ({want.sample_rate} Hz, {want.channels} ch; the movie has a "
            f"soundtrack and every segment carries its slice), got none (fix: {REENCODE} with --soundtrack)"
        )
        return
    codec = (
        "aac"
        if (audio.codec == "mp4a" and audio.object_type_indication == 0x40 and audio.audio_object_type == 2)
        else f"{audio.codec} (object type {audio.audio_object_type})"
    )
    problems_before = len(problems)
    for what, expected, got in (
        ("audio codec", "aac", codec),
        ("audio sample rate", f"{want.sample_rate} Hz", f"{audio.sample_rate} Hz"),
        ("audio channels", want.channels, audio.channels),
        ("audio timebase", f"1/{want.sample_rate}", f"1/{audio.timescale}"),
    ):
        if expected != got:
            problems.append(f"{what}: expected {expected}, got {got} (fix: {REENCODE})")
    # The encoder's priming samples are hidden by the edit list; what remains
    # must cover the segment to within one video frame.
    priming = audio.edits[0][1] if audio.edits and audio.edits[0][1] > 0 else 0
    duration = (audio.duration_ticks - priming) / audio.timescale if audio.timescale else 0.0
    report["audio"] = {"sample_rate": audio.sample_rate, "channels": audio.channels, "duration": duration}
    if len(problems) == problems_before and abs(duration - video_duration) > 1 / profile.fps:
        problems.append(
            f"audio duration: expected {video_duration:.3f} s (the video's, within one frame), "
            f"got {duration:.3f} s (fix: {REENCODE})"
        )
