"""What Movie Minter sends Deforum for a segment, so that the real Deforum
renders exactly what the manifest means.

`export_deforum` says what the director means; this module adapts it to how
Deforum 32242685 actually behaves (each point checked on the real one):

- **Diffusion cadence c > 1**: Deforum writes c·⌊(max_frames−1)/c⌋ frames (the
  last cadence block is never written: 46 of 48 at cadence 2). The job asks for
  c·⌈N/c⌉+1 frames, which writes at least N, and the first N are kept. `max_f`
  in schedules and prompt expressions is pinned to the segment's own last frame
  (N−1), so the padding changes no motion.
- **Scheduler**: this Deforum sets only the sampler, so A1111 falls back to
  "Automatic". A1111 splits a sampler name that ends in a scheduler label
  ("DPM++ 2M Karras" → DPM++ 2M + Karras), so the pair is sent that way.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re

from movieminter.manifest import export_deforum, get_segment

_MAX_F = re.compile(r"\bmax_f\b")
_BACKTICKS = re.compile(r"`[^`]*`")
_PROMPT_TEXT = ("animation_prompts_positive", "animation_prompts_negative", "positive_prompts", "negative_prompts")


@dataclasses.dataclass
class DeforumJobPlan:
    settings: dict  # deforum_settings, every key explicit
    options_overrides: dict  # sd_model_checkpoint is set by the caller (A1111's title of the matched file)
    frames: int  # frames the segment has (and keeps)
    writes: int  # frames Deforum will write for these settings (>= frames)
    cadence: int
    sampler: str  # the manifest's sampler and scheduler, before they are joined
    scheduler: str | None


def frames_written(max_frames: int, cadence: int) -> int:
    """How many frames Deforum's 2D/3D loop writes for max_frames at this cadence."""
    if cadence <= 1:
        return max_frames
    return cadence * ((max_frames - 1) // cadence)


def padded_max_frames(frames: int, cadence: int) -> int:
    """The smallest max_frames whose frames_written is at least `frames`."""
    if cadence <= 1:
        return frames
    return cadence * math.ceil(frames / cadence) + 1


def sampler_with_scheduler(sampler: str, scheduler: str | None) -> str:
    """The sampler name this Deforum should send so A1111 uses the manifest's scheduler."""
    if not scheduler or scheduler.strip().lower() == "automatic":
        return sampler
    if sampler.lower().endswith(" " + scheduler.strip().lower()):
        return sampler
    return f"{sampler} {scheduler.strip()}"


def _pin_max_f(settings: dict, last_frame: int) -> None:
    value = f"({last_frame})"
    for key, v in list(settings.items()):  # schedules, including keyframe positions like "max_f-2"
        if isinstance(v, str) and key not in _PROMPT_TEXT and "max_f" in v:
            settings[key] = _MAX_F.sub(value, v)
    prompts = settings.get("prompts")
    if isinstance(prompts, dict):  # only inside backtick expressions: elsewhere it is prompt text
        settings["prompts"] = {
            _MAX_F.sub(value, k): _BACKTICKS.sub(lambda m: _MAX_F.sub(value, m.group(0)), v)
            if isinstance(v, str)
            else v
            for k, v in prompts.items()
        }


def plan_job(manifest: dict, index: int) -> DeforumJobPlan:
    exported = export_deforum(manifest, index)
    settings = copy.deepcopy(exported["deforum_settings"])
    frames = int(get_segment(manifest, index)["frame_count"])
    cadence = max(1, int(settings.get("diffusion_cadence") or 1))
    max_frames = padded_max_frames(frames, cadence)
    if max_frames != frames:
        _pin_max_f(settings, frames - 1)
        settings["max_frames"] = max_frames
    sampler, scheduler = str(settings["sampler"]), settings.get("scheduler")
    settings["sampler"] = sampler_with_scheduler(sampler, scheduler)
    return DeforumJobPlan(
        settings,
        dict(exported.get("options_overrides") or {}),
        frames,
        frames_written(max_frames, cadence),
        cadence,
        sampler,
        scheduler,
    )
