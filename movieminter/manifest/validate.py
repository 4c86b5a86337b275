"""Load and validate a movie manifest: JSON Schema first, then the rules a
schema cannot express. Every problem is reported at once, each with a JSON
pointer, what is wrong and how to fix it."""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeGuard

import jsonschema
import numpy as np

from movieminter.errors import MovieMinterError
from movieminter.manifest.keys import (
    ALLOWED_VALUES,
    CAMERA_KEYS,
    DEFAULTS_OWNED,
    OWNED,
    RESERVED,
    deforum_keys,
    is_schedule_key,
)
from movieminter.manifest.problems import ManifestError, Problem, pointer, pointer_sort_key
from movieminter.manifest.schedules import ScheduleError, check_expression, evaluate_schedule, parse_schedule

SCHEMA_FILE = "movie-manifest-v1.schema.json"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_SEGMENTS = 10_000
MAX_FRAMES_PER_SEGMENT = 10_000
DEFAULT_SCHEDULES = ("cfg_scale_schedule", "strength_schedule", "noise_schedule")
LORA_TAG = re.compile(r"<lora:([^:>]*)(?::([^>]*))?>", re.IGNORECASE)
OTHER_NETWORK_TAG = re.compile(r"<(lyco|hypernet|lycoris|embedding):([^:>]*)", re.IGNORECASE)
BACKTICK = re.compile(r"`([^`]*)`")
# (low, high or None, low excluded?, why) for schedules whose values Deforum cannot use outside a range
SCHEDULE_RANGES = {
    "strength_schedule": (0.0, 1.0, False, "strength is the share of the previous frame kept (0 to 1)"),
    "noise_schedule": (0.0, None, False, "noise cannot be negative"),
    "zoom": (0.0, None, True, "zoom scales the image and must stay positive (1.0 = still)"),
}
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


@lru_cache(maxsize=1)
def schema() -> dict:
    """The manifest's JSON Schema (draft 2020-12), as shipped in the package."""
    return json.loads(resources.files("movieminter.manifest").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


# ---------------------------------------------------------------- loading


def _reject_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key {k!r} appears twice in one object")
        out[k] = v
    return out


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_json_text(text: str | bytes, source: str | None = None) -> Any:
    """Strict JSON: no duplicate keys, no NaN/Infinity. Raises ManifestError."""
    if isinstance(text, bytes):
        if len(text) > MAX_MANIFEST_BYTES:
            raise ManifestError(
                [
                    Problem(
                        "",
                        f"the manifest is {len(text)} bytes (at most {MAX_MANIFEST_BYTES})",
                        "a manifest holds settings, not media; move large data to IPFS and reference its CID",
                    )
                ],
                source,
            )
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ManifestError(
                [Problem("", f"the file is not UTF-8 text (byte {exc.start})", "save the manifest as UTF-8 JSON")],
                source,
            ) from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            [
                Problem(
                    "",
                    f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                    "fix the JSON syntax there (a missing comma or quote is the usual cause)",
                )
            ],
            source,
        ) from None
    except ValueError as exc:
        raise ManifestError(
            [Problem("", f"not valid JSON: {exc}", "remove the duplicate or invalid value")], source
        ) from None


def read_source(source: str | Path | bytes | dict) -> tuple[Any, str | None]:
    if isinstance(source, dict):
        return copy.deepcopy(source), None
    if isinstance(source, bytes):
        return parse_json_text(source), None
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return parse_json_text(source), None
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError([Problem("", f"file not found: {path}", "check the path")], str(path)) from None
    except OSError as exc:
        raise ManifestError(
            [Problem("", f"cannot read {path}: {exc.strerror}", "check the path and its permissions")], str(path)
        ) from None
    return parse_json_text(data, str(path)), str(path)


def load_manifest(source: str | Path | bytes | dict, *, allow_pickle: bool = False) -> dict:
    """Read (path, JSON text/bytes or dict) and validate a manifest; return it as a dict.

    Raises ManifestError with `.problems` listing everything wrong.
    """
    data, name = read_source(source)
    problems = validate_manifest(data, allow_pickle=allow_pickle)
    if problems:
        raise ManifestError(problems, name)
    return data


