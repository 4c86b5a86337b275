"""HLS over the segment files as they are stored (IPFS gateway URLs), so the
movie plays before anyone stitches it.

Each segment file is a fragmented MP4 (ftyp+moov, then moof/mdat pairs; see
profile.SEGMENT_MOVFLAGS), which is what HLS calls an fMP4 segment once it is
split in two byte ranges of the same URL:

    #EXT-X-MAP:URI="<url>",BYTERANGE="<moov end>@0"     the initialization section
    #EXT-X-BYTERANGE:<length>@<first moof>               the media segment
    <url>

Every segment restarts its timestamps at 0 and brings its own init section,
so each one after the first is preceded by #EXT-X-DISCONTINUITY (hls.js and
Safari re-base timestamps there). Segments nobody has minted are either a
placeholder file (same layout) or, without one, an #EXT-X-GAP of the right
length. Version 7 covers EXT-X-MAP in a media playlist and byte ranges.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from pathlib import Path

import httpx

from movieminter.media.check import check_segment
from movieminter.media.mp4 import read_mp4
from movieminter.media.profile import EncodingProfile, MediaError

HEAD_BYTES = 64 * 1024  # a segment's ftyp+moov is ~1-2 KB; one small Range read finds the split


@dataclasses.dataclass(frozen=True)
class SegmentLayout:
    init: tuple[int, int]  # (offset, length) of ftyp+moov
    media: tuple[int, int]  # (offset, length) of the moof/mdat pairs

    @classmethod
    def of_file(cls, path: Path | str) -> SegmentLayout:
        info = read_mp4(path)
        if not info.fragmented:
            raise MediaError(
                f"{Path(path).name} is a regular MP4; HLS needs the fragmented segment layout",
                hint="re-encode it with `movieminter media encode`",
            )
        return cls(info.init_range, info.media_range)

    @classmethod
    def of_bytes(cls, data: bytes) -> SegmentLayout:
        """From a whole segment in memory (e.g. `store.cat(cid)`)."""
        return cls.of_head(data[:HEAD_BYTES], len(data))

    @classmethod
    def of_head(cls, head: bytes, total_size: int) -> SegmentLayout:
        """From the first bytes of a segment and its total size (an HTTP Range response)."""
        pos, moov_end = 0, None
        while pos + 8 <= len(head):
            size, typ = struct.unpack(">I4s", head[pos : pos + 8])
            if size == 1 and pos + 16 <= len(head):
                size = struct.unpack(">Q", head[pos + 8 : pos + 16])[0]
            if size < 8:
                break
            if moov_end is not None:
                if typ != b"moof":
                    break
                return cls((0, moov_end), (moov_end, total_size - moov_end))
            if typ == b"moov":
                moov_end = pos + size
            pos += size
        raise MediaError(
            "the segment does not start with ftyp, moov, moof (not a Movie Minter fMP4 segment)",
            hint="re-encode it with `movieminter media encode`",
        )


def fetch_layout(url: str, *, timeout: float = 30) -> SegmentLayout:
    """One HTTP Range request for the segment's head; the size comes from Content-Range."""

    if not url.startswith(("http://", "https://")):
        raise MediaError(
            f"cannot read the layout of {url!r}: not an absolute http(s) URL",
            hint="pass layouts= to build_playlist (SegmentLayout.of_file / of_bytes on the segment)",
        )
    try:
        r = httpx.get(url, headers={"Range": f"bytes=0-{HEAD_BYTES - 1}"}, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise MediaError(
            f"cannot read {url}: {exc}", hint="check the gateway URL and that the segment is pinned"
        ) from None
    if r.status_code == 206 and "/" in r.headers.get("content-range", ""):
        total = int(r.headers["content-range"].rsplit("/", 1)[1])
    elif r.status_code == 200:
        total = int(r.headers.get("content-length") or len(r.content))
    else:
        raise MediaError(
            f"{url} answered HTTP {r.status_code}", hint="check the gateway URL and that the segment is pinned"
        )
    return SegmentLayout.of_head(r.content[:HEAD_BYTES], total)


def _attr(value: str) -> str:
    if '"' in value or "\n" in value:
        raise MediaError(f"URL {value!r} cannot be written into a playlist", hint="use a plain http(s) URL")
    return value


def build_playlist(
    manifest: dict,
    segment_urls: dict[int, str],
    *,
    layouts: dict[int, SegmentLayout] | None = None,
    placeholder_urls: dict[int, str] | None = None,
) -> str:
    """An HLS v7 VOD media playlist over the segment files, in index order.

    `segment_urls` maps index -> URL of a minted segment; `placeholder_urls`
    (optional) index -> URL of a placeholder segment for unminted ones (else an
    EXT-X-GAP). `layouts` gives byte layouts already known (e.g. from
    SegmentLayout.of_file on the local copy); missing ones are read from the
    URL with one Range request each.
    """
    layouts = dict(layouts or {})
    placeholder_urls = placeholder_urls or {}
    fps = manifest["movie"]["fps"]
    ordered = sorted(manifest["segments"], key=lambda s: s["index"])
    known = {s["index"] for s in ordered}
    unknown = sorted((set(segment_urls) | set(placeholder_urls)) - known)
    if unknown:
        raise MediaError(f"segment index(es) {unknown[:10]} are not in the manifest", hint="check the segment numbers")
    target = math.ceil(max(s["frame_count"] for s in ordered) / fps)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    for n, seg in enumerate(ordered):
        i = seg["index"]
        url = segment_urls.get(i) or placeholder_urls.get(i)
        duration = f"#EXTINF:{seg['frame_count'] / fps:.6f},"
        if n:
            lines.append("#EXT-X-DISCONTINUITY")
        if url is None:
            lines += ["#EXT-X-GAP", duration, f"missing-segment-{i}.mp4"]
            continue
        layout = layouts.get(i) or fetch_layout(url)
        (io, il), (mo, ml) = layout.init, layout.media
        lines += [f'#EXT-X-MAP:URI="{_attr(url)}",BYTERANGE="{il}@{io}"', duration, f"#EXT-X-BYTERANGE:{ml}@{mo}", url]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def build_master_playlist(manifest: dict, media_playlist_url: str, *, codecs: str, bandwidth: int) -> str:
    """A one-variant master playlist: Safari and hls.js pick codecs from CODECS up front.

    `codecs` as check_segment reports it (e.g. "avc1.640028"), AAC is added when the movie has audio.
    """
    profile = EncodingProfile.from_manifest(manifest)
    if profile.audio is not None:
        codecs += ",mp4a.40.2"
    return (
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="{codecs}",'
        f"RESOLUTION={profile.width}x{profile.height},FRAME-RATE={profile.fps:.3f}\n"
        f"{_attr(media_playlist_url)}\n"
    )


def local_layouts(manifest: dict, files: dict[int, Path]) -> dict[int, SegmentLayout]:
    """Validate local segment files and return their layouts (for build_playlist)."""
    out = {}
    for i, path in files.items():
        check_segment(path, manifest, i)
        out[i] = SegmentLayout.of_file(path)
    return out
