"""Cheap stand-in for Stable Diffusion + Deforum: real images that depend on
the prompt, the seed, the checkpoint and the camera motion.

A prompt becomes a procedural scene (sky, horizon, shapes) drawn from an RNG
seeded by (checkpoint, seed, prompt). An animation is Deforum's feedback
loop in miniature: each frame is the previous frame moved by that frame's
camera step, mixed with the prompt's scene moved by the accumulated camera,
plus a little seeded noise. About 10 ms a frame at 512x288.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import math
import random

import numpy as np
from PIL import Image, ImageDraw


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _hue_rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


@functools.lru_cache(maxsize=64)
def scene(prompt: str, seed: int, checkpoint: str, width: int, height: int) -> Image.Image:
    """One still for a prompt: same inputs, same pixels."""
    words = [w.strip(",.()<>:").lower() for w in prompt.split()]
    words = [w for w in words if w]
    rng = _rng(checkpoint, seed, prompt)
    # Palette: the prompt's words pick hues, the checkpoint tints them.
    tint = _rng(checkpoint).random()
    hues = [(_rng(w).random() + tint * 0.3) for w in words] or [rng.random()]
    top = np.array(_hue_rgb(hues[0], 0.5, 0.35), dtype=np.float32)
    bottom = np.array(_hue_rgb(hues[len(hues) // 2], 0.6, 0.85), dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    sky = top * (1 - ramp) + bottom * ramp
    img = Image.fromarray(np.broadcast_to(sky, (height, width, 3)).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    horizon = int(height * (0.45 + 0.3 * rng.random()))
    draw.rectangle([0, horizon, width, height], fill=_hue_rgb(hues[-1], 0.7, 0.3))
    for i in range(6 + len(words) % 7):
        color = _hue_rgb(hues[i % len(hues)] + rng.random() * 0.1, 0.4 + 0.6 * rng.random(), 0.3 + 0.7 * rng.random())
        x, y = rng.random() * width, rng.random() * height
        w, h = (0.05 + 0.25 * rng.random()) * width, (0.05 + 0.4 * rng.random()) * height
        box = [x - w / 2, y - h / 2, x + w / 2, y + h / 2]
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=color)
    return img


def _affine(width: int, height: int, zoom: float, angle_deg: float, tx: float, ty: float) -> np.ndarray:
    """3x3 forward transform about the image centre: scale, rotate, then shift."""
    cx, cy = width / 2, height / 2
    a = math.radians(angle_deg)
    c, s = math.cos(a) * zoom, math.sin(a) * zoom
    return np.array(
        [[c, -s, cx + tx - c * cx + s * cy], [s, c, cy + ty - s * cx - c * cy], [0, 0, 1]], dtype=np.float64
    )


def _warp(img: Image.Image, forward: np.ndarray) -> Image.Image:
    """Move an image by the camera; edges are replicated (Deforum's default border)."""
    m = max(img.size) // 2
    padded = Image.fromarray(np.pad(np.asarray(img), ((m, m), (m, m), (0, 0)), mode="edge"), "RGB")
    inv = np.linalg.inv(forward)  # PIL maps output pixels back to input pixels
    coeffs = inv[:2].copy()
    coeffs[:, 2] += m  # input coordinates live in the padded image
    return padded.transform(img.size, Image.Transform.AFFINE, tuple(coeffs.ravel()), resample=Image.Resampling.BILINEAR)


def camera_step(width: int, height: int, motion: dict, f: int, mode: str) -> np.ndarray:
    """The camera move of frame f, from Deforum's per-frame schedule values."""
    zoom = motion["zoom"][f] if mode == "2D" else 1.0
    tz = motion["translation_z"][f] if mode == "3D" else 0.0
    zoom *= 1.0 + tz / 100.0  # moving forward in 3D looks like zooming in
    angle = motion["angle"][f] if mode == "2D" else motion["rotation_3d_z"][f]
    tx = motion["translation_x"][f] - (motion["rotation_3d_y"][f] * width / 90 if mode == "3D" else 0)
    ty = motion["translation_y"][f] + (motion["rotation_3d_x"][f] * height / 90 if mode == "3D" else 0)
    return _affine(width, height, zoom, angle, tx, ty)


def animate(
    prompts: list[str],
    seeds: list[int],
    strengths: list[float],
    noises: list[float],
    motion: dict,
    mode: str,
    checkpoint: str,
    width: int,
    height: int,
):
    """Yields one PIL image per frame (len(prompts) frames)."""
    prev: Image.Image | None = None
    total = np.eye(3)
    for f, prompt in enumerate(prompts):
        target = scene(prompt, seeds[0], checkpoint, width, height)
        if prev is None:
            frame = target
        else:
            step = camera_step(width, height, motion, f, mode)
            total = step @ total
            moved = np.asarray(_warp(prev, step), dtype=np.float32)
            fresh = np.asarray(_warp(target, total), dtype=np.float32)
            k = min(max(strengths[f], 0.0), 1.0)
            mixed = k * moved + (1 - k) * fresh
            noise = np.random.default_rng(seeds[f] & 0xFFFFFFFF).normal(0, 1, (height, width, 1))
            mixed += noise.astype(np.float32) * (noises[f] * 40)
            frame = Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8), "RGB")
        prev = frame
        yield frame