def get_segment(manifest: dict, index: int) -> dict:
    """The segment whose `index` is `index` (segments are stored in index order)."""
    segments = manifest.get("segments") or []
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(segments):
        raise MovieMinterError(
            f"no segment {index!r}: this movie has segments 0..{len(segments) - 1}",
            hint="pick a segment index from the manifest's segments list",
        )
    return segments[index]


# ---------------------------------------------------------------- schema errors


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


_TYPE_WORDS: dict[str, str] = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "object": "an object",
    "array": "an array",
    "boolean": "true or false",
    "null": "null",
}

# field name -> (what it must be, example)
_PATTERNS = {
    "sha256": (
        "64 lowercase hex digits (the sha256 of the whole model file)",
        "run `sha256sum FILE` and paste the result in lowercase",
    ),
    "autov2": ("10 hex digits (Civitai's AutoV2 hash)", "use the first 10 hex digits of the file's sha256"),
    "cid": ("an IPFS CID (CIDv0 `Qm…` or CIDv1 base32 `b…`)", "paste the CID that `ipfs add` printed"),
    "creator": (
        "an EVM address (0x followed by 40 hex digits) or null",
        "paste the wallet address, or null until the movie is published",
    ),
    "director": (
        "an EVM address (0x followed by 40 hex digits) or null",
        "paste the wallet address, or null until the movie is published",
    ),
    "level": ("an H.264 level such as `4.0` or `4.1`", 'use e.g. "4.0"'),
    "bitrate": ("an audio bitrate such as `128k`", 'use e.g. "128k"'),
    "x264_params": (
        "x264 options `key=value:key=value` (letters, digits, _ = : . , -)",
        'e.g. "scenecut=0:open-gop=0"',
    ),
}


def _friendly(err: jsonschema.ValidationError) -> list[Problem]:
    """A schema error as problems a director can act on (what is wrong, and how to fix it)."""
    path = list(err.absolute_path)
    ptr = pointer(*path)
    field = str(path[-1]) if path else "manifest"
    if err.validator == "required":
        return _missing_fields(err, path, ptr)
    if err.validator == "additionalProperties":
        return _unknown_fields(err, path, field)
    found = _wrong_kind(err, ptr, field) or _out_of_limits(err, ptr, field)
    if found is not None:
        return found
    return [Problem(ptr, f"`{field}` is not valid: {err.message}", "see docs/manifest.md")]


def _missing_fields(err: jsonschema.ValidationError, path: list[Any], ptr: str) -> list[Problem]:
    value = err.instance
    out: list[Problem] = []
    for name in err.validator_value:
        if isinstance(value, dict) and name not in value:
            out.append(
                Problem(
                    pointer(*path, name),
                    f"required field `{name}` is missing",
                    f"add `{name}` to {ptr or 'the top level'} (see docs/manifest.md)",
                )
            )
    return out


def _unknown_fields(err: jsonschema.ValidationError, path: list[Any], field: str) -> list[Problem]:
    value = err.instance
    allowed = sorted(err.schema.get("properties", {}))
    out = []
    for name in value:
        if name in allowed:
            continue
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean `{close[0]}`?" if close else "remove it; allowed here: " + ", ".join(allowed) + "."
        if name in CAMERA_KEYS and len(path) >= 2 and path[-2] == "segments":
            hint = f'camera motion goes under `camera`: "camera": {{"{name}": "0: (…)"}}'
        elif (len(path) >= 2 and path[-2] == "segments") or field == "defaults":
            hint += " Other Deforum settings go in `deforum_overrides`."
        out.append(Problem(pointer(*path, name), f"unknown field `{name}`", hint))
    return out


