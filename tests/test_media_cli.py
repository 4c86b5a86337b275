"""`movieminter media encode | check | stitch | hls` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from movieminter.cli import main
from movieminter.ipfs.unixfs import import_file
from movieminter.media.mp4 import read_mp4
from tests.fixtures_media import FRAMES, small_manifest


@pytest.fixture
def manifest_file(tmp_path):
    path = tmp_path / "movie.json"
    path.write_text(json.dumps(small_manifest(3)))
    return path


def test_encode_check_stitch_hls(tmp_path, manifest_file, media_frames, encoded_segments, range_server, capsys):
    out = tmp_path / "out" / "seg0.mp4"
    assert (
        main(
            [
                "media",
                "encode",
                str(media_frames[0]),
                "--manifest",
                str(manifest_file),
                "--segment",
                "0",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    for name in ("seg0.mp4", "seg0.poster.jpg", "seg0.preview.webp"):
        assert (out.parent / name).is_file() and name in printed

    assert main(["media", "check", str(out), "--manifest", str(manifest_file), "--segment", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] and report["frame_count"] == FRAMES
    # the same file is not segment 0 of a 24 fps movie: exit 2 and every mismatch on stderr
    fast = tmp_path / "fast.json"
    fast.write_text(json.dumps(small_manifest(3, fps=24)))
    assert main(["media", "check", str(out), "--manifest", str(fast)]) == 2
    err = capsys.readouterr().err
    assert "fps: expected 24" in err and "how to fix" in err

    movie = tmp_path / "movie.mp4"
    assert (
        main(
            [
                "media",
                "stitch",
                "--manifest",
                str(manifest_file),
                f"0={out}",
                "-o",
                str(movie),
                "--minter",
                "0=0x1234567890abcdef1234567890abcdef12345678",
                "--cache-dir",
                str(tmp_path / "cache"),
            ]
        )
        == 0
    )
    assert "2 placeholder(s)" in capsys.readouterr().out
    assert read_mp4(movie).track("vide").sample_count == 3 * FRAMES

    # segment 0 as a local file (CID computed here), segment 2 by CID on a gateway (layout read by Range)
    seg2 = encoded_segments[1][2].video
    cid2 = import_file(seg2)
    range_server.routes[f"/ipfs/{cid2}"] = (seg2, "video/mp4")
    assert (
        main(
            [
                "media",
                "hls",
                "--manifest",
                str(manifest_file),
                "--gateway",
                range_server.url + "/",
                f"0={out}",
                f"2={cid2}",
            ]
        )
        == 0
    )
    playlist = capsys.readouterr().out
    assert playlist.startswith("#EXTM3U") and "#EXT-X-GAP" in playlist
    assert f"{range_server.url}/ipfs/{import_file(out)}" in playlist
    assert f'#EXT-X-MAP:URI="{range_server.url}/ipfs/{cid2}"' in playlist


def test_bad_arguments_exit_2_with_a_hint(tmp_path, manifest_file, capsys):
    assert main(["media", "stitch", "--manifest", str(manifest_file), "seg.mp4", "-o", str(tmp_path / "m.mp4")]) == 2
    assert "is not of the form N=FILE" in capsys.readouterr().err
    assert main(["media", "hls", "--manifest", str(manifest_file), "--gateway", "https://gw", "1=nonsense"]) == 2
    assert "not a valid CID" in capsys.readouterr().err
    assert (
        main(
            [
                "media",
                "encode",
                str(tmp_path / "none"),
                "--manifest",
                str(manifest_file),
                "--segment",
                "0",
                "-o",
                str(tmp_path / "x.mp4"),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_console_script_exit_codes(tmp_path, manifest_file):
    """The installed entry point, as scripts call it."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "movieminter",
            "media",
            "check",
            str(tmp_path / "none.mp4"),
            "--manifest",
            str(manifest_file),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_stitch_keeps_placeholders_under_the_data_dir_by_default(tmp_path, manifest_file, monkeypatch, capsys):
    """media reads no settings itself: the CLI passes the cache folder from MOVIEMINTER_DATA_DIR."""
    monkeypatch.setenv("MOVIEMINTER_DATA_DIR", str(tmp_path / "data"))
    assert main(["media", "stitch", "--manifest", str(manifest_file), "-o", str(tmp_path / "m.mp4")]) == 0
    assert "3 placeholder(s)" in capsys.readouterr().out
    assert len(list((tmp_path / "data" / "cache" / "placeholders").glob("placeholder-*.mp4"))) == 3
