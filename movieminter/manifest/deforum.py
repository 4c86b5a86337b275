"""Deforum settings <-> manifest segments.

A segment renders as ONE Deforum job whose frames are numbered from 0: the job
has max_frames = frame_count, and every prompt and schedule keyframe stays
relative to the segment start ("absolute within the job"). The movie-level
start_frame only places the job's frames in the stitched movie.

export_deforum sets every key Deforum reads (deforum_keys.json), because any
key left out falls back to Deforum's UI defaults, which move the camera and
change the output. import_deforum reads a settings file as Deforum's UI or a
run saves it and gives back a segment; keys that differ from what
export_deforum would send, and that have no first-class segment field, go to
`deforum_overrides`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from movieminter.manifest.canonical import canonical_json
from movieminter.manifest.keys import CAMERA_KEYS, DEFAULTS_OWNED, OWNED, RESERVED, deforum_keys
from movieminter.manifest.problems import ManifestError, Problem, pointer
from movieminter.manifest.validate import LORA_TAG, get_segment, parse_json_text, validate_manifest

INIT_STRENGTH_DEFAULT = 0.8
DEFAULT_CADENCE = 1
INIT_IMAGE_PREFIX = "ipfs://"  # the render bridge swaps `init_image` for a local file before submitting
# Keys Deforum's load_args skips (settings.py get_keys_to_exclude) or that only record the saving run.
IGNORED_ON_IMPORT = {
    "perlin_w",
    "perlin_h",
    "image_path",
    "deforum_git_commit_id",
    "outdir",
    "timestring",
    "n_batch",
    "seed_enable_extras",
    "scale",
    "subseed",
    "subseed_strength",
    "init_sample",
    "noise_mask",
    "seed_internal",
    "mp4_path",
    "movieminter_init_image_cid",
}


def _join(*parts: str | None) -> str:
    return ", ".join(p.strip() for p in parts if p and p.strip())


def neutral(key: str):
    """What export_deforum sends for `key` when the manifest does not set it."""
    entry = deforum_keys()[key]
    return copy.deepcopy(entry.get("export", entry["deforum_default"]))


def _movie_settings(manifest: dict) -> dict:
    """Every key at its export value, then the movie's and defaults' fields."""
    s = {key: neutral(key) for key in deforum_keys()}
    movie, defaults, models = manifest["movie"], manifest["defaults"], manifest["models"]
    s["W"], s["H"], s["fps"] = movie["width"], movie["height"], movie["fps"]
    s["sampler"] = defaults["sampler"]
    s["scheduler"] = defaults.get("scheduler", neutral("scheduler"))
    s["steps"] = defaults["steps"]
    s["animation_mode"] = defaults.get("animation_mode", neutral("animation_mode"))
    for key in ("cfg_scale_schedule", "strength_schedule", "noise_schedule"):
        if key in defaults:
            s[key] = defaults[key]
    s["seed_behavior"] = defaults["seed_behavior"]
    s["seed_iter_N"] = defaults.get("seed_iter_n", neutral("seed_iter_N"))
    s["diffusion_cadence"] = defaults.get("diffusion_cadence", DEFAULT_CADENCE)
    s["animation_prompts_positive"] = _join(defaults.get("positive_prompt"))
    s["animation_prompts_negative"] = _join(defaults.get("negative_prompt"))
    s.update(copy.deepcopy(defaults.get("deforum_overrides") or {}))
    ckpt = models["checkpoint"]
    s["sd_model_name"] = ckpt["name"]
    s["sd_model_hash"] = ckpt["autov2"].lower()
    return s


def _sorted_prompts(prompts: dict) -> dict:
    return {str(int(k)): v for k, v in sorted(prompts.items(), key=lambda kv: int(kv[0]))}


def export_deforum(manifest: dict, index: int) -> dict:
    """The complete Deforum API request body for segment `index`:
    {"deforum_settings": {every key}, "options_overrides": {"sd_model_checkpoint": name}}.

    `init_image` is `ipfs://CID` when the segment has one; the render bridge
    replaces it with the local path of the fetched file before submitting.
    """
    seg = get_segment(manifest, index)
    defaults = manifest["defaults"]
    s = _movie_settings(manifest)
    s["max_frames"] = seg["frame_count"]
    s["seed"] = seg["seed"]
    s["prompts"] = _sorted_prompts(seg["prompts"])
    s["animation_prompts_positive"] = _join(defaults.get("positive_prompt"), seg.get("positive_prompt"))
    s["animation_prompts_negative"] = _join(defaults.get("negative_prompt"), seg.get("negative_prompt"))
    camera = seg.get("camera") or {}
    for key in CAMERA_KEYS:
        s[key] = camera.get(key, neutral(key))
    if "diffusion_cadence" in seg:
        s["diffusion_cadence"] = seg["diffusion_cadence"]
    init = seg.get("init_image")
    if init:
        s["use_init"] = True
        s["init_image"] = INIT_IMAGE_PREFIX + init["cid"]
        s["strength"] = init.get("strength", INIT_STRENGTH_DEFAULT)
        s["movieminter_init_image_cid"] = init["cid"]
    else:
        s["use_init"] = False
        s["init_image"] = neutral("init_image")
        s["strength"] = INIT_STRENGTH_DEFAULT
    s.update(copy.deepcopy(seg.get("deforum_overrides") or {}))
    s["batch_name"] = f"MovieMinter_{index}_{{timestring}}"
    return {
        "deforum_settings": s,
        "options_overrides": {"sd_model_checkpoint": manifest["models"]["checkpoint"]["name"]},
    }


def segment_settings_digest(manifest: dict, index: int) -> str:
    """Hex sha256 of the canonical JSON of export_deforum(manifest, index)."""

    return hashlib.sha256(canonical_json(export_deforum(manifest, index))).hexdigest()


# ---------------------------------------------------------------- import


def _read_settings(settings: dict | str | Path) -> dict:
    if isinstance(settings, dict):
        data = copy.deepcopy(settings)
    elif isinstance(settings, str) and settings.lstrip().startswith("{"):
        data = parse_json_text(settings)
    else:
        path = Path(settings)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ManifestError(
                [Problem("", f"cannot read {path}: {exc.strerror}", "check the path")], str(path)
            ) from None
        data = parse_json_text(raw, str(path))
    if not isinstance(data, dict):
        raise ManifestError(
            [Problem("", "a Deforum settings file is a JSON object", "pass the settings .txt Deforum saved")]
        )
    # The API wraps settings: accept a whole request body too.
    if isinstance(data.get("deforum_settings"), dict):
        data = data["deforum_settings"]
    return data


def _upgrade_legacy(data: dict) -> None:
    """The renames Deforum's own deprecation_utils applies to old settings files."""
    if "flip_2d_perspective" in data and "enable_perspective_flip" not in data:
        data["enable_perspective_flip"] = data.pop("flip_2d_perspective")
    if isinstance(data.get("color_coherence"), str) and data["color_coherence"].startswith("Match Frame 0 "):
        data["color_coherence"] = data["color_coherence"][len("Match Frame 0 ") :]
    if isinstance(data.get("diffusion_cadence"), str) and data["diffusion_cadence"].strip().isdigit():
        data["diffusion_cadence"] = int(data["diffusion_cadence"])
    if isinstance(data.get("hybrid_composite"), bool):
        data["hybrid_composite"] = "Normal" if data["hybrid_composite"] else "None"
    if isinstance(data.get("reroll_blank_frames"), bool):
        data["reroll_blank_frames"] = "reroll" if data["reroll_blank_frames"] else "ignore"


