"""The movie's pinned encoding profile.

Every segment of a movie is encoded by a different person on a different
machine, and the full movie is built by stream copy. That only works when
every segment has the same codec parameters (SPS/PPS), time base, frame rate,
GOP structure and audio format, so all of them come from the manifest plus a
few values fixed here, never from the machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from pathlib import Path

import imageio_ffmpeg

from movieminter.errors import MovieMinterError
from movieminter.manifest import get_segment

# x264 picks its thread count from the CPU, and with frame threads the
# bitstream depends on it (the motion search range is limited by the progress
# of the other threads). A fixed count keeps the bytes identical across machines.
X264_THREADS = 4
# Options the profile forces whatever the manifest says: they are what makes
# stream copy possible (closed GOPs, keyframes only where we put them).
X264_FORCED = {"scenecut": "0", "open-gop": "0"}
DEFAULT_AUDIO = {"codec": "aac", "sample_rate": 48000, "channels": 2, "bitrate": "128k"}
PROFILE_IDC = {"baseline": 66, "main": 77, "high": 100}
# Fragmented MP4 with the moov written after the first fragment (delay_moov),
# like ffmpeg's own HLS fMP4 muxer: the moov then carries the edit lists for the
# B-frame delay and the AAC priming, so the segment starts exactly at 0, and
# the file is at once a progressive MP4 (moov first) and an HLS fMP4 segment.
SEGMENT_MOVFLAGS = "+frag_keyframe+delay_moov+default_base_moof+skip_trailer"
MOVIE_MOVFLAGS = "+faststart"


class MediaError(MovieMinterError):
    """A media file or media input does not fit the movie's encoding profile."""


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], *, input: bytes | None = None, stdin=None, what: str = "ffmpeg") -> None:
    """Run a compiled ffmpeg-python command; raise MediaError with ffmpeg's last lines on failure."""
    proc = subprocess.run(args, input=input, stdin=stdin, capture_output=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.decode(errors="replace").strip().splitlines()[-8:])
        raise MediaError(
            f"{what} failed (ffmpeg exit {proc.returncode}):\n{tail}",
            hint="check the input files; run with the same arguments by hand to see the full log",
        )


def parse_x264_params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (text or "").split(":")):
        key, _, value = part.partition("=")
        out[key.strip()] = value.strip() or "1"
    return out


@dataclasses.dataclass(frozen=True)
class AudioProfile:
    codec: str
    sample_rate: int
    channels: int
    bitrate: str


@dataclasses.dataclass(frozen=True)
class EncodingProfile:
    fps: int
    width: int
    height: int
    codec: str
    profile: str
    level: str
    pix_fmt: str
    preset: str
    crf: int
    x264_params: str  # the full, merged parameter string passed to x264
    keyint: int
    timescale: int
    audio: AudioProfile | None  # set exactly when the movie has a soundtrack

    @classmethod
    def from_manifest(cls, manifest: dict) -> EncodingProfile:
        movie = manifest["movie"]
        enc = movie["encoding"]
        fps = int(movie["fps"])
        params = parse_x264_params(enc.get("x264_params", ""))
        keyint = int(params.get("keyint", 2 * fps))  # a 2 s GOP unless the director pins one
        merged = {"keyint": str(keyint), "min-keyint": str(keyint), "threads": str(X264_THREADS)}
        merged.update(params)
        merged.update(X264_FORCED)
        audio = None
        if movie.get("soundtrack"):
            audio = AudioProfile(**{**DEFAULT_AUDIO, **enc.get("audio", {})})
        return cls(
            fps=fps,
            width=int(movie["width"]),
            height=int(movie["height"]),
            codec=enc["codec"],
            profile=enc["profile"],
            level=str(enc["level"]),
            pix_fmt=enc["pix_fmt"],
            preset=enc["preset"],
            crf=int(enc["crf"]),
            x264_params=":".join(f"{k}={v}" for k, v in merged.items()),
            keyint=keyint,
            timescale=int(enc["timescale"]),
            audio=audio,
        )

    # --- values the checks compare against ---------------------------------
    @property
    def profile_idc(self) -> int:
        return PROFILE_IDC[self.profile]

    @property
    def level_idc(self) -> int:
        major, _, minor = self.level.partition(".")
        return int(major) * 10 + int(minor or 0)

    def key(self) -> str:
        """A short digest of everything that shapes the bytes (cache key)."""
        blob = json.dumps(dataclasses.asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    # --- ffmpeg options (ffmpeg-python keyword arguments) -------------------
    def video_args(self) -> dict:
        return {
            "vcodec": "libx264",
            "profile:v": self.profile,
            "level:v": self.level,
            "pix_fmt": self.pix_fmt,
            "preset": self.preset,
            "crf": self.crf,
            "x264-params": self.x264_params,
            "flags:v": "+bitexact",
        }

    def audio_args(self) -> dict:
        if self.audio is None:
            return {}
        return {
            "acodec": self.audio.codec,
            "ar": self.audio.sample_rate,
            "ac": self.audio.channels,
            "b:a": self.audio.bitrate,
            "flags:a": "+bitexact",
        }

    def container_args(self, *, segment: bool) -> dict:
        """MP4 muxer options; no wall-clock time or tool version reaches the file."""
        return {
            "format": "mp4",
            "movflags": SEGMENT_MOVFLAGS if segment else MOVIE_MOVFLAGS,
            "video_track_timescale": self.timescale,
            "fflags": "+bitexact",
            "map_metadata": -1,
            "map_chapters": -1,
            "metadata": "creation_time=1970-01-01T00:00:00Z",
        }

    def scale_filter_args(self) -> dict:
        """RGB -> YUV conversion with swscale's bit-exact C path (SIMD paths may round differently)."""
        return {"flags": "accurate_rnd+bitexact", "width": self.width, "height": self.height}

    def describe(self) -> str:
        a = (
            f", audio {self.audio.codec} {self.audio.sample_rate} Hz {self.audio.channels} ch"
            if self.audio
            else ", no audio"
        )
        return (
            f"{self.codec} {self.profile}@{self.level} {self.pix_fmt} {self.width}x{self.height} "
            f"{self.fps} fps, timescale {self.timescale}, GOP {self.keyint}{a}"
        )


def segment_of(manifest: dict, index: int) -> dict:
    """The manifest's segment `index` (the manifest subsystem owns the lookup and its error)."""

    return get_segment(manifest, index)


def soundtrack_of(manifest: dict) -> dict | None:
    return manifest["movie"].get("soundtrack") or None


def ensure_dir(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
