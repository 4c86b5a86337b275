"""The example movie, shrunk so a CPU renders it in seconds: every segment cut
to a few frames (keyframes scaled with it), 64x64, few steps, 2D (3D needs
Deforum's depth model, a download), and bound to a given checkpoint and LoRA
file (the tiny random ones on a real A1111, stand-ins on the double).

The six segments keep their own cadences (2, 2, 2, 1, 2, 2); `cadences`
overrides them, e.g. {0: 3} for a segment whose frame count 3 does not divide.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path

from movieminter.manifest import load_manifest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lighthouse.json"
_KEYFRAME = re.compile(r"(^|,\s*)(\d+)\s*:")


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_entry(path: Path, **extra) -> dict:
    sha = _sha256(path)
    return {"name": Path(path).stem, "sha256": sha, "autov2": sha[:10].upper(), "format": "safetensors", **extra}


def _scale_schedule(text: str, old: int, new: int) -> str:
    return _KEYFRAME.sub(lambda m: f"{m.group(1)}{min(new - 1, int(m.group(2)) * new // old)}:", text)


def shrink_example(
    *,
    frames: int = 12,
    size: int = 64,
    steps: int = 2,
    mode: str | None = "2D",
    cadences: dict[int, int] | None = None,
    segments: int | None = None,
) -> dict:
    """The example manifest with every segment cut to `frames` frames (keyframes scaled
    with it) at size x size and `steps` steps; its models are left as they are."""
    m = json.loads(EXAMPLE.read_text())
    m["movie"]["width"] = m["movie"]["height"] = size
    m["defaults"]["steps"] = steps
    if mode:
        m["defaults"]["animation_mode"] = mode
    out, start = [], 0
    for seg in m["segments"][:segments]:
        old = seg["frame_count"]
        seg = copy.deepcopy(seg)
        seg["start_frame"], seg["frame_count"] = start, frames
        seg["prompts"] = {str(min(frames - 1, int(k) * frames // old)): text for k, text in seg["prompts"].items()}
        seg["camera"] = {k: _scale_schedule(v, old, frames) for k, v in (seg.get("camera") or {}).items()}
        if cadences and seg["index"] in cadences:
            seg["diffusion_cadence"] = cadences[seg["index"]]
        out.append(seg)
        start += frames
    m["segments"] = out
    return m


def tiny_film(
    checkpoint: Path,
    lora: Path | None = None,
    *,
    frames: int = 12,
    size: int = 64,
    steps: int = 2,
    cadences: dict[int, int] | None = None,
    segments: int | None = None,
) -> dict:
    """The shrunk example in 2D, bound to `checkpoint` and (in segment 0's first prompt) `lora`."""
    m = shrink_example(frames=frames, size=size, steps=steps, cadences=cadences, segments=segments)
    m["models"] = {"checkpoint": model_entry(checkpoint), "loras": []}
    for seg in m["segments"]:
        seg["prompts"] = {k: re.sub(r",?\s*<lora:[^>]+>", "", text) for k, text in seg["prompts"].items()}
    if lora is not None:
        m["models"]["loras"] = [model_entry(lora, weight=0.8)]
        first = min(m["segments"][0]["prompts"], key=int)
        m["segments"][0]["prompts"][first] += f", <lora:{Path(lora).stem}:0.8>"

    return load_manifest(m)