def _wrong_kind(err: jsonschema.ValidationError, ptr: str, field: str) -> list[Problem] | None:
    """Type, enum, const and pattern errors; None for any other."""
    v, value = err.validator, err.instance
    if v == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in want)
        hint = f"write {words}"
        if isinstance(value, str) and "integer" in want and value.strip().lstrip("-").isdigit():
            hint = f"write {value.strip()} without quotes"
        elif isinstance(value, float) and "integer" in want:
            hint = f"use a whole number such as {int(value)}"
        return [Problem(ptr, f"`{field}` must be {words}, not {_type_name(value)}", hint)]
    if v == "enum":
        choices = ", ".join(json.dumps(c) for c in err.validator_value)
        if field == "seed_behavior" and value == "random":
            return [
                Problem(
                    ptr,
                    'seed_behavior "random" picks a new seed on every render, so no two minters '
                    "would render the same segment",
                    'use "iter" (seed + 1 per frame) or "fixed"',
                )
            ]
        if field == "format" and value not in err.validator_value:
            return [Problem(ptr, f"model format {json.dumps(value)} is not known", f"use one of {choices}")]
        return [
            Problem(ptr, f"`{field}` is {json.dumps(value)}, which is not one of {choices}", f"use one of {choices}")
        ]
    if v == "const":
        return [
            Problem(
                ptr,
                f"`{field}` must be {json.dumps(err.validator_value)}, not {json.dumps(value)}",
                f"set it to {json.dumps(err.validator_value)}"
                + (" (this tool reads version 1 manifests)" if field == "manifest_version" else ""),
            )
        ]
    if v in ("pattern", "oneOf") and field in _PATTERNS:
        what, hint = _PATTERNS[field]
        return [Problem(ptr, f"`{field}` {json.dumps(value)} is not {what}", hint)]
    if v == "pattern":
        return [
            Problem(ptr, f"`{field}` {json.dumps(value)} does not have the expected format", "see docs/manifest.md")
        ]
    return None


