"""Segment encoding, validation and stitching with the real ffmpeg (imageio-ffmpeg)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from movieminter.errors import MovieMinterError
from movieminter.media.check import check_segment
from movieminter.media.encode import build_encode_command, encode_segment
from movieminter.media.mp4 import nal_types, parse_avcc, read_mp4, read_sample
from movieminter.media.placeholder import draw_card
from movieminter.media.profile import EncodingProfile, MediaError, parse_x264_params, run_ffmpeg
from movieminter.media.stitch import build_stitch_command, stitch_movie
from tests.fixtures_media import (
    FPS,
    FRAMES,
    SIZE,
    click_track,
    decode_audio,
    decode_frame,
    ffmpeg,
    ffmpeg_bin,
    packet_md5s,
    small_manifest,
    write_frames,
)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_profile_pins_what_stream_copy_needs():
    p = EncodingProfile.from_manifest(small_manifest())
    params = parse_x264_params(p.x264_params)
    assert params["scenecut"] == "0" and params["open-gop"] == "0"  # closed GOPs, no scene cuts
    assert params["keyint"] == params["min-keyint"] == str(2 * FPS)
    assert params["threads"].isdigit()  # not "auto": bytes would vary by CPU
    assert params["bframes"] == "2" and params["ref"] == "3"  # the manifest's own x264 params kept
    assert p.audio is None
    with_sound = EncodingProfile.from_manifest(small_manifest(soundtrack=True))
    assert (with_sound.audio.codec, with_sound.audio.sample_rate, with_sound.audio.channels) == ("aac", 48000, 2)
    cmd = build_encode_command(p, 12, Path("x.mp4"))
    assert "libx264" in cmd and "+bitexact" in cmd and "1970-01-01T00:00:00Z" in " ".join(cmd)


def test_encode_writes_a_valid_segment_poster_and_preview(encoded_segments, media_frames):
    manifest, media = encoded_segments
    seg = media[1]
    assert (seg.frame_count, seg.duration) == (FRAMES, FRAMES / FPS)
    report = check_segment(seg.video, manifest, 1)
    assert report["frame_count"] == FRAMES and report["fps"] == FPS and report["codecs"].startswith("avc1.64")
    info = read_mp4(seg.video)
    video = info.track("vide")
    assert info.fragmented and [b.type for b in info.top[:2]] == ["ftyp", "moov"]  # moov first: plays progressively
    assert video.sync[0] and 5 in nal_types(read_sample(seg.video, video), parse_avcc(video.avcc).nal_length_size)
    # keyframes exactly every GOP (2 s = 24 frames > 12 frames): only the first one
    assert video.sync == [True] + [False] * (FRAMES - 1)
    with Image.open(seg.poster) as poster:
        assert poster.format == "JPEG" and poster.size == (SIZE, SIZE)
    with Image.open(seg.preview) as preview:
        assert preview.format == "WEBP" and preview.is_animated and preview.n_frames > 1


def test_frames_folder_takes_deforum_frames_only(tmp_path):
    from movieminter.media.encode import list_frames

    folder = write_frames(tmp_path / "deforum", count=3)
    (folder / "20260101000000_depth_000000001.png").write_bytes(b"")  # Deforum's depth maps, same folder
    (folder / "20260101000000_settings.txt").write_text("{}")
    assert [p.name for p in list_frames(folder)] == [f"20260101000000_{i:09d}.png" for i in range(3)]
    other = write_frames(tmp_path / "plain", count=2)
    for p in other.glob("*.png"):
        p.rename(p.with_name("frame" + p.name[-8:]))
    assert [p.name for p in list_frames(other)] == ["frame0000.png", "frame0001.png"]


def test_encoding_twice_gives_identical_bytes(tmp_path, media_frames):
    manifest = small_manifest(1, soundtrack=True)
    track = click_track(tmp_path / "st.wav", clicks=[0.5], duration=3)
    a = encode_segment(media_frames[0], manifest, 0, tmp_path / "a" / "s.mp4", soundtrack=track)
    b = encode_segment(sorted(media_frames[0].glob("*.png")), manifest, 0, tmp_path / "b" / "s.mp4", soundtrack=track)
    for x, y in ((a.video, b.video), (a.poster, b.poster), (a.preview, b.preview)):
        assert digest(x) == digest(y), f"{x.name} differs between two identical encodes"


def test_bad_frames_are_refused_before_encoding(tmp_path, media_frames):
    manifest = small_manifest(2)
    out = tmp_path / "out.mp4"
    frames = sorted(media_frames[0].glob("*.png"))
    with pytest.raises(MediaError, match=r"11 frames given, segment 0 needs exactly 12"):
        encode_segment(frames[:-1], manifest, 0, out)
    big = write_frames(tmp_path / "big", size=(SIZE * 2, SIZE))
    with pytest.raises(MediaError, match=r"12 frame\(s\) not 64x64.*is 128x64") as err:
        encode_segment(big, manifest, 0, out)
    assert "64x64" in err.value.hint
    with pytest.raises(MediaError, match="does not exist"):
        encode_segment(tmp_path / "nowhere", manifest, 0, out)
    with pytest.raises(MediaError, match="1 frame file\\(s\\) missing"):
        encode_segment(frames[:-1] + [tmp_path / "gone.png"], manifest, 0, out)
    with pytest.raises(MovieMinterError, match="no segment 9"):
        encode_segment(frames, manifest, 9, out)
    with pytest.raises(MediaError, match="has a soundtrack"):
        encode_segment(frames, small_manifest(2, soundtrack=True), 0, out)
    # a frame whose header is fine but whose data is cut short: ffmpeg fails, nothing is left behind
    broken = write_frames(tmp_path / "broken")
    victim = sorted(broken.glob("*.png"))[5]
    victim.write_bytes(victim.read_bytes()[:60])
    with pytest.raises(MediaError, match="encoding segment 0 failed"):
        encode_segment(broken, manifest, 0, out)
    assert not out.exists() and not list(tmp_path.glob("out*"))


def test_two_segments_concatenate_by_stream_copy(tmp_path, encoded_segments, monkeypatch):
    import movieminter.media.stitch as stitch

    manifest, media = encoded_segments
    manifest = {**manifest, "segments": manifest["segments"][:2]}
    segments = {0: media[0].video, 1: media[1].video}
    assert packet_md5s(media[0].video) != packet_md5s(media[1].video)  # different content
    ran = []
    monkeypatch.setattr(stitch, "run_ffmpeg", lambda cmd, **kw: (ran.append(cmd), run_ffmpeg(cmd, **kw))[1])
    movie = stitch_movie(
        manifest,
        segments,
        tmp_path / "movie.mp4",
        minters={0: "0x1234567890abcdef1234567890abcdef12345678"},
        cache_dir=tmp_path / "cache",
    )
    # one ffmpeg run: the concat demuxer, video copied, no encoder
    assert len(ran) == 1 and ran[0][ran[0].index("-vcodec") + 1] == "copy" and "libx264" not in ran[0]
    assert ran[0][ran[0].index("-f") + 1] == "concat"
    # the video samples are the inputs' samples, byte for byte, in order: nothing was re-encoded
    assert packet_md5s(movie) == packet_md5s(media[0].video) + packet_md5s(media[1].video)
    info = read_mp4(movie)
    video = info.track("vide")
    assert video.sample_count == 2 * FRAMES
    assert set(video.durations) == {12288 // FPS}  # constant frame rate across the join
    top = [b.type for b in info.top]
    assert top.index("moov") < top.index("mdat")  # faststart
    chapters = ffmpeg_info(movie)
    assert "Segment 0: Dusk on the rocks — minted by 0x1234…5678" in chapters
    assert "Segment 1: The keeper climbs" in chapters
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").glob("*.mp4"))  # no placeholder needed


def ffmpeg_info(path) -> str:
    proc = subprocess.run([ffmpeg_bin(), "-hide_banner", "-i", str(path)], capture_output=True)
    return proc.stderr.decode()


def test_stitch_command_copies_video(tmp_path):
    p = EncodingProfile.from_manifest(small_manifest())
    cmd = build_stitch_command(
        p, tmp_path / "l.ffconcat", tmp_path / "m.txt", tmp_path / "o.mp4", soundtrack=None, audio_start=0, duration=2
    )
    assert cmd[cmd.index("-vcodec") + 1] == "copy" and "libx264" not in cmd
    assert cmd[cmd.index("-f") + 1] == "concat" and "auto_convert" in " ".join(cmd)
    assert "+faststart" in cmd


def test_segments_with_wrong_fps_size_or_codec_are_rejected(tmp_path, media_frames, encoded_segments):
    manifest, media = encoded_segments
    # wrong fps: encoded for a 24 fps movie
    fast = small_manifest(3, fps=24)
    wrong_fps = encode_segment(media_frames[0], fast, 0, tmp_path / "fps.mp4", poster=False, preview=False).video
    with pytest.raises(MediaError) as err:
        check_segment(wrong_fps, manifest, 0)
    text = str(err.value)
    assert "fps: expected 12" in text and "got 24.0 fps" in text and "timebase: expected 1/12288, got 1/24576" in text
    assert "movieminter media encode" in text
    # wrong size
    wide = small_manifest(3, size=128)
    big = write_frames(tmp_path / "big", size=(128, 128))
    wrong_size = encode_segment(big, wide, 0, tmp_path / "size.mp4", poster=False, preview=False).video
    with pytest.raises(MediaError, match=r"resolution: expected 64x64, got 128x128"):
        check_segment(wrong_size, manifest, 0)
    # wrong codec (MPEG-4 part 2) and a regular, non-fragmented MP4; every mismatch is listed at once
    wrong_codec = tmp_path / "codec.mp4"
    ffmpeg(
        "-y",
        "-framerate",
        "12",
        "-i",
        str(media_frames[0] / "20260101000000_%09d.png"),
        "-c:v",
        "mpeg4",
        "-video_track_timescale",
        "12288",
        str(wrong_codec),
    )
    with pytest.raises(MediaError) as err:
        check_segment(wrong_codec, manifest, 0)
    assert "codec: expected h264 (avc1), got mp4v" in str(err.value)
    assert "layout: expected fragmented MP4" in str(err.value)
    assert len(err.value.details["problems"]) == 2
    # wrong frame count for the index it is stitched at, and stitching refuses all of them with their index
    with pytest.raises(MediaError) as err:
        stitch_movie(
            manifest,
            {0: media[0].video, 1: wrong_fps, 2: wrong_codec},
            tmp_path / "m.mp4",
            cache_dir=tmp_path / "cache",
        )
    assert "2 segment file(s) cannot be stitched" in str(err.value)
    assert "segment 1:" in str(err.value) and "segment 2:" in str(err.value)
    assert not (tmp_path / "m.mp4").exists()


def test_not_an_mp4_and_missing_audio_are_clear(tmp_path, encoded_segments):
    manifest, media = encoded_segments
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x10notanmp4atall" * 4)
    with pytest.raises(MovieMinterError, match="not a readable MP4"):
        check_segment(junk, manifest, 0)
    with pytest.raises(MediaError, match="audio: expected an AAC track"):
        check_segment(media[0].video, small_manifest(3, soundtrack=True), 0)


def test_soundtrack_stays_aligned_within_one_frame(tmp_path, media_frames):
    n, offset = 3, 0.5
    seg_seconds = FRAMES / FPS
    manifest = small_manifest(n, soundtrack=True, offset=offset)
    # a click in the soundtrack exactly where each segment starts (movie time 0 = soundtrack time `offset`)
    track = click_track(
        tmp_path / "soundtrack.wav",
        clicks=[offset + k * seg_seconds for k in range(n)],
        duration=offset + n * seg_seconds + 1,
    )
    media = {
        k: encode_segment(
            media_frames[k], manifest, k, tmp_path / f"s{k}.mp4", soundtrack=track, poster=False, preview=False
        )
        for k in (0, 2)
    }
    check_segment(media[0].video, manifest, 0)
    one_frame = 48000 / FPS
    for k, seg in media.items():  # each segment carries its own slice: the click at its very start
        onsets = click_onsets(decode_audio(seg.video))
        assert onsets and abs(onsets[0]) <= one_frame, f"segment {k}: click at sample {onsets[:1]}"
    movie = stitch_movie(
        manifest,
        {0: media[0].video, 2: media[2].video},
        tmp_path / "movie.mp4",
        soundtrack=track,
        cache_dir=tmp_path / "cache",
    )  # segment 1 is a placeholder
    onsets = click_onsets(decode_audio(movie))
    expected = [k * seg_seconds * 48000 for k in range(n)]
    print("click onsets (samples):", onsets, "expected:", expected)
    assert len(onsets) == n
    for got, want in zip(onsets, expected, strict=False):
        assert abs(got - want) <= one_frame, f"click at {got / 48000:.4f}s, expected {want / 48000:.4f}s"
    info = read_mp4(movie)
    audio, video = info.track("soun"), info.track("vide")
    assert audio.sample_rate == 48000 and audio.channels == 2
    # the segments' AAC slices run a little past their video; the next segment still starts on time
    assert set(video.durations) == {12288 // FPS} and video.sample_count == n * FRAMES
    priming = audio.edits[0][1] if audio.edits else 0
    assert abs((audio.duration_ticks - priming) / 48000 - n * seg_seconds) < 1 / FPS


def click_onsets(samples: np.ndarray, threshold: float = 0.4) -> list[int]:
    """First sample of each loud burst (bursts closer than 50 ms are one click)."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    onsets: list[int] = []
    for i in loud:
        if not onsets or i - onsets[-1] > 2400:
            onsets.append(int(i))
    return onsets


