"""Bind a manifest to what a given A1111 can render, for the demo.

The example movie pins a checkpoint and LoRAs from Civitai and renders in 3D;
a user's A1111 rarely has those exact files (or Deforum's depth model). A demo
that cannot render proves nothing, so `movieminter demo --a1111-url` renders
the example with that A1111's own checkpoint instead, and says so. A real
movie is never rebound: its minters must render what the director pinned.
"""

from __future__ import annotations

import copy
import dataclasses
import re

from movieminter.errors import MovieMinterError
from movieminter.render.a1111 import A1111Client
from movieminter.render.doctor import segment_requirements
from movieminter.render.readiness import _readable, check_checkpoint, check_lora, file_sha256
from movieminter.render.submission import plan_job

LORA_TAG = re.compile(r",?\s*<lora:([^:>]+)(?::[^>]*)?>")


@dataclasses.dataclass
class Binding:
    manifest: dict
    notes: list[str]


def current_checkpoint(client: A1111Client) -> dict:
    """A1111's loaded checkpoint with its full sha256 (hashing the file here if A1111 has not)."""
    title = client.options().get("sd_model_checkpoint")
    models = client.sd_models()
    entry = next((m for m in models if m.get("title") == title), None) or next(
        (m for m in models if title and m.get("filename", "").endswith(title.split(" [")[0])), None
    )
    if entry is None:
        raise MovieMinterError(
            "A1111 has no checkpoint loaded",
            hint="put a .safetensors checkpoint in A1111's models/Stable-diffusion and select it",
        )
    sha = entry.get("sha256")
    if not sha and _readable(entry.get("filename")):
        sha = file_sha256(entry["filename"])
    if not sha:
        raise MovieMinterError(
            f"A1111 has not hashed its checkpoint {title} and the file is not readable here",
            hint="select it once in A1111's checkpoint list (A1111 hashes on load)",
        )
    if not (entry.get("filename") or "").lower().endswith(".safetensors"):
        raise MovieMinterError(
            f"A1111's checkpoint {title} is not a .safetensors file",
            hint="select a .safetensors checkpoint in A1111 (pickle files can run code)",
        )
    return {**entry, "sha256": sha}


def bind_to_a1111(client: A1111Client, manifest: dict) -> Binding:
    m = copy.deepcopy(manifest)
    notes: list[str] = []
    pinned = m["models"]["checkpoint"]
    if not check_checkpoint(client, pinned).ok:
        entry = current_checkpoint(client)
        sha = entry["sha256"]
        m["models"]["checkpoint"] = {
            "name": entry["model_name"],
            "sha256": sha,
            "autov2": sha[:10].upper(),
            "format": "safetensors",
        }
        notes.append(
            f"this A1111 has not got the example's checkpoint {pinned['name']}: the demo renders with "
            f"its current one, {entry['title']}"
        )
    loras = m["models"].get("loras") or []
    missing = {entry["name"] for entry in loras if not check_lora(client, entry).ok}
    if missing:
        m["models"]["loras"] = [entry for entry in loras if entry["name"] not in missing]
        for seg in m["segments"]:
            seg["prompts"] = {
                k: LORA_TAG.sub(lambda t: "" if t.group(1) in missing else t.group(0), v)
                for k, v in seg["prompts"].items()
            }
        notes.append(f"without the LoRAs this A1111 has not got: {', '.join(sorted(missing))}")
    if m["defaults"].get("animation_mode", "3D") == "3D":
        problems = [c for c in segment_requirements(client, plan_job(m, 0)) if c.name == "depth_model" and not c.ok]
        if problems:
            m["defaults"]["animation_mode"] = "2D"
            notes.append(f"in 2D: {problems[0].message} ({problems[0].hint})")
    return Binding(m, notes)