def _out_of_limits(err: jsonschema.ValidationError, ptr: str, field: str) -> list[Problem] | None:
    """Number, length and size limits; None for any other error."""
    v, value = err.validator, err.instance
    if v == "minimum":
        return [
            Problem(
                ptr,
                f"`{field}` is {value}, below the minimum {err.validator_value}",
                f"use {err.validator_value} or more",
            )
        ]
    if v == "maximum":
        limit = err.validator_value
        hint = f"use at most {limit}"
        if field == "frame_count":
            hint = f"split the segment into segments of at most {limit} frames"
        return [Problem(ptr, f"`{field}` is {value}, above the maximum {limit}", hint)]
    if v == "multipleOf":
        m = err.validator_value
        lo, hi = int(value // m * m), int(value // m * m + m)
        return [Problem(ptr, f"`{field}` {value} is not a multiple of {m}", f"use {lo} or {hi}")]
    if v == "minLength":
        return [Problem(ptr, f"`{field}` is empty", f"write the {field}")]
    if v == "maxLength":
        return [
            Problem(
                ptr,
                f"`{field}` is {len(value)} characters long, above {err.validator_value}",
                f"shorten it to at most {err.validator_value} characters",
            )
        ]
    if v == "minItems":
        return [Problem(ptr, f"`{field}` needs at least {err.validator_value} item(s)", f"add {field}")]
    if v == "maxItems":
        hint = "split the movie into several movies" if field == "segments" else f"keep at most {err.validator_value}"
        return [Problem(ptr, f"`{field}` has {len(value)} items, above the limit {err.validator_value}", hint)]
    if v == "minProperties":
        return [Problem(ptr, f"`{field}` is empty", 'add at least one entry, e.g. {"0": "a prompt"}')]
    if v == "maxProperties":
        return [Problem(ptr, f"`{field}` has {len(value)} entries, above {err.validator_value}", "remove some")]
    return None


def _schema_problems(data: Any) -> list[Problem]:
    out: list[Problem] = []
    for err in _validator().iter_errors(data):
        path = list(err.absolute_path)
        field = path[-1] if path else None
        # names get their own, more specific check below
        if err.validator == "pattern" and field == "name":
            continue
        if "propertyNames" in err.schema_path:
            # jsonschema reports a bad key at its object's path with the key as instance
            key = err.instance
            if isinstance(key, str):
                if field == "prompts":
                    out.append(
                        Problem(
                            pointer(*path, key),
                            f"prompt key `{key}` is not a frame number",
                            "prompt keys are whole frame numbers relative to the segment start, "
                            'written without leading zeros: "0", "24"',
                        )
                    )
                else:
                    out.append(
                        Problem(
                            pointer(*path, key),
                            f"`{key}` is not a Deforum setting name",
                            "Deforum keys are letters, digits and underscores, e.g. `color_coherence`",
                        )
                    )
            continue
        out.extend(_friendly(err))
    return out


# ---------------------------------------------------------------- semantic checks


def check_name(value: Any) -> tuple[str, str] | None:
    """Why a model name could act as a path (or be unusable), or None if it is safe."""
    if not isinstance(value, str) or not value:
        return None  # the schema reports type/empty
    fix = "use only letters, digits, space, _ . ( ) + - and start with a letter or digit (e.g. `dreamshaper_8`)"
    if "\x00" in value:
        return "the name contains a NUL character", fix
    if "/" in value or "\\" in value:
        return f"the name {json.dumps(value)} contains a path separator; names are never paths", fix
    if ".." in value:
        return f"the name {json.dumps(value)} contains `..`; names are never paths", fix
    if re.match(r"^[A-Za-z]:", value):
        return f"the name {json.dumps(value)} starts with a drive letter; names are never paths", fix
    if value.startswith("."):
        return f"the name {json.dumps(value)} starts with a dot", fix
    if value != value.strip():
        return f"the name {json.dumps(value)} starts or ends with a space", "remove the leading/trailing spaces"
    if value.split(".")[0].lower() in WINDOWS_RESERVED:
        return f"the name {json.dumps(value)} is reserved on Windows", "rename the model"
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9 _.()+\-]*$", value):
        return f"the name {json.dumps(value)} contains characters that are not allowed", fix
    return None


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_schedule(
    text: Any, ptr: str, frame_count: int | None, problems: list[Problem], *, scope: str = "this segment", seed: int = 0
) -> None:
    if not isinstance(text, str):
        return
    try:
        keys = parse_schedule(text)
    except ScheduleError as exc:
        problems.append(Problem(ptr, f"schedule {json.dumps(text)}: {exc.message}", exc.hint))
        return
    if keys[0][0] != 0:
        problems.append(
            Problem(
                ptr,
                f"schedule {json.dumps(text)} has no keyframe at frame 0",
                f"start it with `0: (value)`, e.g. `0: {keys[0][1]}, {text.strip()}`",
            )
        )
        return
    if frame_count is None:
        return
    outside = [f for f, _ in keys if f >= frame_count]
    if outside:
        problems.append(
            Problem(
                ptr,
                f"keyframe {outside[0]} is outside {scope} (frames 0-{frame_count - 1})",
                f"frames are counted from the segment start; use frames below {frame_count}, or lengthen the segment",
            )
        )
        return
    try:
        with np.errstate(all="ignore"):
            values = evaluate_schedule(text, frame_count, seed=seed)
    except Exception as exc:  # numexpr's own complaints (type errors and the like)
        problems.append(
            Problem(
                ptr,
                f"schedule {json.dumps(text)} cannot be evaluated: {exc}",
                "simplify the expression; see docs/manifest.md for what is allowed",
            )
        )
        return
    bad = next((i for i, x in enumerate(values) if not math.isfinite(x)), None)
    if bad is not None:
        problems.append(
            Problem(
                ptr,
                f"schedule {json.dumps(text)} is not a finite number at frame {bad}",
                "avoid dividing by zero and sqrt/log of negative numbers",
            )
        )
        return
    key = ptr.rsplit("/", 1)[-1]
    if key in SCHEDULE_RANGES:
        lo, hi, lo_open, why = SCHEDULE_RANGES[key]
        for i, x in enumerate(values):
            if (x <= lo if lo_open else x < lo) or (hi is not None and x > hi):
                problems.append(
                    Problem(
                        ptr,
                        f"{key} is {x:g} at frame {i}; {why}",
                        "keep it "
                        + (f"above {lo:g}" if lo_open else f"at least {lo:g}")
                        + (f" and at most {hi:g}" if hi is not None else ""),
                    )
                )
                break


