"""End credits rendered into the stitched movie: drawn with Pillow, encoded in the movie's profile, appended."""

from __future__ import annotations

import subprocess

import numpy as np

from movieminter.media.credits import SECONDS_PER_PAGE, credits_pages
from movieminter.media.mp4 import read_mp4
from movieminter.media.stitch import stitch_movie
from tests.fixtures_media import FPS, FRAMES, SIZE, decode_frame, ffmpeg_bin

ROLL = [
    ("Directed by", ["0x70997970…79C8"]),
    ("Created by", ["0x3C44CdDd…93BC"]),
    ("Segments", ["0: 0x90F79bf6…b906", "1: not minted yet", "2: 0x90F79bf6…b906"]),
    ("Season pass holders", ["0x15d34AAf…6A65", "0x9965507D…A4dc"]),
]


def test_pages_hold_every_line_and_never_end_on_a_heading():
    pages = credits_pages(ROLL, SIZE, SIZE)
    assert len(pages) >= 2  # 11 lines do not fit one 64 px page
    assert all(p.size == (SIZE, SIZE) for p in pages)
    assert all(np.asarray(p).std() > 5 for p in pages)  # text on every page, not a blank card
    big = credits_pages(ROLL, 640, 640)
    assert len(big) == 1  # a large frame takes the whole roll on one page


def test_the_stitched_movie_ends_with_the_credits(tmp_path, encoded_segments):
    manifest, media = encoded_segments
    files = {i: media[i].video for i in range(3)}
    plain = stitch_movie(manifest, files, tmp_path / "plain.mp4", cache_dir=tmp_path / "cache")
    movie = stitch_movie(manifest, files, tmp_path / "movie.mp4", cache_dir=tmp_path / "cache", credits=ROLL)
    pages = len(credits_pages(ROLL, SIZE, SIZE))
    credits_frames = pages * FPS * SECONDS_PER_PAGE
    assert read_mp4(plain).track("vide").sample_count == 3 * FRAMES
    assert read_mp4(movie).track("vide").sample_count == 3 * FRAMES + credits_frames
    end = 3 * FRAMES / FPS
    last = decode_frame(movie, end - 1.5 / FPS).astype(np.int16)  # near the end of segment 2
    assert np.array_equal(last, decode_frame(plain, end - 1.5 / FPS).astype(np.int16))  # the movie is untouched
    for k in range(pages):
        shown = decode_frame(movie, end + k * SECONDS_PER_PAGE + 1.0).astype(np.int16)
        drawn = np.asarray(credits_pages(ROLL, SIZE, SIZE)[k].convert("RGB"), np.int16).ravel()
        assert shown.max() > 100  # not black: there is text
        assert np.abs(shown - drawn).mean() < 8  # page k (after lossy coding)
        assert np.abs(shown - last).mean() > 20  # not the movie's last frame held
    info = subprocess.run([ffmpeg_bin(), "-hide_banner", "-i", str(movie)], capture_output=True).stderr.decode()
    assert "title           : Credits" in info
    # cached: the same roll is not encoded again
    cached = list((tmp_path / "cache").glob("credits-*.mp4"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    stitch_movie(manifest, files, tmp_path / "again.mp4", cache_dir=tmp_path / "cache", credits=ROLL)
    assert cached[0].stat().st_mtime_ns == stamp
