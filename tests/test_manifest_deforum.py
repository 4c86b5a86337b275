"""Deforum settings import/export, including property-based round trips."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movieminter.manifest import (
    ManifestError,
    export_deforum,
    import_deforum,
    import_deforum_report,
    normalize_segment,
    validate_manifest,
)
from movieminter.manifest.keys import CAMERA_KEYS, OWNED, RESERVED, deforum_keys
from movieminter.manifest.schedules import evaluate_schedule, parse_schedule

DATA = Path(__file__).parent / "data" / "manifest"
UI_FILE = DATA / "deforum_settings_ui.txt"
RUN_FILE = DATA / "deforum_settings_run.txt"
CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


def test_settings_files_are_full_deforum_files():
    data = json.loads(UI_FILE.read_text(encoding="utf-8"))
    assert len(data) >= 250
    missing = set(deforum_keys()) - set(data) - {"perlin_w", "perlin_h", "image_path"}
    assert not missing  # every key Deforum reads, as its UI saves them


def test_import_ui_saved_settings():
    seg, notes = import_deforum_report(UI_FILE, index=2, start_frame=96, title="Harbour")
    assert (seg["index"], seg["start_frame"], seg["title"], seg["frame_count"], seg["seed"]) == (
        2,
        96,
        "Harbour",
        60,
        424242,
    )
    assert list(seg["prompts"]) == ["0", "20", "45"]
    assert seg["prompts"]["45"].endswith("--neg people")
    assert seg["positive_prompt"] == "masterpiece, film still" and seg["negative_prompt"] == "watermark, text"
    assert seg["camera"] == {
        "zoom": "0: (1.0), 30: (1.03), 59: (1.0)",
        "translation_x": "0: (0.8*sin(2*3.14*t/max_f))",
        "translation_z": "0: (1.2)",
        "rotation_3d_y": "0: (0), 20: (-0.4)",
    }
    assert seg["diffusion_cadence"] == 3
    ov = seg["deforum_overrides"]
    assert ov["sampler"] == "Euler a" and ov["steps"] == 30 and ov["color_coherence"] == "HSV"
    assert ov["noise_type"] == "uniform" and ov["border"] == "wrap" and ov["seed_behavior"] == "fixed"
    assert ov["scheduler"] == "Automatic"  # without a manifest, the movie-level settings stay explicit
    assert not set(ov) & (set(OWNED) | set(RESERVED))
    assert any("frame 90 dropped" in n for n in notes) and any("movie.width" in n for n in notes)
    assert any("models.checkpoint" in n for n in notes)


def test_import_run_saved_settings_unmerges_prompts():
    assert import_deforum(RUN_FILE) == import_deforum(UI_FILE)


def test_import_accepts_dict_text_and_api_body():
    data = json.loads(UI_FILE.read_text(encoding="utf-8"))
    expected = import_deforum(UI_FILE)
    assert import_deforum(data) == expected
    assert import_deforum(json.dumps(data)) == expected
    assert import_deforum({"deforum_settings": data, "options_overrides": {}}) == expected


def test_imported_segment_renders_the_same_settings(example_manifest):
    """Re-exported inside a movie of the same size, every key Deforum reads keeps the file's value,
    except the ones Movie Minter owns for safety (output, files, URLs)."""
    data = json.loads(UI_FILE.read_text(encoding="utf-8"))
    m = example_manifest
    m["movie"].update(width=768, height=432, fps=15)
    seg = import_deforum(UI_FILE, index=0, start_frame=0, title="Harbour")
    m["defaults"].pop("positive_prompt")
    m["defaults"].pop("negative_prompt")
    m["segments"] = [seg]
    assert validate_manifest(m) == []
    out = export_deforum(m, 0)["deforum_settings"]
    skip = set(RESERVED) | {
        "init_image",
        "sd_model_name",
        "sd_model_hash",
        "prompts",
        "perlin_w",
        "perlin_h",
        "image_path",
    }
    differ = {k: (data[k], out[k]) for k in deforum_keys() if k in data and k not in skip and data[k] != out[k]}
    assert differ == {}
    assert out["prompts"] == {k: v for k, v in data["prompts"].items() if int(k) < 60}


def test_import_with_manifest_keeps_only_differences(example_manifest):
    s = export_deforum(example_manifest, 3)["deforum_settings"]
    s["color_coherence"] = "RGB"
    s["sampler"] = "Euler a"
    seg = import_deforum(s, manifest=example_manifest, index=3, start_frame=144, title="The lamp fails")
    assert seg["deforum_overrides"] == {"color_coherence": "RGB", "sampler": "Euler a"}
    assert "positive_prompt" not in seg and "negative_prompt" not in seg  # equal to the movie's defaults


@pytest.mark.parametrize(
    "change, ptr, fragment",
    [
        ({"seed": -1}, "/seed", "random seed"),
        ({"max_frames": 0}, "/max_frames", "not a frame count"),
        ({"prompts": {"0": "x", "max_f/2": "y"}}, "/prompts/max_f~12", "not a frame number"),
        ({"prompts": {"10": "only later"}}, "/prompts", "no prompt at frame 0"),
        ({"seed_behavior": "random"}, "/deforum_overrides/seed_behavior", "picks a new seed"),
        ({"zoom": "0: (pi)"}, "/camera/zoom", "`pi` is not defined"),
        ({"animation_mode": "Video Input"}, "/deforum_overrides/animation_mode", "is not allowed"),
    ],
)
def test_import_refuses_what_cannot_be_a_segment(change, ptr, fragment):
    data = json.loads(UI_FILE.read_text(encoding="utf-8"))
    data.update(change)
    with pytest.raises(ManifestError) as e:
        import_deforum(data)
    assert any(p.pointer == ptr and fragment in p.message for p in e.value.problems), e.value.problems


def test_import_seed_argument_replaces_random_seed():
    data = json.loads(UI_FILE.read_text(encoding="utf-8"))
    data["seed"] = -1
    assert import_deforum(data, seed=7)["seed"] == 7


def test_import_legacy_keys():
    data = json.loads(UI_FILE.read_text(encoding="utf-8"))
    data["color_coherence"] = "Match Frame 0 RGB"
    data["diffusion_cadence"] = "2"
    seg = import_deforum(data)
    assert seg["deforum_overrides"]["color_coherence"] == "RGB" and seg["diffusion_cadence"] == 2


def test_round_trip_of_every_example_segment(example_manifest):
    m = example_manifest
    for seg in m["segments"]:
        i = seg["index"]
        back = import_deforum(
            export_deforum(m, i)["deforum_settings"],
            manifest=m,
            index=i,
            start_frame=seg["start_frame"],
            title=seg["title"],
        )
        assert normalize_segment(back, m) == normalize_segment(seg, m)


# ---------------------------------------------------------------- property tests

_number = st.one_of(st.integers(-50, 50).map(str), st.floats(-20, 20, allow_nan=False).map(lambda x: f"{x:.4f}"))
_expr = st.sampled_from(
    [
        "t",
        "t/10",
        "0.5*sin(t/7)",
        "1+0.02*cos(2*3.14*t/max_f)",
        "s%5",
        "abs(t-10)",
        "sqrt(t+1)",
        "exp(-t/30)",
        "floor(t/4)",
        "(t>5)*1.0",
    ]
)


@st.composite
def schedules(draw, max_frame=59, allow_expr=True):
    frames = sorted(draw(st.sets(st.integers(1, max_frame), max_size=5)) | {0})
    values = [draw(st.one_of(_number, _expr) if allow_expr else _number) for _ in frames]
    sep = draw(st.sampled_from([", ", ",", " , "]))
    colon = draw(st.sampled_from([": ", ":", " : "]))
    parts = [f"{f}{colon}({v})" for f, v in zip(frames, values, strict=False)]
    order = draw(st.permutations(parts))
    return sep.join(order), list(zip(frames, values, strict=False))


@given(schedules())
@settings(max_examples=150, deadline=None)
def test_parse_schedule_property(case):
    text, pairs = case
    assert parse_schedule(text) == [(f, f"({v})") for f, v in pairs]


@given(schedules(allow_expr=False), st.integers(1, 80))
@settings(max_examples=150, deadline=None)
def test_numeric_schedules_interpolate_linearly(case, frame_count):
    import numpy as np

    text, pairs = case
    inside = [(f, float(v)) for f, v in pairs if f < frame_count]
    values = evaluate_schedule(text, frame_count)
    assert len(values) == frame_count
    for f, v in inside:
        assert values[f] == pytest.approx(v)
    xs, ys = zip(*inside, strict=False)
    assert values == pytest.approx(list(np.interp(range(frame_count), xs, ys)))


@given(schedules(), st.integers(1, 60), st.integers(0, 2**32 - 1))
@settings(max_examples=100, deadline=None)
def test_expression_keyframes_hold_until_the_next_keyframe(case, frame_count, seed):
    import math

    text, pairs = case
    values = evaluate_schedule(text, frame_count, seed=seed)
    inside = [(f, v) for f, v in pairs if f < frame_count]
    for i, (f, v) in enumerate(inside):
        if v in {"t", "t/10", "s%5", "abs(t-10)"}:
            end = inside[i + 1][0] if i + 1 < len(inside) else frame_count
            for t in range(f, end):
                want = {"t": t, "t/10": t / 10, "s%5": seed % 5, "abs(t-10)": abs(t - 10)}[v]
                assert math.isclose(values[t], want, abs_tol=1e-9)


_prompt_text = st.text(alphabet=st.sampled_from("abcdefgh ijk,lmn()"), min_size=1, max_size=30).filter(
    lambda s: s.strip()
)
_overrides = st.fixed_dictionaries(
    {},
    optional={
        "color_coherence": st.sampled_from(["None", "HSV", "LAB", "RGB"]),
        "sampler": st.sampled_from(["Euler a", "DPM++ 2M", "DDIM"]),
        "steps": st.integers(1, 60),
        "strength_schedule": st.lists(st.floats(0, 1), min_size=1, max_size=3).map(
            lambda vs: ", ".join(f"{3 * i}: ({v:.2f})" for i, v in enumerate(vs))
        ),
        "noise_type": st.sampled_from(["perlin", "uniform"]),
        "border": st.sampled_from(["replicate", "wrap"]),
        "seed_behavior": st.sampled_from(["iter", "fixed", "ladder", "alternate"]),
        "use_depth_warping": st.booleans(),
        "midas_weight": st.floats(-1, 1, allow_nan=False),
        "cn_2_weight": st.just("0:(0.7)"),
        "enable_perspective_flip": st.booleans(),
    },
)


@st.composite
def segments(draw):
    fc = draw(st.integers(10, 60))
    keys = sorted(draw(st.sets(st.integers(1, fc - 1), max_size=4)) | {0})
    prompts = {}
    for k in keys:
        text = draw(_prompt_text)
        if draw(st.booleans()):
            text += " --neg " + draw(_prompt_text)
        if draw(st.booleans()):
            text += ", <lora:ghibli_style_v2:0.8>"
        prompts[str(k)] = text
    seg = {"prompts": prompts, "frame_count": fc, "seed": draw(st.integers(0, 2**32 - 1))}
    for key in draw(st.sets(st.sampled_from(CAMERA_KEYS), max_size=4)):
        if key == "zoom":  # zoom must stay positive
            frames = sorted(draw(st.sets(st.integers(1, 9), max_size=3)) | {0})
            text = ", ".join(f"{f}: ({draw(st.floats(0.5, 1.5)):.3f})" for f in frames)
        else:
            text = draw(schedules(max_frame=9))[0]
        seg.setdefault("camera", {})[key] = text
    if draw(st.booleans()):
        seg["positive_prompt"] = draw(_prompt_text).strip()
    if draw(st.booleans()):
        seg["negative_prompt"] = draw(_prompt_text).strip()
    if draw(st.booleans()):
        seg["diffusion_cadence"] = draw(st.integers(1, 8))
    if draw(st.booleans()):
        seg["init_image"] = {"cid": CID, **({"strength": draw(st.floats(0, 1))} if draw(st.booleans()) else {})}
    ov = draw(_overrides)
    if ov:
        seg["deforum_overrides"] = ov
    return seg


@given(segments(), st.integers(0, 5))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_round_trip_property(example_manifest, generated, position):
    m = copy.deepcopy(example_manifest)
    old = m["segments"][position]
    seg = {"index": position, "title": old["title"], "start_frame": old["start_frame"], **generated}
    m["segments"][position] = seg
    start = 0
    for s in m["segments"]:  # keep the movie contiguous
        s["start_frame"] = start
        start += s["frame_count"]
    assert validate_manifest(m) == [], validate_manifest(m)
    exported = export_deforum(m, position)
    back = import_deforum(
        json.loads(json.dumps(exported["deforum_settings"])),
        manifest=m,
        index=position,
        start_frame=seg["start_frame"],
        title=seg["title"],
    )
    assert normalize_segment(back, m) == normalize_segment(seg, m)
    m2 = copy.deepcopy(m)
    m2["segments"][position] = back
    assert export_deforum(m2, position) == exported  # and it renders exactly the same