def _check_prompt_text(text: Any, ptr: str, lora_names: set[str], problems: list[Problem], *, allow_neg: bool) -> None:
    if not isinstance(text, str):
        return
    n_neg = text.count("--neg")
    if n_neg > (1 if allow_neg else 0):
        problems.append(
            Problem(
                ptr,
                "`--neg` may appear once per keyframe prompt"
                if allow_neg
                else "`--neg` is only meaningful inside a keyframe prompt",
                "put everything negative after a single `--neg`"
                if allow_neg
                else "write the negative text without `--neg`",
            )
        )
    for m in LORA_TAG.finditer(text):
        name, weight = m.group(1), m.group(2)
        if name not in lora_names:
            known = ", ".join(sorted(lora_names)) or "none listed"
            close = difflib.get_close_matches(name, sorted(lora_names), n=1)
            problems.append(
                Problem(
                    ptr,
                    f"the prompt uses LoRA `{name}`, which is not listed in models.loras",
                    (f"did you mean `{close[0]}`? " if close else "")
                    + f"add it to models.loras with its sha256 (listed: {known})",
                )
            )
        if weight is not None:
            try:
                float(weight)
            except ValueError:
                problems.append(
                    Problem(
                        ptr, f"LoRA weight `{weight}` in `{m.group(0)}` is not a number", "write e.g. `<lora:NAME:0.8>`"
                    )
                )
    for m in OTHER_NETWORK_TAG.finditer(text):
        problems.append(
            Problem(
                ptr,
                f"`<{m.group(1)}:{m.group(2)}…>` loads a network the manifest does not pin",
                "use a LoRA listed in models.loras (`<lora:NAME:WEIGHT>`)",
            )
        )
    for m in BACKTICK.finditer(text):
        try:
            check_expression(m.group(1))
        except ScheduleError as exc:
            problems.append(Problem(ptr, f"prompt weight expression: {exc.message}", exc.hint))
    if text.count("`") % 2:
        problems.append(Problem(ptr, "unpaired backtick `", "Deforum evaluates text between two backticks; close it"))


def _check_overrides(overrides: Any, ptr: str, *, level: str, frame_count: int | None, problems: list[Problem]) -> None:
    if not isinstance(overrides, dict):
        return
    table = deforum_keys()
    for key, value in overrides.items():
        kp = ptr + pointer(key)
        if key in OWNED:
            problems.append(
                Problem(
                    kp, f"`{key}` is set by the manifest itself, not by deforum_overrides", f"use {OWNED[key]} instead"
                )
            )
            continue
        if key in RESERVED:
            problems.append(Problem(kp, f"`{key}` cannot be overridden: {RESERVED[key]}", "remove it"))
            continue
        if level == "defaults" and key in DEFAULTS_OWNED:
            problems.append(Problem(kp, f"`{key}` has its own field", f"use {DEFAULTS_OWNED[key]} instead"))
            continue
        if key not in table:
            close = difflib.get_close_matches(key, list(table), n=1)
            problems.append(
                Problem(
                    kp,
                    f"`{key}` is not a setting Deforum reads",
                    f"did you mean `{close[0]}`?"
                    if close
                    else "check the spelling against Deforum's settings (movieminter/manifest/deforum_keys.json)",
                )
            )
            continue
        default = table[key]["deforum_default"]
        if default is not None and value is not None:
            ok = (isinstance(value, bool) == isinstance(default, bool)) and (
                isinstance(value, str)
                if isinstance(default, str)
                else isinstance(value, (int, float))
                if isinstance(default, (int, float)) and not isinstance(default, bool)
                else isinstance(value, bool)
                if isinstance(default, bool)
                else isinstance(value, type(default))
            )
            if not ok:
                problems.append(
                    Problem(
                        kp,
                        f"`{key}` must be {_type_name(default)} like Deforum's default "
                        f"{json.dumps(default)}, not {_type_name(value)}",
                        f"write e.g. {json.dumps(default)}",
                    )
                )
                continue
        if key in ALLOWED_VALUES and value not in ALLOWED_VALUES[key]:
            choices = ", ".join(json.dumps(c) for c in ALLOWED_VALUES[key])
            if key == "seed_behavior" and value == "random":
                problems.append(
                    Problem(
                        kp,
                        'seed_behavior "random" picks a new seed on every render, so no two '
                        "minters would render the same segment",
                        'use "iter" or "fixed"',
                    )
                )
            else:
                problems.append(Problem(kp, f"`{key}` {json.dumps(value)} is not allowed", f"use one of {choices}"))
            continue
        if is_schedule_key(key):
            _check_schedule(
                value, kp, frame_count, problems, scope="this segment" if level == "segment" else "the longest segment"
            )


MAX_DEPTH = 16  # the schema's deepest path is 6 levels; deeper nesting is refused before it is walked


