"""The Deforum key table (deforum_keys.json) and which keys the manifest owns."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

CAMERA_KEYS = (
    "zoom",
    "angle",
    "translation_x",
    "translation_y",
    "translation_z",
    "rotation_3d_x",
    "rotation_3d_y",
    "rotation_3d_z",
)

# Keys set from a first-class manifest field. deforum_overrides may not set them
# (at any level): the value says which field to use instead.
OWNED = {
    "prompts": "segments[].prompts",
    "animation_prompts": "segments[].prompts",
    "animation_prompts_positive": "segments[].positive_prompt or defaults.positive_prompt",
    "animation_prompts_negative": "segments[].negative_prompt or defaults.negative_prompt",
    "positive_prompts": "segments[].positive_prompt or defaults.positive_prompt",
    "negative_prompts": "segments[].negative_prompt or defaults.negative_prompt",
    "W": "movie.width",
    "H": "movie.height",
    "fps": "movie.fps",
    "max_frames": "segments[].frame_count",
    "seed": "segments[].seed",
    "diffusion_cadence": "segments[].diffusion_cadence or defaults.diffusion_cadence",
    "use_init": "segments[].init_image",
    "init_image": "segments[].init_image",
    "strength": "segments[].init_image.strength",
    "sd_model_name": "models.checkpoint",
    "sd_model_hash": "models.checkpoint",
    "enable_checkpoint_scheduling": "models.checkpoint (one pinned checkpoint per movie)",
    "checkpoint_schedule": "models.checkpoint (one pinned checkpoint per movie)",
    **{k: f"segments[].camera.{k}" for k in CAMERA_KEYS},
}
# Keys set from `defaults`: a segment's deforum_overrides may change them for
# that segment; defaults.deforum_overrides may not (use the field itself).
DEFAULTS_OWNED = {
    "sampler": "defaults.sampler",
    "scheduler": "defaults.scheduler",
    "steps": "defaults.steps",
    "cfg_scale_schedule": "defaults.cfg_scale_schedule",
    "strength_schedule": "defaults.strength_schedule",
    "noise_schedule": "defaults.noise_schedule",
    "seed_behavior": "defaults.seed_behavior",
    "seed_iter_N": "defaults.seed_iter_n",
    "animation_mode": "defaults.animation_mode",
}
# Keys Movie Minter controls because they touch files, URLs or the output the
# rest of the pipeline depends on. Never settable from a manifest.
RESERVED = {
    **{
        k: "Movie Minter encodes, upscales and interpolates nothing inside Deforum: the frames must stay as rendered"
        for k in (
            "skip_video_creation",
            "make_gif",
            "delete_imgs",
            "delete_input_frames",
            "image_path",
            "add_soundtrack",
            "soundtrack_path",
            "r_upscale_video",
            "r_upscale_factor",
            "r_upscale_model",
            "r_upscale_keep_imgs",
            "store_frames_in_ram",
            "frame_interpolation_engine",
            "frame_interpolation_x_amount",
            "frame_interpolation_slow_mo_enabled",
            "frame_interpolation_slow_mo_amount",
            "frame_interpolation_keep_imgs",
            "frame_interpolation_use_upscaled",
        )
    },
    **{
        k: "names in a manifest never become file paths or URLs on the minter's machine"
        for k in (
            "batch_name",
            "video_init_path",
            "video_mask_path",
            "mask_file",
            "color_coherence_image_path",
            "init_images",
            "parseq_manifest",
            "resume_from_timestring",
            "resume_timestring",
            *(f"cn_{i}_{s}" for i in range(1, 6) for s in ("vid_path", "mask_vid_path")),
        )
    },
}
ALLOWED_VALUES = {
    "seed_behavior": ("iter", "fixed", "ladder", "alternate", "schedule"),
    "animation_mode": ("2D", "3D"),
}


@lru_cache(maxsize=1)
def deforum_keys() -> dict[str, dict[str, Any]]:
    """name -> {"group", "deforum_default", ["export"], ["note"]} for every key Deforum reads."""
    text = resources.files("movieminter.manifest").joinpath("deforum_keys.json").read_text(encoding="utf-8")
    keys: dict[str, dict[str, Any]] = json.loads(text)["keys"]
    return keys


def is_schedule_key(key: str) -> bool:
    """Keys whose value Deforum parses as a numeric keyframe schedule."""
    entry = deforum_keys().get(key)
    if not entry or not isinstance(entry["deforum_default"], str):
        return False
    if key in CAMERA_KEYS or key.endswith("_schedule") or key.startswith(("perspective_flip_", "transform_center_")):
        return key not in {
            "sampler_schedule",
            "mask_schedule",
            "noise_mask_schedule",
            "checkpoint_schedule",
            "seed_schedule",
        }
    return key in {
        "image_strength_schedule",
        "blendFactorMax",
        "blendFactorSlope",
        "tweening_frames_schedule",
        "color_correction_factor",
    } or (key.startswith("cn_") and key.endswith(("_weight", "_guidance_start", "_guidance_end")))
