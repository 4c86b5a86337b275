"""Placeholder segments: a title card for segments nobody has minted yet.

The card is drawn with Pillow and encoded through the same code path and
profile as real segments, so it concatenates with them by stream copy.
Placeholders are cached by (profile, segment, card text, audio source).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from movieminter.media.encode import encode_segment
from movieminter.media.profile import EncodingProfile, ffmpeg_exe, segment_of

BACKGROUND = (24, 26, 33)
FOREGROUND = (235, 235, 240)
MUTED = (150, 155, 170)


NOT_MINTED = "not minted yet"
AWAITING_APPROVAL = "awaits the director's approval"  # minted, but the movie requires approval (Community)


def card_lines(manifest: dict, index: int, status: str = NOT_MINTED) -> list[str]:
    seg = segment_of(manifest, index)
    return [f"Segment {index}: {status}", seg.get("title", ""), manifest["movie"].get("title", "")]


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(lines[-1] + " " + word, font=font) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _layout(draw: ImageDraw.ImageDraw, text: str, width: int, height: int, size: int):
    """The largest default-font size <= `size` at which `text`, word-wrapped, fits the box."""
    for s in range(size, 5, -1):
        font = ImageFont.load_default(size=s)
        lines = _wrap(draw, text, font, width)
        if all(draw.textlength(line, font=font) <= width for line in lines) and len(lines) * s * 1.2 <= height:
            return font, lines
    return font, lines


def draw_card(manifest: dict, index: int, out: Path, status: str = NOT_MINTED) -> Path:
    """A PNG of the movie's size: "Segment N: not minted yet" big in the middle, then the
    segment's title, the movie's title on top (word-wrapped to fit even tiny test sizes)."""
    w, h = manifest["movie"]["width"], manifest["movie"]["height"]
    im = Image.new("RGB", (w, h), BACKGROUND)
    draw = ImageDraw.Draw(im)
    headline, title, movie = card_lines(manifest, index, status)
    margin = max(2, w // 16)
    inner = w - 2 * margin
    blocks = [
        (movie, MUTED, h // 5, max(8, h // 16)),
        (headline, FOREGROUND, h // 2, max(8, h // 8)),
        (title, MUTED, h // 4, max(8, h // 14)),
    ]
    y = margin
    for text, colour, box, size in blocks:
        if not text:
            continue
        font, lines = _layout(draw, text, inner, box, size)
        if text is headline:  # centre the headline block vertically
            y = max(y, (h - len(lines) * font.size * 1.2) / 2)
        for line in lines:
            draw.text((w / 2, y), line, font=font, fill=colour, anchor="ma")
            y += font.size * 1.2
        y += font.size * 0.4
    im.save(out, "PNG")
    return out


def placeholder_key(manifest: dict, index: int, soundtrack: Path | None, status: str = NOT_MINTED) -> str:
    profile = EncodingProfile.from_manifest(manifest)
    seg = segment_of(manifest, index)
    h = hashlib.sha256()
    # The ffmpeg build is part of the key: another x264 may write other parameter sets.
    for part in (
        profile.key(),
        Path(ffmpeg_exe()).name,
        str(index),
        str(seg["start_frame"]),
        str(seg["frame_count"]),
        "\n".join(card_lines(manifest, index, status)),
    ):
        h.update(part.encode() + b"\0")
    if profile.audio is not None:
        h.update(_file_digest(soundtrack) if soundtrack else b"silence")
    return h.hexdigest()[:24]


def _file_digest(path: Path) -> bytes:
    st = path.stat()
    return _digest(str(path.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _digest(path: str, size: int, mtime_ns: int) -> bytes:
    """sha256 of a file, computed once per (path, size, mtime): a long soundtrack is hashed
    once, not once per placeholder."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def make_placeholder(
    manifest: dict,
    index: int,
    cache_dir: Path | str,
    *,
    soundtrack: Path | str | None = None,
    status: str = NOT_MINTED,
) -> Path:
    """The placeholder segment file for `index` (encoded once, then served from `cache_dir`); the card says
    "Segment N: <status>" (not minted yet, or awaiting the director's approval).

    It carries the soundtrack's slice when `soundtrack` is given, silence when
    the movie has a soundtrack but the file is not at hand, no audio otherwise.
    """
    profile = EncodingProfile.from_manifest(manifest)
    soundtrack = Path(soundtrack) if soundtrack and profile.audio is not None else None
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"placeholder-{index}-{placeholder_key(manifest, index, soundtrack, status)}.mp4"
    if out.is_file():
        return out
    card = cache_dir / f".card-{out.stem}.png"
    tmp = cache_dir / f".{out.stem}.tmp.mp4"
    try:
        draw_card(manifest, index, card, status)
        frames = [card] * segment_of(manifest, index)["frame_count"]
        encode_segment(
            frames, manifest, index, tmp, soundtrack=soundtrack, poster=False, preview=False, allow_silence=True
        )
        tmp.replace(out)  # atomic: a half-written placeholder is never served from the cache
    finally:
        card.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return out