def _shape_problems(data: Any) -> list[Problem]:
    """Nesting depth and non-finite numbers (NaN, Infinity), found without recursion: a manifest
    parsed by someone else's JSON reader may carry either, and both crash or mislead later steps."""
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return [
                Problem(
                    pointer(*path[:MAX_DEPTH]),
                    f"the manifest nests deeper than {MAX_DEPTH} levels",
                    "a manifest is a shallow settings file; remove the nested data",
                )
            ]
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(
                Problem(
                    pointer(*path),
                    f"{value} is not a number JSON allows",
                    "write a finite number (NaN and Infinity are not JSON)",
                )
            )
        elif isinstance(value, dict):
            stack += [(v, (*path, k)) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, (*path, i)) for i, v in enumerate(value)]
    return problems


def validate_manifest(data: Any, *, allow_pickle: bool = False) -> list[Problem]:
    """Every problem in `data` (an already parsed manifest); [] when it is valid."""
    shape = _shape_problems(data)
    if shape:
        return shape
    problems = _schema_problems(data)
    if not isinstance(data, dict):
        return problems
    models, defaults, segments = data.get("models"), data.get("defaults"), data.get("segments")
    models = models if isinstance(models, dict) else {}
    defaults = defaults if isinstance(defaults, dict) else {}
    segments = segments if isinstance(segments, list) else []

    lora_names = _check_models(models, allow_pickle, problems)
    _check_defaults(defaults, segments, lora_names, problems)
    # segments: order, contiguity, keyframes, prompts, camera
    expected_start: int | None = 0
    for pos, seg in enumerate(segments):
        if not isinstance(seg, dict):
            expected_start = None
            continue
        expected_start = _check_segment(pos, seg, expected_start, lora_names, problems)

    problems = list(dict.fromkeys(problems))  # identical problems once
    problems.sort(key=lambda p: pointer_sort_key(p.pointer))
    return problems


def _check_models(models: dict[str, Any], allow_pickle: bool, problems: list[Problem]) -> set[str]:
    """Names, hashes and formats of the models; the LoRA names (prompts may use them)."""
    entries: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []
    if isinstance(models.get("checkpoint"), dict):
        entries.append((("models", "checkpoint"), models["checkpoint"]))
    loras = models.get("loras")
    loras = loras if isinstance(loras, list) else []
    entries += [(("models", "loras", i), m) for i, m in enumerate(loras) if isinstance(m, dict)]
    for path, m in entries:
        bad = check_name(m.get("name"))
        if bad:
            problems.append(Problem(pointer(*path, "name"), *bad))
        sha, av2 = m.get("sha256"), m.get("autov2")
        if (
            isinstance(sha, str)
            and isinstance(av2, str)
            and re.fullmatch(r"[0-9a-f]{64}", sha)
            and re.fullmatch(r"[0-9a-fA-F]{10}", av2)
            and av2.lower() != sha[:10]
        ):
            problems.append(
                Problem(
                    pointer(*path, "autov2"),
                    f"autov2 {av2} does not match sha256 (which starts {sha[:10]})",
                    f'set autov2 to "{sha[:10].upper()}" or fix the sha256',
                )
            )
        if m.get("format") == "pickletensor" and not allow_pickle:
            problems.append(
                Problem(
                    pointer(*path, "format"),
                    f"`{m.get('name')}` is a pickle file (.ckpt/.pt), which can run code when loaded",
                    "use a .safetensors version of the model, or pass --allow-pickle if you trust the file",
                )
            )
    lora_names: set[str] = set()
    for i, m in enumerate(loras):
        if isinstance(m, dict) and isinstance(m.get("name"), str):
            if m["name"] in lora_names:
                problems.append(
                    Problem(
                        pointer("models", "loras", i, "name"),
                        f"LoRA `{m['name']}` is listed twice",
                        "keep one entry per LoRA",
                    )
                )
            lora_names.add(m["name"])
    return lora_names


