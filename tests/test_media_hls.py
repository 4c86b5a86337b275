"""HLS over the stored segment files: playlist syntax, byte ranges, and real playback (hls.js in Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from movieminter.media.encode import encode_segment
from movieminter.media.hls import SegmentLayout, build_master_playlist, build_playlist, local_layouts
from movieminter.media.mp4 import read_mp4
from movieminter.media.placeholder import BACKGROUND, make_placeholder
from movieminter.media.profile import MediaError
from tests.fixtures_media import FPS, FRAMES, SEGMENT_COLOURS, RangeServer, click_track, small_manifest


def parse_playlist(text: str) -> list[dict]:
    """Media segments of a playlist: their tags and URI (a strict little parser)."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST"
    segments, current = [], {}
    for line in lines[1:-1]:
        assert line, "no blank lines"
        if line.startswith("#"):
            tag, _, value = line[1:].partition(":")
            assert tag.startswith("EXT"), line
            current[tag] = value
        else:
            current["uri"] = line
            segments.append(current)
            current = {}
    assert not {
        k
        for k in current
        if k
        not in (
            "EXT-X-VERSION",
            "EXT-X-TARGETDURATION",
            "EXT-X-MEDIA-SEQUENCE",
            "EXT-X-PLAYLIST-TYPE",
            "EXT-X-INDEPENDENT-SEGMENTS",
        )
    }
    return segments


def byterange(value: str) -> tuple[int, int]:
    length, _, offset = value.strip('"').partition("@")
    return int(offset), int(length)


def test_playlist_syntax_and_byte_ranges(tmp_path, encoded_segments):
    manifest, media = encoded_segments
    files = {0: media[0].video, 2: media[2].video}
    urls = {i: f"https://gw.example/ipfs/bafy{i}" for i in files}
    text = build_playlist(manifest, urls, layouts=local_layouts(manifest, files))
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n")
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
    segs = parse_playlist(text)
    assert len(segs) == 3
    assert [("EXT-X-DISCONTINUITY" in s) for s in segs] == [False, True, True]
    assert "EXT-X-GAP" in segs[1] and "EXT-X-MAP" not in segs[1]  # unminted: a gap of the right length
    for s in segs:
        assert float(s["EXTINF"].rstrip(",")) == FRAMES / FPS
    for i, s in ((0, segs[0]), (2, segs[2])):
        assert s["uri"] == urls[i]
        data = files[i].read_bytes()
        uri, _, rng = s["EXT-X-MAP"].partition(",BYTERANGE=")
        assert uri == f'URI="{urls[i]}"'
        io, il = byterange(rng)
        mo, ml = byterange(s["EXT-X-BYTERANGE"])
        init, body = data[io : io + il], data[mo : mo + ml]
        assert init[4:8] == b"ftyp" and body[4:8] == b"moof" and mo == il and mo + ml == len(data)
        # the init section plus the media range is a complete, valid segment again
        joined = tmp_path / f"joined{i}.mp4"
        joined.write_bytes(init + body)
        assert read_mp4(joined).track("vide").sample_count == FRAMES


def test_layout_is_read_with_one_range_request(range_server, encoded_segments):
    manifest, media = encoded_segments
    range_server.routes["/ipfs/seg1"] = (media[1].video, "video/mp4")
    url = range_server.url + "/ipfs/seg1"
    text = build_playlist(manifest, {1: url})
    expected = SegmentLayout.of_file(media[1].video)
    assert f'#EXT-X-MAP:URI="{url}",BYTERANGE="{expected.init[1]}@0"' in text
    assert f"#EXT-X-BYTERANGE:{expected.media[1]}@{expected.media[0]}" in text
    assert range_server.requests == [("/ipfs/seg1", "bytes=0-65535")]
    with pytest.raises(MediaError, match="HTTP 404"):
        build_playlist(manifest, {1: range_server.url + "/ipfs/nothing"})
    with pytest.raises(MediaError, match=r"\[9\] are not in the manifest"):
        build_playlist(manifest, {9: url})


def test_master_playlist_names_codecs(encoded_segments):
    manifest, _ = encoded_segments
    text = build_master_playlist(small_manifest(soundtrack=True), "movie.m3u8", codecs="avc1.640028", bandwidth=200000)
    assert 'CODECS="avc1.640028,mp4a.40.2"' in text and "RESOLUTION=64x64" in text and text.endswith("movie.m3u8\n")


PAGE = """<!doctype html><html><body><video id="v" muted playsinline width="64" height="64"></video>
<canvas id="c" width="64" height="64"></canvas>
<script type="module">
window.events = [];
const v = document.getElementById("v");
if (location.search === "?native") {  // the browser's own HLS player (what Safari does)
  v.addEventListener("loadedmetadata", () => window.events.push("parsed"));
  v.addEventListener("error", () => window.events.push("error:" + v.error.message + ":true"));
  v.src = "/movie.m3u8";
} else {
  const { t: attachHls } = await import("/hls.js");
  const hls = attachHls(v, "/movie.m3u8", () => window.events.push("parsed"));
  hls.on("hlsError", (e, d) => window.events.push("error:" + d.details + ":" + d.fatal));
  hls.on("hlsFragBuffered", (e, d) => window.events.push("buffered:" + d.frag.sn));
}
window.colourAt = async (t) => {
  v.currentTime = t;
  await new Promise(r => v.addEventListener("seeked", r, { once: true }));
  // the seeked frame is on screen once a frame is presented (or, paused, shortly after)
  await Promise.race([new Promise(r => v.requestVideoFrameCallback(() => r())), new Promise(r => setTimeout(r, 500))]);
  const c = document.getElementById("c").getContext("2d");
  c.drawImage(v, 0, 0, 64, 64);
  return Array.from(c.getImageData(2, 60, 1, 1).data.slice(0, 3));
};
</script></body></html>"""