def test_placeholders_fill_missing_segments(tmp_path, encoded_segments):
    manifest, media = encoded_segments
    cache = tmp_path / "cache"
    movie = stitch_movie(manifest, {0: media[0].video, 2: media[2].video}, tmp_path / "movie.mp4", cache_dir=cache)
    assert read_mp4(movie).track("vide").sample_count == 3 * FRAMES
    card = np.asarray(Image.open(draw_card(manifest, 1, tmp_path / "card.png")).convert("RGB"), np.int16).ravel()
    shown = decode_frame(movie, 1.5).astype(np.int16)  # the middle of segment 1
    assert np.abs(shown - card).mean() < 6  # the card (after lossy coding)
    first = decode_frame(movie, 0.5).astype(np.int16)
    assert np.abs(first - card).mean() > 40  # segment 0 is not the card
    assert "Segment 1: The keeper climbs — not minted yet" in ffmpeg_info(movie)
    # the placeholder is cached: a second stitch re-uses the same file
    cached = list(cache.glob("placeholder-1-*.mp4"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    stitch_movie(manifest, {0: media[0].video}, tmp_path / "movie2.mp4", cache_dir=cache)
    assert cached[0].stat().st_mtime_ns == stamp and len(list(cache.glob("placeholder-*.mp4"))) == 2


def test_stitch_refuses_unknown_segments_and_missing_soundtrack(tmp_path, encoded_segments):
    manifest, media = encoded_segments
    with pytest.raises(MediaError, match=r"\[7\] are not in the manifest"):
        stitch_movie(manifest, {7: media[0].video}, tmp_path / "m.mp4", cache_dir=tmp_path)
    with pytest.raises(MediaError, match="no soundtrack file was given"):
        stitch_movie(small_manifest(3, soundtrack=True), {}, tmp_path / "m.mp4", cache_dir=tmp_path)


def test_segments_with_other_parameter_sets_are_refused(tmp_path, media_frames, encoded_segments):
    """A segment that passes every profile check but was encoded with other x264 settings
    (here ref=4: another SPS) cannot be joined by stream copy: refused, naming it."""
    manifest, media = encoded_segments
    other = small_manifest(3)
    other["movie"]["encoding"]["x264_params"] = "bframes=2:ref=4"
    odd = encode_segment(media_frames[1], other, 1, tmp_path / "odd.mp4", poster=False, preview=False).video
    check_segment(odd, manifest, 1)  # fits the profile on its own
    with pytest.raises(MediaError, match=r"segments \[1\] were encoded with different H.264 parameter sets"):
        stitch_movie(
            manifest, {0: media[0].video, 1: odd, 2: media[2].video}, tmp_path / "m.mp4", cache_dir=tmp_path / "cache"
        )


def test_stitch_handles_awkward_paths(tmp_path, encoded_segments):
    manifest, media = encoded_segments
    folder = tmp_path / 'it\'s a "folder" with spaces'
    folder.mkdir()
    files = {}
    for i in range(3):
        files[i] = folder / f"seg {i}'s.mp4"
        files[i].write_bytes(media[i].video.read_bytes())
    movie = stitch_movie(manifest, files, folder / "the movie.mp4", cache_dir=folder / "cache")
    assert packet_md5s(movie) == sum((packet_md5s(media[i].video) for i in range(3)), [])


def test_moov_is_written_first_with_or_without_enough_reserved_room(tmp_path, encoded_segments, monkeypatch):
    import movieminter.media.stitch as stitch

    manifest, media = encoded_segments
    segments = {i: media[i].video for i in range(3)}
    roomy = stitch_movie(manifest, segments, tmp_path / "roomy.mp4", cache_dir=tmp_path)
    monkeypatch.setattr(stitch, "moov_reserve", lambda *a: 64)  # far too small: ffmpeg refuses, +faststart instead
    tight = stitch_movie(manifest, segments, tmp_path / "tight.mp4", cache_dir=tmp_path)
    for movie in (roomy, tight):
        top = [b.type for b in read_mp4(movie).top]
        assert top.index("moov") < top.index("mdat"), top
        assert packet_md5s(movie) == sum((packet_md5s(media[i].video) for i in range(3)), [])
    assert "free" in [b.type for b in read_mp4(roomy).top]