def _check_defaults(
    defaults: dict[str, Any], segments: list[Any], lora_names: set[str], problems: list[Problem]
) -> None:
    """The movie-wide schedules, prompts and overrides (schedules are checked over the longest segment)."""
    frame_counts = [
        s["frame_count"]
        for s in segments
        if isinstance(s, dict) and _is_int(s.get("frame_count")) and 1 <= s["frame_count"] <= MAX_FRAMES_PER_SEGMENT
    ]
    longest = max(frame_counts) if frame_counts else None
    for key in DEFAULT_SCHEDULES:
        if key in defaults:
            _check_schedule(defaults[key], pointer("defaults", key), longest, problems, scope="the longest segment")
    _check_prompt_text(
        defaults.get("positive_prompt"), pointer("defaults", "positive_prompt"), lora_names, problems, allow_neg=False
    )
    _check_prompt_text(
        defaults.get("negative_prompt"), pointer("defaults", "negative_prompt"), lora_names, problems, allow_neg=False
    )
    _check_overrides(
        defaults.get("deforum_overrides"),
        pointer("defaults", "deforum_overrides"),
        level="defaults",
        frame_count=longest,
        problems=problems,
    )


def _check_segment(
    pos: int, seg: dict[str, Any], expected_start: int | None, lora_names: set[str], problems: list[Problem]
) -> int | None:
    """One segment's place in the movie, keyframes, prompts and camera; the frame the next one should start at."""
    base = ("segments", pos)
    idx = seg.get("index")
    if _is_int(idx) and idx != pos:
        problems.append(
            Problem(
                pointer(*base, "index"),
                f"segment at position {pos} has index {idx}",
                f"number segments 0, 1, 2, … in list order: set index to {pos}",
            )
        )
    start, count = seg.get("start_frame"), seg.get("frame_count")
    if _is_int(start) and expected_start is not None and start != expected_start:
        problems.append(_start_frame_problem(pos, start, expected_start))
    # the chain continues from where this segment SHOULD start, so one wrong
    # start_frame is reported once, not again at every following segment
    if _is_int(count) and expected_start is not None:
        expected_start += count
    else:
        expected_start = None
    fc = count if _is_int(count) and 1 <= count <= MAX_FRAMES_PER_SEGMENT else None
    _check_keyframe_prompts(seg.get("prompts"), base, fc, lora_names, problems)
    _check_prompt_text(
        seg.get("positive_prompt"), pointer(*base, "positive_prompt"), lora_names, problems, allow_neg=False
    )
    _check_prompt_text(
        seg.get("negative_prompt"), pointer(*base, "negative_prompt"), lora_names, problems, allow_neg=False
    )
    raw_seed = seg.get("seed")
    seed = raw_seed if _is_int(raw_seed) else 0
    camera = seg.get("camera")
    if isinstance(camera, dict):
        for key, text in camera.items():
            _check_schedule(text, pointer(*base, "camera", key), fc, problems, seed=seed)
    _check_overrides(
        seg.get("deforum_overrides"),
        pointer(*base, "deforum_overrides"),
        level="segment",
        frame_count=fc,
        problems=problems,
    )
    return expected_start


def _start_frame_problem(pos: int, start: int, expected_start: int) -> Problem:
    if pos == 0:
        msg = f"the first segment starts at frame {start}"
    elif start > expected_start:
        msg = f"gap of {start - expected_start} frame(s): the previous segment ends at frame {expected_start - 1}"
    else:
        msg = f"overlap of {expected_start - start} frame(s): the previous segment ends at frame {expected_start - 1}"
    return Problem(
        pointer("segments", pos, "start_frame"),
        msg,
        "set start_frame to 0"
        if pos == 0
        else f"set start_frame to {expected_start} (the previous segment's start_frame + frame_count)",
    )


def _check_keyframe_prompts(
    prompts: Any, base: tuple[str, int], fc: int | None, lora_names: set[str], problems: list[Problem]
) -> None:
    if not isinstance(prompts, dict) or not prompts:
        return
    if "0" not in prompts:
        problems.append(
            Problem(
                pointer(*base, "prompts"),
                "no prompt at frame 0",
                'add a "0" key: Deforum needs a prompt for the segment\'s first frame',
            )
        )
    for key, text in prompts.items():
        kp = pointer(*base, "prompts", key)
        if fc is not None and re.fullmatch(r"0|[1-9][0-9]*", key) and int(key) >= fc:
            problems.append(
                Problem(
                    kp,
                    f"keyframe {key} is outside this segment (frames 0-{fc - 1})",
                    "prompt keys are frames relative to the segment start; use a key below "
                    f"{fc}, or lengthen the segment",
                )
            )
        _check_prompt_text(text, kp, lora_names, problems, allow_neg=True)
