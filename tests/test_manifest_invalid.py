"""Invalid manifests: each problem is reported with its JSON pointer, what is
wrong and how to fix it, and all problems come back at once."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movieminter.manifest import ManifestError, load_manifest, validate_manifest

CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


def _set(path, value):
    def apply(m):
        *parents, last = path
        target = m
        for p in parents:
            target = target[p]
        target[last] = value

    return apply


def _del(path):
    def apply(m):
        *parents, last = path
        target = m
        for p in parents:
            target = target[p]
        del target[last]

    return apply


# (id, mutation, pointer, fragment of the message, fragment of the hint)
CASES = [
    ("version", _set(["manifest_version"], 2), "/manifest_version", "must be 1, not 2", "set it to 1"),
    ("width-multiple", _set(["movie", "width"], 500), "/movie/width", "500 is not a multiple of 8", "use 496 or 504"),
    ("height-too-big", _set(["movie", "height"], 8192), "/movie/height", "above the maximum 4096", "at most 4096"),
    (
        "fps-quoted",
        _set(["movie", "fps"], "12"),
        "/movie/fps",
        "must be a whole number, not a string",
        "without quotes",
    ),
    ("title-missing", _del(["movie", "title"]), "/movie/title", "required field `title` is missing", "add `title`"),
    ("typo-field", _set(["movie", "titel"], "x"), "/movie/titel", "unknown field `titel`", "did you mean `title`"),
    (
        "camera-key-at-segment",
        _set(["segments", 0, "zoom"], "0: (1)"),
        "/segments/0/zoom",
        "unknown field `zoom`",
        "goes under `camera`",
    ),
    (
        "creator-address",
        _set(["movie", "creator"], "0x12"),
        "/movie/creator",
        "is not an EVM address",
        "wallet address",
    ),
    (
        "codec",
        _set(["movie", "encoding", "codec"], "vp9"),
        "/movie/encoding/codec",
        'must be "h264"',
        'set it to "h264"',
    ),
    ("crf", _set(["movie", "encoding", "crf"], 60), "/movie/encoding/crf", "above the maximum 51", "at most 51"),
    (
        "soundtrack-cid",
        _set(["movie", "soundtrack"], {"cid": "not-a-cid"}),
        "/movie/soundtrack/cid",
        "is not an IPFS CID",
        "ipfs add",
    ),
    (
        "sha256-format",
        _set(["models", "checkpoint", "sha256"], "ABC"),
        "/models/checkpoint/sha256",
        "is not 64 lowercase hex digits",
        "sha256sum",
    ),
    (
        "autov2-mismatch",
        _set(["models", "checkpoint", "autov2"], "1234567890"),
        "/models/checkpoint/autov2",
        "does not match sha256 (which starts 05c4eab871)",
        'set autov2 to "05C4EAB871"',
    ),
    (
        "pickle-refused",
        _set(["models", "loras", 0, "format"], "pickletensor"),
        "/models/loras/0/format",
        "is a pickle file",
        "--allow-pickle",
    ),
    (
        "name-traversal",
        _set(["models", "checkpoint", "name"], "../../evil"),
        "/models/checkpoint/name",
        "contains a path separator",
        "letters, digits",
    ),
    (
        "name-backslash",
        _set(["models", "loras", 1, "name"], "a\\b"),
        "/models/loras/1/name",
        "contains a path separator",
        "letters, digits",
    ),
    (
        "name-dotdot",
        _set(["models", "loras", 1, "name"], "film..grain"),
        "/models/loras/1/name",
        "contains `..`",
        "letters",
    ),
    (
        "name-drive",
        _set(["models", "checkpoint", "name"], "C:model"),
        "/models/checkpoint/name",
        "starts with a drive letter",
        "letters",
    ),
    (
        "name-leading-dot",
        _set(["models", "checkpoint", "name"], ".hidden"),
        "/models/checkpoint/name",
        "starts with a dot",
        "letters",
    ),
    ("name-nul", _set(["models", "checkpoint", "name"], "a\x00b"), "/models/checkpoint/name", "NUL", "letters"),
    (
        "duplicate-lora",
        lambda m: m["models"]["loras"].append(dict(m["models"]["loras"][0])),
        "/models/loras/2/name",
        "listed twice",
        "one entry",
    ),
    (
        "seed-random",
        _set(["defaults", "seed_behavior"], "random"),
        "/defaults/seed_behavior",
        'seed_behavior "random" picks a new seed',
        'use "iter"',
    ),
    ("steps", _set(["defaults", "steps"], 0), "/defaults/steps", "below the minimum 1", "use 1 or more"),
    (
        "default-schedule-outside",
        _set(["defaults", "strength_schedule"], "0: (0.6), 100: (0.5)"),
        "/defaults/strength_schedule",
        "keyframe 100 is outside the longest segment (frames 0-47)",
        "below 48",
    ),
    (
        "schedule-no-frame-0",
        _set(["defaults", "cfg_scale_schedule"], "10: (7)"),
        "/defaults/cfg_scale_schedule",
        "has no keyframe at frame 0",
        "start it with `0: (value)`",
    ),
    (
        "schedule-syntax",
        _set(["defaults", "noise_schedule"], "0 (0.02)"),
        "/defaults/noise_schedule",
        "has no `FRAME:` in front",
        "FRAME: (VALUE)",
    ),
    (
        "schedule-python",
        _set(["segments", 0, "camera", "zoom"], "0: (__import__('os').getcwd())"),
        "/segments/0/camera/zoom",
        "is not allowed",
        "allowed functions",
    ),
    ("fps-nan", _set(["movie", "fps"], float("nan")), "/movie/fps", "nan is not a number JSON allows", "finite"),
    ("fps-infinity", _set(["movie", "fps"], float("inf")), "/movie/fps", "inf is not a number JSON allows", "finite"),
    (
        "deep-nesting",
        _set(["segments", 0, "deforum_overrides"], {"a": [[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}),
        "/segments/0/deforum_overrides/a/0/0/0/0/0/0/0/0/0/0/0/0",
        "nests deeper than 16 levels",
        "shallow",
    ),
    (
        "schedule-power-bomb",
        _set(["segments", 0, "camera", "zoom"], "0: (9**9**9)"),
        "/segments/0/camera/zoom",
        "beyond ±64",
        "smaller power",
    ),
    (
        "schedule-huge-constant",
        _set(["segments", 0, "camera", "zoom"], "0: (1.0+10.0**30)"),
        "/segments/0/camera/zoom",
        "is too large",
        "sensible size",
    ),
    (
        "schedule-unknown-name",
        _set(["segments", 1, "camera", "translation_y"], "0: (frame*2)"),
        "/segments/1/camera/translation_y",
        "unknown name `frame`",
        "t (frame)",
    ),
    (
        "schedule-pi",
        _set(["segments", 1, "camera", "translation_y"], "0: (sin(pi*t))"),
        "/segments/1/camera/translation_y",
        "`pi` is not defined",
        "3.14159",
    ),
    (
        "schedule-comma-in-call",
        _set(["segments", 2, "camera", "angle"], "0: (where(t>2, 1, 0))"),
        "/segments/2/camera/angle",
        "a `,` inside brackets",
        "separate keyframes",
    ),
    (
        "strength-range",
        _set(["defaults", "strength_schedule"], "0: (0.6), 20: (1.2)"),
        "/defaults/strength_schedule",
        "strength_schedule is 1.02 at frame 14",
        "at most 1",
    ),
    (
        "zoom-positive",
        _set(["segments", 3, "camera", "zoom"], "0: (1.0), 10: (1-t/10)"),
        "/segments/3/camera/zoom",
        "zoom is 0 at frame 10",
        "above 0",
    ),
    (
        "camera-outside",
        _set(["segments", 0, "camera", "zoom"], "0: (1.0), 50: (1.1)"),
        "/segments/0/camera/zoom",
        "keyframe 50 is outside this segment (frames 0-47)",
        "below 48",
    ),
    (
        "camera-infinite",
        _set(["segments", 0, "camera", "zoom"], "0: (1/(t-3))"),
        "/segments/0/camera/zoom",
        "is not a finite number at frame 3",
        "dividing by zero",
    ),
    (
        "segment-index",
        _set(["segments", 2, "index"], 7),
        "/segments/2/index",
        "segment at position 2 has index 7",
        "set index to 2",
    ),
    (
        "segment-gap",
        _set(["segments", 2, "start_frame"], 100),
        "/segments/2/start_frame",
        "gap of 4 frame(s)",
        "set start_frame to 96",
    ),
    (
        "segment-overlap",
        _set(["segments", 1, "start_frame"], 40),
        "/segments/1/start_frame",
        "overlap of 8 frame(s)",
        "set start_frame to 48",
    ),
    (
        "segment-first-start",
        _set(["segments", 0, "start_frame"], 5),
        "/segments/0/start_frame",
        "the first segment starts at frame 5",
        "set start_frame to 0",
    ),
    (
        "frame-count-limit",
        _set(["segments", 5, "frame_count"], 20000),
        "/segments/5/frame_count",
        "above the maximum 10000",
        "split the segment",
    ),
    (
        "prompt-outside",
        _set(["segments", 0, "prompts", "60"], "late"),
        "/segments/0/prompts/60",
        "keyframe 60 is outside this segment (frames 0-47)",
        "relative to the segment start",
    ),
    (
        "prompt-key-format",
        _set(["segments", 0, "prompts", "07"], "x"),
        "/segments/0/prompts/07",
        "prompt key `07` is not a frame number",
        "without leading zeros",
    ),
    (
        "prompt-no-frame-0",
        _del(["segments", 0, "prompts", "0"]),
        "/segments/0/prompts",
        "no prompt at frame 0",
        'add a "0" key',
    ),
    (
        "prompt-unknown-lora",
        _set(["segments", 0, "prompts", "0"], "a ship <lora:ghibli_style_v3:0.8>"),
        "/segments/0/prompts/0",
        "uses LoRA `ghibli_style_v3`, which is not listed",
        "did you mean `ghibli_style_v2`",
    ),
    (
        "prompt-double-neg",
        _set(["segments", 0, "prompts", "0"], "a --neg b --neg c"),
        "/segments/0/prompts/0",
        "`--neg` may appear once",
        "single `--neg`",
    ),
    (
        "prompt-backtick-code",
        _set(["segments", 0, "prompts", "0"], "a (cat:`os.getcwd()`)"),
        "/segments/0/prompts/0",
        "function `os.getcwd` is not allowed",
        "allowed functions",
    ),
    (
        "init-cid",
        _set(["segments", 5, "init_image"], {"cid": "Qmxyz"}),
        "/segments/5/init_image/cid",
        "is not an IPFS CID",
        "ipfs add",
    ),
    ("seed-negative", _set(["segments", 1, "seed"], -1), "/segments/1/seed", "below the minimum 0", "0 or more"),
    (
        "override-owned-size",
        _set(["segments", 0, "deforum_overrides"], {"W": 640}),
        "/segments/0/deforum_overrides/W",
        "`W` is set by the manifest itself",
        "use movie.width instead",
    ),
    (
        "override-owned-camera",
        _set(["segments", 0, "deforum_overrides"], {"zoom": "0: (1.1)"}),
        "/segments/0/deforum_overrides/zoom",
        "set by the manifest itself",
        "use segments[].camera.zoom instead",
    ),
    (
        "override-owned-seed",
        _set(["segments", 0, "deforum_overrides"], {"seed": 5}),
        "/segments/0/deforum_overrides/seed",
        "set by the manifest itself",
        "use segments[].seed instead",
    ),
    (
        "override-owned-frames",
        _set(["segments", 0, "deforum_overrides"], {"max_frames": 5}),
        "/segments/0/deforum_overrides/max_frames",
        "set by the manifest itself",
        "use segments[].frame_count instead",
    ),
    (
        "override-owned-prompts",
        _set(["segments", 0, "deforum_overrides"], {"animation_prompts_negative": "x"}),
        "/segments/0/deforum_overrides/animation_prompts_negative",
        "set by the manifest itself",
        "negative_prompt",
    ),
    (
        "override-path",
        _set(["segments", 0, "deforum_overrides"], {"video_init_path": "/etc/passwd"}),
        "/segments/0/deforum_overrides/video_init_path",
        "cannot be overridden",
        "remove it",
    ),
    (
        "override-output",
        _set(["segments", 0, "deforum_overrides"], {"skip_video_creation": False}),
        "/segments/0/deforum_overrides/skip_video_creation",
        "cannot be overridden",
        "remove it",
    ),
    (
        "override-unknown",
        _set(["segments", 0, "deforum_overrides"], {"colour_coherence": "LAB"}),
        "/segments/0/deforum_overrides/colour_coherence",
        "not a setting Deforum reads",
        "did you mean `color_coherence`",
    ),
    (
        "override-type",
        _set(["segments", 0, "deforum_overrides"], {"color_coherence": 5}),
        "/segments/0/deforum_overrides/color_coherence",
        'must be a string like Deforum\'s default "LAB"',
        '"LAB"',
    ),
    (
        "override-random-seed",
        _set(["segments", 0, "deforum_overrides"], {"seed_behavior": "random"}),
        "/segments/0/deforum_overrides/seed_behavior",
        "picks a new seed",
        '"iter"',
    ),
    (
        "override-schedule",
        _set(["segments", 0, "deforum_overrides"], {"strength_schedule": "0: (0.6), 48: (0.5)"}),
        "/segments/0/deforum_overrides/strength_schedule",
        "keyframe 48 is outside this segment",
        "below 48",
    ),
    (
        "defaults-override-own-field",
        _set(["defaults", "deforum_overrides"], {"sampler": "Euler"}),
        "/defaults/deforum_overrides/sampler",
        "has its own field",
        "use defaults.sampler instead",
    ),
    (
        "override-key-format",
        _set(["segments", 0, "deforum_overrides"], {"bad-key": 1}),
        "/segments/0/deforum_overrides/bad-key",
        "is not a Deforum setting name",
        "letters, digits and underscores",
    ),
    ("segments-empty", _set(["segments"], []), "/segments", "needs at least 1 item", "add segments"),
    ("segments-type", _set(["segments"], "all of them"), "/segments", "must be an array, not a string", "array"),
]


@pytest.mark.parametrize("mutate, ptr, message, hint", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_manifest_reports_pointer_message_and_hint(example_manifest, mutate, ptr, message, hint):
    mutate(example_manifest)
    problems = validate_manifest(example_manifest)
    at = [p for p in problems if p.pointer == ptr]
    assert at, f"no problem at {ptr}; got {[(p.pointer, p.message) for p in problems]}"
    assert any(message in p.message and hint in p.hint for p in at), [(p.message, p.hint) for p in at]
    with pytest.raises(ManifestError) as e:
        load_manifest(example_manifest)
    assert any(p.pointer == ptr for p in e.value.problems)


def test_at_least_thirty_distinct_cases():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)


def test_every_problem_is_reported_at_once(example_manifest):
    m = example_manifest
    m["movie"]["width"] = 500
    m["models"]["checkpoint"]["autov2"] = "1234567890"
    m["segments"][3]["prompts"]["99"] = "too late"
    m["segments"][4]["deforum_overrides"] = {"W": 640}
    m["defaults"]["seed_behavior"] = "random"
    problems = validate_manifest(m)
    pointers = [p.pointer for p in problems]
    assert pointers == [
        "/defaults/seed_behavior",
        "/models/checkpoint/autov2",
        "/movie/width",
        "/segments/3/prompts/99",
        "/segments/4/deforum_overrides/W",
    ]
    with pytest.raises(ManifestError) as e:
        load_manifest(m)
    text = str(e.value)
    assert "5 problems" in text and all(p in text for p in pointers) and text.count("how to fix") == 5


def test_pickle_allowed_when_asked(example_manifest):
    example_manifest["models"]["checkpoint"]["format"] = "pickletensor"
    assert validate_manifest(example_manifest) != []
    assert validate_manifest(example_manifest, allow_pickle=True) == []


def test_schema_problems_never_leak_raw_jsonschema_text(example_manifest):
    for _, mutate, *_ in CASES:
        m = copy.deepcopy(example_manifest)
        mutate(m)
        for p in validate_manifest(m):
            assert "is not valid under any of the given schemas" not in p.message
            assert "does not match '^" not in p.message and p.hint


def test_valid_variants_pass(example_manifest):
    m = example_manifest
    m["segments"][0]["init_image"] = {"cid": CID, "strength": 0.5}
    m["segments"][1]["deforum_overrides"] = {
        "sampler": "Euler a",
        "strength_schedule": "0: (0.5), 47: (0.7)",
        "seed_behavior": "fixed",
        "blendFactorMax": "0:(0.3)",
    }
    m["segments"][2]["prompts"]["0"] += " (storm:`1+0.2*sin(t/4)`)"
    m["movie"]["creator"] = "0x" + "ab" * 20
    assert validate_manifest(m) == []


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def test_validation_never_crashes_on_wrong_types(example_manifest):
    """Replacing any part of a valid manifest with arbitrary JSON gives problems, never an exception."""
    paths = list(_paths(example_manifest))[1:]

    @given(st.sampled_from(paths), _json)
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def check(path, value):
        m = copy.deepcopy(example_manifest)
        target = m
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value
        problems = validate_manifest(m)
        for p in problems:
            assert p.pointer.startswith("/") and p.message and p.hint

    check()


def test_a_schedule_bomb_is_refused_without_freezing_the_process(tmp_path):
    """`9**9**9` passes an operator allowlist, and numexpr folds it as a Python big integer
    under the GIL (minutes, the whole app stops). Validation must refuse it at once: here in
    a child process, so that a regression fails this test instead of hanging the suite."""
    import subprocess
    import sys

    code = (
        "from movieminter.manifest.schedules import evaluate_schedule, ScheduleError\n"
        "try:\n    evaluate_schedule('0: (9**9**9)', 48)\nexcept ScheduleError as e:\n    print(e.message)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "beyond ±64" in out.stdout
