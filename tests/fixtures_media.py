"""Fixtures for the media tests: a small manifest (64x64, 12 fps, 12-frame
segments), PNG frames with distinct content per segment, a soundtrack with
clicks, and ffmpeg helpers to look inside the results."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.conftest import EXAMPLE_MANIFEST

FPS, SIZE, FRAMES = 12, 64, 12


def small_manifest(
    n_segments: int = 2,
    *,
    frames: int = FRAMES,
    fps: int = FPS,
    size: int = SIZE,
    soundtrack: bool = False,
    offset: float = 0.5,
) -> dict:
    """The example film cut down (still a valid manifest): tiny frames, short segments (tests stay fast)."""
    m = json.loads(EXAMPLE_MANIFEST.read_text())
    m["movie"].update(fps=fps, width=size, height=size)
    m["movie"]["encoding"]["timescale"] = fps * 1024
    if soundtrack:
        m["movie"]["soundtrack"] = {"cid": "Qm" + "a" * 44, "offset_seconds": offset}
    base = m["segments"]
    m["segments"] = []
    for i in range(n_segments):
        seg = copy.deepcopy(base[i % len(base)])
        seg.update(index=i, start_frame=i * frames, frame_count=frames, prompts={"0": seg["prompts"]["0"]})
        seg.pop("camera", None)  # keyframes beyond the short segment would make the manifest invalid
        m["segments"].append(seg)
    return m


SEGMENT_COLOURS = [(200, 40, 40), (40, 160, 60), (40, 60, 200), (200, 180, 40)]


def write_frames(folder: Path, count: int = FRAMES, *, size: tuple[int, int] = (SIZE, SIZE), segment: int = 0) -> Path:
    """`count` PNGs named like Deforum's (`{timestring}_{frame:09d}.png`): a moving
    square on a background colour that identifies the segment."""
    folder.mkdir(parents=True, exist_ok=True)
    bg = SEGMENT_COLOURS[segment % len(SEGMENT_COLOURS)]
    for i in range(count):
        im = Image.new("RGB", size, bg)
        d = ImageDraw.Draw(im)
        x = (i * 3) % max(1, size[0] - 16)
        d.rectangle([x, size[1] // 3, x + 15, size[1] // 3 + 15], fill=(255, 255, 255))
        im.save(folder / f"20260101000000_{i:09d}.png")
    return folder


def ffmpeg_bin() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> bytes:
    proc = subprocess.run([ffmpeg_bin(), "-hide_banner", "-loglevel", "error", *args], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def packet_md5s(path: Path, stream: str = "v:0") -> list[str]:
    """MD5 of every compressed packet of a stream, read by stream copy (no decoding)."""
    out = ffmpeg("-i", str(path), "-map", f"0:{stream}", "-c", "copy", "-f", "framemd5", "-").decode()
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def decode_frame(path: Path, seconds: float) -> np.ndarray:
    """The decoded RGB frame shown at `seconds`."""
    raw = ffmpeg("-ss", f"{seconds:.4f}", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
    return np.frombuffer(raw, np.uint8)


def decode_audio(path: Path, rate: int = 48000) -> np.ndarray:
    raw = ffmpeg("-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-")
    return np.frombuffer(raw, np.float32)


def click_track(path: Path, *, clicks: list[float], duration: float, rate: int = 44100) -> Path:
    """A quiet 440 Hz tone with a loud 4 ms click starting at each time in `clicks`."""
    on = "+".join(f"between(t,{c:.6f},{c + 0.004:.6f})" for c in clicks) or "0"
    expr = f"0.1*sin(2*PI*440*t)+0.8*gt({on},0)*sin(2*PI*3000*t)"
    ffmpeg("-y", "-f", "lavfi", "-i", f"aevalsrc='{expr}':s={rate}:d={duration}", "-ac", "1", str(path))
    return path


@pytest.fixture
def media_manifest():
    return small_manifest


@pytest.fixture(scope="session")
def media_frames(tmp_path_factory):
    """frames[i]: a folder of FRAMES PNGs for segment i (i < 4), written once per session."""
    root = tmp_path_factory.mktemp("media-frames")
    return [write_frames(root / f"seg{i}", segment=i) for i in range(4)]


@pytest.fixture(scope="session")
def encoded_segments(tmp_path_factory, media_frames):
    """Segments 0..2 of a 3-segment silent movie, encoded once per session."""
    from movieminter.media.encode import encode_segment

    root = tmp_path_factory.mktemp("media-segments")
    manifest = small_manifest(3)
    return manifest, {i: encode_segment(media_frames[i], manifest, i, root / f"seg{i}.mp4") for i in range(3)}


class RangeServer:
    """A tiny HTTP server with Range support (what IPFS gateways give), on a free port.

    `routes` maps URL path -> (bytes or Path, content type); `requests` logs (path, Range header).
    """

    def __init__(self):
        import http.server
        import threading

        self.routes: dict[str, tuple] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                server.requests.append((path, self.headers.get("Range")))
                if path not in server.routes:
                    self.send_error(404)
                    return
                body, ctype = server.routes[path]
                data = body.read_bytes() if isinstance(body, Path) else body
                start, end, status = 0, len(data) - 1, 200
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    a, _, b = rng[6:].partition("-")
                    start, end, status = int(a), min(int(b) if b else len(data) - 1, len(data) - 1), 206
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(end - start + 1))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.end_headers()
                self.wfile.write(data[start : end + 1])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def range_server():
    server = RangeServer()
    yield server
    server.close()