def gradio_hls_js() -> Path | None:
    """hls.js as gradio ships it (gradio's Video component streams HLS with it)."""
    import gradio

    found = sorted((Path(gradio.__file__).parent / "templates" / "frontend" / "assets").glob("hls-*.js"))
    return found[0] if found else None


def play(chromium, server: RangeServer, player: str, times: list[float]) -> tuple[list[str], list[list[int]]]:
    """Open the test page in Chromium, play the playlist to the end; (player events, colour at each time)."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        if player == "native" and not page.evaluate(
            "document.createElement('video').canPlayType('application/vnd.apple.mpegurl')"
        ):
            pytest.skip("this Chromium has no native HLS player")
        page.goto(server.url + ("/?native" if player == "native" else "/"))
        page.wait_for_function("window.events && window.events.includes('parsed')", timeout=20000)
        page.evaluate("document.getElementById('v').play()")
        page.wait_for_function(
            "document.getElementById('v').currentTime > 2.5 || document.getElementById('v').ended", timeout=30000
        )
        colours = [page.evaluate(f"window.colourAt({t})") for t in times]
        return page.evaluate("window.events"), colours
    finally:
        context.close()


def serve_movie(server, tmp_path, media_frames, *, placeholder: bool) -> None:
    """Segments 0 and 2 (with audio) and the playlist; segment 1 a placeholder file or a gap."""
    hls_js = gradio_hls_js()
    manifest = small_manifest(3, soundtrack=True)
    track = click_track(tmp_path / "st.wav", clicks=[], duration=5)
    files = {
        i: encode_segment(
            media_frames[i], manifest, i, tmp_path / f"s{i}.mp4", soundtrack=track, poster=False, preview=False
        ).video
        for i in (0, 2)
    }
    if placeholder:
        files[1] = make_placeholder(manifest, 1, tmp_path / "cache", soundtrack=track)
    for i, f in files.items():
        server.routes[f"/ipfs/seg{i}"] = (f, "video/mp4")
    playlist = build_playlist(
        manifest,
        {i: f"/ipfs/seg{i}" for i in (0, 2)},
        placeholder_urls={1: "/ipfs/seg1"} if placeholder else None,
        layouts={i: SegmentLayout.of_file(f) for i, f in files.items()},
    )
    server.routes.update(
        {
            "/": (PAGE.encode(), "text/html"),
            "/hls.js": (hls_js or b"", "text/javascript"),
            "/movie.m3u8": (playlist.encode(), "application/vnd.apple.mpegurl"),
        }
    )


def close_to(got, want, tolerance=30) -> bool:
    return max(abs(a - b) for a, b in zip(got, want, strict=False)) < tolerance


@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.parametrize("player", ["hls.js", "native"])
def test_movie_plays_in_chromium(tmp_path, range_server, media_frames, player, chromium):
    """The playlist over fMP4 segments (with audio, a placeholder in the middle) plays to the end
    in Chromium, through hls.js and through Chromium's own HLS player, each segment showing
    its own frames in order."""
    if player == "hls.js" and gradio_hls_js() is None:
        pytest.skip("gradio's bundled hls.js not found")
    serve_movie(range_server, tmp_path, media_frames, placeholder=True)
    events, colours = play(chromium, range_server, player, [0.5, 1.5, 2.5])
    print(player, "events:", events, "colours:", colours)
    assert not [e for e in events if e.startswith("error:") and e.endswith(":true")], events
    if player == "hls.js":
        assert {"buffered:0", "buffered:1", "buffered:2"} <= set(events), events
    for got, want in zip(colours, (SEGMENT_COLOURS[0], BACKGROUND, SEGMENT_COLOURS[2]), strict=False):
        assert close_to(got, want), (colours, events)
    # every segment was read from the segment files themselves, by Range requests
    assert {p for p, r in range_server.requests if r} >= {"/ipfs/seg0", "/ipfs/seg1", "/ipfs/seg2"}


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_hlsjs_plays_over_a_gap(tmp_path, range_server, media_frames, chromium):
    """Without a placeholder file, the unminted segment is an EXT-X-GAP: hls.js keeps the
    timeline (3 s) and jumps the hole to segment 2."""
    if gradio_hls_js() is None:
        pytest.skip("gradio's bundled hls.js not found")
    serve_movie(range_server, tmp_path, media_frames, placeholder=False)
    events, colours = play(chromium, range_server, "hls.js", [0.5, 2.5])
    print("events:", events, "colours:", colours)
    assert "error:fragGap:false" in events and {"buffered:0", "buffered:2"} <= set(events)
    assert not [e for e in events if e.endswith(":true")], events
    assert close_to(colours[0], SEGMENT_COLOURS[0]) and close_to(colours[1], SEGMENT_COLOURS[2]), colours
    assert "/ipfs/seg1" not in {p for p, _ in range_server.requests}