def _unmerge_run_prompt(text: str, pos: str, neg: str) -> str:
    """Undo `f"{pos} {prompt} {'' if '--neg' in prompt else '--neg'} {neg}"` (Deforum's process_args),
    which files saved by a run (with `positive_prompts`/`negative_prompts`) contain."""
    out = text
    if out.startswith(f"{pos} "):
        out = out[len(pos) + 1 :]
    if out.endswith(f" {neg}"):
        out = out[: len(out) - len(neg) - 1]
        if out.endswith(" --neg"):
            out = out[: -len(" --neg")]
        elif out.endswith(" "):
            out = out[:-1]
    return out


def _strip_prefix(combined: str, prefix: str) -> str:
    combined, prefix = combined.strip(), prefix.strip()
    if not prefix:
        return combined
    if combined == prefix:
        return ""
    if combined.startswith(prefix + ", "):
        return combined[len(prefix) + 2 :]
    return combined


def _int_or_none(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
        return int(v)
    return None


def _same(a, b) -> bool:
    """Equal as Deforum would use them (10 == 10.0, but True != 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def import_deforum_report(
    settings: dict | str | Path,
    *,
    manifest: dict | None = None,
    index: int = 0,
    start_frame: int = 0,
    title: str | None = None,
    seed: int | None = None,
) -> tuple[dict, list[str]]:
    """import_deforum plus the notes a director should read (settings dropped or kept elsewhere)."""
    data = _read_settings(settings)
    _upgrade_legacy(data)
    notes: list[str] = []
    problems: list[Problem] = []

    prompts = _read_prompts(data, problems)
    run_saved = "animation_prompts_positive" not in data and ("positive_prompts" in data or "negative_prompts" in data)
    pos, neg = _read_prefix_prompts(data, problems)
    frame_count = _read_frame_count(data, problems)
    clean_prompts = _keyframe_prompts(prompts, frame_count, (pos, neg) if run_saved else None, notes, problems)
    seed = _read_seed(data, seed, problems)
    segment: dict[str, Any] = {
        "index": index,
        "title": title or f"Imported segment {index}",
        "start_frame": start_frame,
        "frame_count": frame_count,
        "prompts": clean_prompts,
        "seed": seed,
    }

    base = _export_base(data, manifest, notes)
    defaults = (manifest or {}).get("defaults", {})
    seg_pos = _strip_prefix(pos, defaults.get("positive_prompt", ""))
    seg_neg = _strip_prefix(neg, defaults.get("negative_prompt", ""))
    if seg_pos:
        segment["positive_prompt"] = seg_pos
    if seg_neg:
        segment["negative_prompt"] = seg_neg
    camera = {key: v for key in CAMERA_KEYS if isinstance(v := data.get(key), str) and v != neutral(key)}
    if camera:
        segment["camera"] = camera
    cadence = _int_or_none(data.get("diffusion_cadence"))
    if cadence is not None and cadence != base["diffusion_cadence"]:
        segment["diffusion_cadence"] = cadence
    init_image = _read_init_image(data, notes)
    if init_image is not None:
        segment["init_image"] = init_image
    overrides = _deforum_overrides(data, base, manifest, notes)
    if overrides:
        segment["deforum_overrides"] = overrides

    problems += [Problem(p.pointer, p.message, p.hint) for p in validate_segment(segment, manifest)]
    if problems:
        raise ManifestError(problems, "Deforum settings")
    return segment, notes


def _read_prompts(data: dict, problems: list[Problem]) -> dict:
    """The keyframe prompts as Deforum saved them (an object, or its JSON text)."""
    prompts = data.get("prompts", data.get("animation_prompts"))
    if isinstance(prompts, str):
        try:
            prompts = json.loads(prompts)
        except json.JSONDecodeError:
            prompts = None
    if not isinstance(prompts, dict) or not prompts:
        problems.append(
            Problem(
                "/prompts",
                "the settings have no `prompts` object",
                'Deforum saves prompts as {"0": "...", "30": "..."}; add them',
            )
        )
        return {}
    return prompts


def _read_prefix_prompts(data: dict, problems: list[Problem]) -> tuple[str, str]:
    """(positive, negative) text Deforum adds to every prompt."""
    pos = data.get("animation_prompts_positive", data.get("positive_prompts", "")) or ""
    neg = data.get("animation_prompts_negative", data.get("negative_prompts", "")) or ""
    if not isinstance(pos, str) or not isinstance(neg, str):
        problems.append(Problem("/animation_prompts_positive", "positive/negative prompts must be text", "use strings"))
        pos, neg = "", ""
    return pos, neg.replace("--neg", "").strip()  # Deforum removes a stray --neg here too


def _read_frame_count(data: dict, problems: list[Problem]) -> int:
    frame_count = _int_or_none(data.get("max_frames"))
    if frame_count is None or not 1 <= frame_count <= 10_000:
        problems.append(
            Problem(
                "/max_frames",
                f"max_frames {data.get('max_frames')!r} is not a frame count from 1 to 10000",
                "set max_frames to the number of frames of this segment",
            )
        )
        frame_count = frame_count if frame_count and frame_count > 0 else 1
    return frame_count


def _keyframe_prompts(
    prompts: dict,
    frame_count: int,
    run_merged: tuple[str, str] | None,
    notes: list[str],
    problems: list[Problem],
) -> dict[str, str]:
    """Frame number -> prompt; `run_merged` is (positive, negative) when a run merged them into each prompt."""
    clean: dict[str, str] = {}
    for key, text in prompts.items():
        frame = _int_or_none(key)
        if frame is None or frame < 0:
            problems.append(
                Problem(
                    pointer("prompts", key),
                    f"prompt key `{key}` is not a frame number",
                    "Movie Minter keyframes are whole frame numbers; replace expressions such as "
                    "`max_f/2` by the frame they evaluate to",
                )
            )
            continue
        if not isinstance(text, str):
            problems.append(Problem(pointer("prompts", key), "a prompt must be text", "write the prompt as a string"))
            continue
        if frame >= frame_count:
            notes.append(
                f"prompt at frame {frame} dropped: the job has only {frame_count} frames (Deforum never reaches it)"
            )
            continue
        if run_merged is not None:
            text = _unmerge_run_prompt(text, *run_merged)
        clean[str(frame)] = text
    return clean


def _read_seed(data: dict, seed: int | None, problems: list[Problem]) -> int:
    """The given seed, else the settings' own (a random one, -1, is a problem)."""
    if seed is None:
        seed = _int_or_none(data.get("seed"))
        if seed is None or seed < 0:
            problems.append(
                Problem(
                    "/seed",
                    f"the settings have seed {data.get('seed')!r}, which means a random seed",
                    "pass --seed N (a fixed seed makes every minter render the same frames)",
                )
            )
            seed = 0
    if not 0 <= seed <= 4294967295:
        problems.append(Problem("/seed", f"seed {seed} is outside 0..4294967295", "use a 32-bit seed"))
    return seed


def _export_base(data: dict, manifest: dict | None, notes: list[str]) -> dict:
    """What export would send for this segment under the given manifest (or none); notes on
    the settings that belong to the movie, not the segment."""
    movie_keys = (("W", "width"), ("H", "height"), ("fps", "fps"))
    if manifest is not None:
        base = _movie_settings(manifest)
    else:
        base = {key: neutral(key) for key in deforum_keys()}
        base["animation_prompts_positive"] = base["animation_prompts_negative"] = ""
        base["diffusion_cadence"] = DEFAULT_CADENCE
        for key, field in movie_keys:
            if key in data:
                notes.append(f"{key} = {data[key]!r} belongs to the movie (movie.{field}); set it there")
    if data.get("sd_model_name") or data.get("sd_model_hash"):
        notes.append(
            f"checkpoint {data.get('sd_model_name')!r} (hash {data.get('sd_model_hash')!r}) belongs to "
            "models.checkpoint, pinned by its full sha256"
        )
    if manifest is not None:
        for key, field in movie_keys:
            if key in data and not _same(data[key], base[key]):
                notes.append(
                    f"{key} = {data[key]!r} differs from movie.{field} = {base[key]!r}; the movie's value is used"
                )
    return base


def _read_init_image(data: dict, notes: list[str]) -> dict | None:
    """segments[].init_image from an init image given by IPFS CID; any other is noted and dropped."""
    init = data.get("init_image")
    if data.get("use_init") is not True or not isinstance(init, str) or not init:
        return None
    if not init.startswith(INIT_IMAGE_PREFIX):
        notes.append(
            f"init image {init!r} dropped: a manifest names init images by IPFS CID "
            "(add segments[].init_image.cid after `ipfs add`)"
        )
        return None
    out: dict[str, Any] = {"cid": init[len(INIT_IMAGE_PREFIX) :]}
    strength = data.get("strength", INIT_STRENGTH_DEFAULT)
    if isinstance(strength, (int, float)) and not _same(strength, INIT_STRENGTH_DEFAULT):
        out["strength"] = strength
    return out


def _deforum_overrides(data: dict, base: dict, manifest: dict | None, notes: list[str]) -> dict:
    """The Deforum settings that differ from what export would send anyway; notes on the
    reserved and unknown keys, which are ignored."""
    overrides = {}
    handled = set(OWNED) | set(CAMERA_KEYS)
    for key, entry in deforum_keys().items():
        if key in handled or key in IGNORED_ON_IMPORT or key not in data:
            continue
        value = data[key]
        if manifest is None and key in DEFAULTS_OWNED:
            # without the movie we cannot know its defaults: keep these explicitly
            overrides[key] = value
            continue
        if _same(value, base.get(key)) or (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and isinstance(base.get(key), (int, float))
            and value == base.get(key)
        ):
            continue
        if key in RESERVED:
            if key != "batch_name" and not _same(value, entry["deforum_default"]) and value not in ("", None):
                notes.append(f"{key} = {value!r} ignored: {RESERVED[key]}")
            continue
        overrides[key] = value
    for key in sorted(
        set(data)
        - set(deforum_keys())
        - IGNORED_ON_IMPORT
        - {"animation_prompts", "positive_prompts", "negative_prompts"}
    ):
        notes.append(f"{key} ignored: not a setting this Deforum key table knows")
    return overrides


def import_deforum(
    settings: dict | str | Path,
    *,
    manifest: dict | None = None,
    index: int = 0,
    start_frame: int = 0,
    title: str | None = None,
    seed: int | None = None,
) -> dict:
    """A valid segment from Deforum settings (a dict, the settings .txt path, or its JSON text).

    With `manifest`, only what differs from that movie's defaults is kept, so
    import_deforum(export_deforum(m, i)["deforum_settings"], manifest=m, ...)
    gives back segment i (normalized: see normalize_segment).
    Raises ManifestError listing everything that cannot become a segment.
    """
    return import_deforum_report(
        settings, manifest=manifest, index=index, start_frame=start_frame, title=title, seed=seed
    )[0]


# ---------------------------------------------------------------- segment-level helpers

_STUB_MANIFEST: dict[str, Any] = {
    "manifest_version": 1,
    "movie": {
        "title": "stub",
        "fps": 12,
        "width": 512,
        "height": 512,
        "license": "CC0-1.0",
        "encoding": {
            "codec": "h264",
            "profile": "high",
            "level": "4.0",
            "pix_fmt": "yuv420p",
            "preset": "veryfast",
            "crf": 20,
            "timescale": 12288,
        },
    },
    "models": {"checkpoint": {"name": "stub", "sha256": "0" * 64, "autov2": "0" * 10, "format": "safetensors"}},
    "defaults": {"sampler": "Euler a", "steps": 20, "seed_behavior": "iter"},
    "segments": [],
}


def validate_segment(segment: dict, manifest: dict | None = None) -> list[Problem]:
    """Problems of one segment on its own (pointers relative to the segment).

    With a manifest, LoRA references are checked against its models.loras;
    without one, any LoRA name is accepted.
    """
    stub = copy.deepcopy(manifest) if manifest is not None else copy.deepcopy(_STUB_MANIFEST)
    if manifest is None:
        texts = [t for t in (segment.get("prompts") or {}).values() if isinstance(t, str)]
        texts += [segment.get("positive_prompt") or "", segment.get("negative_prompt") or ""]
        names = sorted({m.group(1) for t in texts for m in LORA_TAG.finditer(t)})
        stub["models"]["loras"] = [
            {"name": n, "sha256": "0" * 64, "autov2": "0" * 10, "format": "safetensors"} for n in names if n
        ]
    one = copy.deepcopy(segment)
    if isinstance(one, dict):
        one["index"], one["start_frame"] = 0, 0
    stub["segments"] = [one]
    out = []
    for p in validate_manifest(stub, allow_pickle=True):
        if p.pointer.startswith("/segments/0"):
            out.append(Problem(p.pointer[len("/segments/0") :], p.message, p.hint))
        elif p.pointer.startswith("/models/loras") and manifest is None:
            continue
    return out


def normalize_segment(segment: dict, manifest: dict | None = None) -> dict:
    """The segment with everything that equals what it would inherit removed, so
    two segments that export to the same Deforum settings compare equal."""
    seg = copy.deepcopy(segment)
    defaults = (manifest or {}).get("defaults", {})
    if "prompts" in seg:
        seg["prompts"] = _sorted_prompts(seg["prompts"])
    for key in ("positive_prompt", "negative_prompt"):
        if key in seg and not seg[key].strip():
            del seg[key]
        elif key in seg:
            seg[key] = seg[key].strip()
    camera = {k: v for k, v in (seg.get("camera") or {}).items() if v != neutral(k)}
    seg.pop("camera", None)
    if camera:
        seg["camera"] = camera
    if seg.get("diffusion_cadence") == defaults.get("diffusion_cadence", DEFAULT_CADENCE):
        seg.pop("diffusion_cadence")
    init = seg.get("init_image")
    if init and _same(init.get("strength", INIT_STRENGTH_DEFAULT), INIT_STRENGTH_DEFAULT):
        init.pop("strength", None)
    if manifest is not None:
        base = _movie_settings(manifest)
        overrides = {k: v for k, v in (seg.get("deforum_overrides") or {}).items() if not _same(v, base.get(k))}
    else:
        overrides = {k: v for k, v in (seg.get("deforum_overrides") or {}).items() if not _same(v, neutral(k))}
    seg.pop("deforum_overrides", None)
    if overrides:
        seg["deforum_overrides"] = overrides
    return seg
