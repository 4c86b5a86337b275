"""End credits rendered into the video: pages of text drawn with Pillow, encoded in the movie's profile
(same code path as segments and placeholders), so the stitcher appends them by stream copy.

`sections` is the roll: (heading, names) pairs in order, e.g. ("Directed by", ["0x1234…abcd"]). Who goes in
it is the app's business (movieminter.app.community); media only draws and encodes.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from movieminter.media.encode import encode_segment
from movieminter.media.placeholder import BACKGROUND, FOREGROUND, MUTED
from movieminter.media.profile import EncodingProfile, ffmpeg_exe

SECONDS_PER_PAGE = 2  # long enough to read a page of names
LINE_SPACING = 1.3


def _font_size(width: int, height: int) -> int:
    return max(8, min(height // 14, width // 24))


def credits_lines(sections: list[tuple[str, list[str]]]) -> list[tuple[str, bool]]:
    """The roll as (text, is_heading) lines: a heading, then its names, a heading per section."""
    out: list[tuple[str, bool]] = []
    for heading, names in sections:
        if not names:
            continue
        out.append((heading, True))
        out.extend((name, False) for name in names)
    return out


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """The text, cut with an ellipsis to fit the page's width (addresses are short already)."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def credits_pages(sections: list[tuple[str, list[str]]], width: int, height: int) -> list[Image.Image]:
    """Pages of the movie's size, each as many lines as fit; a heading never ends a page."""
    size = _font_size(width, height)
    font = ImageFont.load_default(size=size)
    line_h = size * LINE_SPACING
    margin = max(2, height // 12)
    per_page = max(2, int((height - 2 * margin) // line_h))
    lines = credits_lines(sections) or [("Credits", True)]
    pages: list[list[tuple[str, bool]]] = []
    for line in lines:
        if not pages or len(pages[-1]) >= per_page or (len(pages[-1]) == per_page - 1 and line[1]):
            pages.append([])
        pages[-1].append(line)
    images = []
    for page in pages:
        im = Image.new("RGB", (width, height), BACKGROUND)
        draw = ImageDraw.Draw(im)
        y = (height - len(page) * line_h) / 2  # the page's block centred vertically
        for text, heading in page:
            fitted = _fit(draw, text, font, width - 2 * max(2, width // 16))
            draw.text((width / 2, y), fitted, font=font, fill=MUTED if heading else FOREGROUND, anchor="ma")
            y += line_h
        images.append(im)
    return images


def credits_manifest(manifest: dict, frame_count: int) -> dict:
    """The manifest with one more segment after the last: the credits (for the encoder and the checks)."""
    out = copy.deepcopy(manifest)
    segs = out["segments"]
    start = max((s["start_frame"] + s["frame_count"] for s in segs), default=0)
    segs.append({"index": len(segs), "start_frame": start, "frame_count": frame_count, "title": "Credits"})
    return out


def credits_key(manifest: dict, sections: list[tuple[str, list[str]]]) -> str:
    h = hashlib.sha256()
    for part in (EncodingProfile.from_manifest(manifest).key(), Path(ffmpeg_exe()).name, json.dumps(sections)):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:24]


def make_credits(manifest: dict, sections: list[tuple[str, list[str]]], cache_dir: Path | str) -> tuple[Path, dict]:
    """The credits as a segment file in the movie's profile (silent: the stitcher lays the soundtrack over
    the whole movie), cached by profile and text. Returns (file, the manifest extended by the credits)."""
    profile = EncodingProfile.from_manifest(manifest)
    pages = credits_pages(sections, profile.width, profile.height)
    per_page = profile.fps * SECONDS_PER_PAGE
    extended = credits_manifest(manifest, per_page * len(pages))
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"credits-{credits_key(manifest, sections)}.mp4"
    if out.is_file():
        return out, extended
    stems = [cache / f".credits-{out.stem}-{k}.png" for k in range(len(pages))]
    tmp = cache / f".{out.stem}.tmp.mp4"
    try:
        for im, path in zip(pages, stems, strict=True):
            im.save(path, "PNG")
        frames = [p for p in stems for _ in range(per_page)]
        index = len(extended["segments"]) - 1
        encode_segment(frames, extended, index, tmp, poster=False, preview=False, allow_silence=True)
        tmp.replace(out)  # atomic: a half-written file is never served from the cache
    finally:
        for p in stems:
            p.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return out, extended
