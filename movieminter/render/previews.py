"""Keyframe previews: one quick txt2img still per keyframe prompt of a segment,
for the scene view and the poster (few steps, small size, same seed and
checkpoint as the render so they resemble it)."""

from __future__ import annotations

import base64
from pathlib import Path

from movieminter.manifest import export_deforum, get_segment
from movieminter.render.a1111 import A1111Client
from movieminter.render.readiness import check_checkpoint


def _small(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(64, int(width * scale) // 8 * 8), max(64, int(height * scale) // 8 * 8)


def keyframe_previews(
    client: A1111Client,
    manifest: dict,
    index: int,
    out_dir: str | Path,
    *,
    steps: int = 4,
    max_side: int = 384,
    seed: int | None = None,
    sampler: str | None = None,
    checkpoint_title: str | None = None,
) -> list[Path]:
    """PNG stills `seg{index}_kf{frame:05d}.png` in `out_dir`, in keyframe order."""
    get_segment(manifest, index)  # a clear error for a bad index
    settings = export_deforum(manifest, index)["deforum_settings"]
    if checkpoint_title is None:  # the same file the render uses, matched by hash
        status = check_checkpoint(client, manifest["models"]["checkpoint"])
        checkpoint_title = status.title if status.ok else None
    width, height = _small(int(settings["W"]), int(settings["H"]), max_side)
    base_seed = int(settings["seed"]) if seed is None else seed
    positive = settings.get("animation_prompts_positive") or ""
    negative = settings.get("animation_prompts_negative") or ""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for frame, text in sorted((int(k), v) for k, v in settings["prompts"].items()):
        prompt, _, neg = text.partition("--neg")
        payload = {
            "prompt": ", ".join(p for p in (prompt.strip(), positive) if p),
            "negative_prompt": ", ".join(p for p in (neg.strip(), negative) if p),
            "seed": base_seed + frame if settings.get("seed_behavior") == "iter" and seed is None else base_seed,
            "steps": steps,
            "width": width,
            "height": height,
            "sampler_name": sampler or settings.get("sampler"),
            "scheduler": settings.get("scheduler"),
            "cfg_scale": 7,
            "send_images": True,
            "save_images": False,
            "override_settings": {"sd_model_checkpoint": checkpoint_title} if checkpoint_title else {},
            "override_settings_restore_afterwards": True,
        }
        result = client.txt2img(payload)
        path = out / f"seg{index}_kf{frame:05d}.png"
        tmp = path.with_suffix(".png.part")
        tmp.write_bytes(base64.b64decode(result["images"][0]))
        tmp.replace(path)
        paths.append(path)
    return paths
