"""The example manifest, schedules, canonical JSON and Deforum export."""

from __future__ import annotations

import hashlib
import json

import pytest

from movieminter.errors import MovieMinterError
from movieminter.manifest import (
    ManifestError,
    Problem,
    canonical_json,
    export_deforum,
    get_segment,
    load_manifest,
    manifest_digest,
    segment_settings_digest,
    validate_manifest,
)
from movieminter.manifest.keys import CAMERA_KEYS, deforum_keys
from movieminter.manifest.schedules import ScheduleError, evaluate_schedule, parse_schedule
from movieminter.testing.fake_models import sha256_of


def test_example_validates_and_pins_the_fake_models(example_manifest_path):
    m = load_manifest(example_manifest_path)
    assert len(m["segments"]) == 6
    assert {s["frame_count"] for s in m["segments"]} == {48}
    assert (m["movie"]["fps"], m["movie"]["width"], m["movie"]["height"]) == (12, 512, 288)
    models = [m["models"]["checkpoint"], *m["models"]["loras"]]
    for model in models:
        assert model["sha256"] == sha256_of(model["name"])


def test_load_accepts_path_text_bytes_and_dict(example_manifest_path, example_manifest):
    text = example_manifest_path.read_text(encoding="utf-8")
    for source in (str(example_manifest_path), example_manifest_path, text, text.encode(), example_manifest):
        assert load_manifest(source) == example_manifest


def test_load_reports_bad_json_with_position(tmp_path):
    f = tmp_path / "m.json"
    f.write_text('{"manifest_version": 1,\n "movie": }')
    with pytest.raises(ManifestError) as e:
        load_manifest(f)
    (p,) = e.value.problems
    assert p.pointer == "" and "line 2" in p.message and "not valid JSON" in p.message
    assert isinstance(e.value, MovieMinterError) and e.value.exit_code == 2


def test_duplicate_json_keys_are_refused():
    with pytest.raises(ManifestError) as e:
        load_manifest(b'{"manifest_version": 1, "manifest_version": 1}')
    assert "appears twice" in e.value.problems[0].message


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestError) as e:
        load_manifest(tmp_path / "nope.json")
    assert "file not found" in e.value.problems[0].message


# ---------------------------------------------------------------- schedules


def test_parse_schedule_sorts_and_keeps_text():
    assert parse_schedule("30: (1.02), 0: (1.0)") == [(0, "(1.0)"), (30, "(1.02)")]
    assert parse_schedule("0:(0.4*sin(2*3.14*t/max_f))") == [(0, "(0.4*sin(2*3.14*t/max_f))")]


def test_evaluate_interpolates_numbers_linearly_and_holds_ends():
    assert evaluate_schedule("0: (1.0), 4: (2.0)", 7) == [1.0, 1.25, 1.5, 1.75, 2.0, 2.0, 2.0]
    assert evaluate_schedule("0: (5)", 3) == [5.0, 5.0, 5.0]


def test_evaluate_expressions_per_frame_until_next_keyframe():
    # Deforum evaluates an expression keyframe at every frame up to the next keyframe,
    # then interpolates from there to the next numeric keyframe.
    assert evaluate_schedule("0: (t*2), 3: (10), 5: (0)", 6) == [0.0, 2.0, 4.0, 10.0, 5.0, 0.0]
    assert evaluate_schedule("0: (max_f)", 4) == [3.0] * 4  # max_f = frame_count - 1
    assert evaluate_schedule("0: (s % 7)", 2, seed=15) == [1.0, 1.0]


def test_evaluate_matches_deforums_default_zoom_formula():
    import math

    values = evaluate_schedule("0: (1.0025+0.002*sin(1.25*3.14*t/30))", 31)
    assert values[30] == pytest.approx(1.0025 + 0.002 * math.sin(1.25 * 3.14))


def test_keyframes_beyond_the_job_are_ignored_like_deforum():
    assert evaluate_schedule("0: (0), 10: (10)", 3) == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("0: (__import__('os').system('id'))", "not allowed"),
        ("0: (open)", "unknown name `open`"),
        ("0: (pi)", "`pi` is not defined"),
        ("0: (where(t>1, 1, 0))", "a `,` inside brackets"),
        ("0: (1), 0: (2)", "frame 0 appears twice"),
        ("x: (1)", "not a whole number"),
        ("0: (1", "unbalanced brackets"),
        ("0: (t.real)", "not allowed"),
        ("0: (1),", "empty entry"),
        ("(1.0)", "no `FRAME:`"),
    ],
)
def test_parse_schedule_refuses_what_deforum_would_misread(text, fragment):
    with pytest.raises(ScheduleError) as e:
        parse_schedule(text)
    assert fragment in e.value.message and e.value.hint


# ---------------------------------------------------------------- canonical JSON


def test_canonical_json_rules():
    assert (
        canonical_json({"b": 1.0, "a": [-0.0, 0.5, "é"], "c": None, "d": True})
        == '{"a":[0,0.5,"é"],"b":1,"c":null,"d":true}'.encode()
    )
    for bad in (float("nan"), float("inf")):
        with pytest.raises(MovieMinterError):
            canonical_json({"x": bad})


def test_canonical_json_is_independent_of_key_order_and_formatting(example_manifest, example_manifest_path):
    reordered = json.loads(json.dumps(example_manifest, sort_keys=True, indent=7))
    reordered["movie"] = dict(reversed(list(reordered["movie"].items())))
    assert canonical_json(reordered) == canonical_json(example_manifest)
    assert manifest_digest(reordered) == hashlib.sha256(canonical_json(example_manifest)).digest()
    assert len(manifest_digest(example_manifest)) == 32


def test_manifest_digest_changes_with_content(example_manifest):
    before = manifest_digest(example_manifest)
    example_manifest["segments"][0]["seed"] += 1
    assert manifest_digest(example_manifest) != before


# ---------------------------------------------------------------- export


def test_export_sets_every_key_deforum_reads(example_manifest):
    out = export_deforum(example_manifest, 0)
    s = out["deforum_settings"]
    assert set(deforum_keys()) <= set(s)
    assert len(s) >= 250
    assert out["options_overrides"] == {"sd_model_checkpoint": "dreamshaper_8"}


def test_export_neutralises_deforums_moving_defaults(example_manifest):
    s = export_deforum(example_manifest, 1)["deforum_settings"]  # segment 1 sets no zoom / translation_z
    assert s["zoom"] == "0: (1.0)" and s["translation_z"] == "0: (0)" and s["angle"] == "0: (0)"
    assert s["rotation_3d_y"] == "0: (0.6)"
    assert s["skip_video_creation"] is True
    assert s["max_frames"] == 48 and s["fps"] == 12 and (s["W"], s["H"]) == (512, 288)
    assert s["diffusion_cadence"] == 2  # defaults.diffusion_cadence
    for key in CAMERA_KEYS:
        assert evaluate_schedule(s[key], 48, seed=s["seed"])  # every camera schedule evaluates


def test_export_maps_prompts_and_model(example_manifest):
    s = export_deforum(example_manifest, 2)["deforum_settings"]
    assert list(s["prompts"]) == ["0", "24"]
    assert s["animation_prompts_positive"] == "cinematic, volumetric light, detailed"
    assert s["animation_prompts_negative"] == "lowres, text, watermark, deformed hands, calm water"
    assert (s["sampler"], s["scheduler"], s["steps"], s["seed"], s["seed_behavior"]) == (
        "DPM++ 2M",
        "Karras",
        20,
        1014,
        "iter",
    )
    assert s["sd_model_name"] == "dreamshaper_8" and s["sd_model_hash"] == "05c4eab871"
    assert s["cfg_scale_schedule"] == "0: (7)" and s["noise_schedule"] == "0: (0.02)"


def test_export_keeps_neg_parts_and_overrides(example_manifest):
    s1 = export_deforum(example_manifest, 1)["deforum_settings"]
    assert s1["prompts"]["30"].endswith("--neg blurry")
    s3 = export_deforum(example_manifest, 3)["deforum_settings"]
    assert s3["color_coherence"] == "LAB" and s3["diffusion_cadence"] == 1


def test_export_init_image_is_a_placeholder_with_its_cid(example_manifest):
    cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
    example_manifest["segments"][4]["init_image"] = {"cid": cid, "strength": 0.6}
    load_manifest(example_manifest)
    s = export_deforum(example_manifest, 4)["deforum_settings"]
    assert s["use_init"] is True and s["init_image"] == f"ipfs://{cid}" and s["strength"] == 0.6
    assert s["movieminter_init_image_cid"] == cid
    s0 = export_deforum(example_manifest, 0)["deforum_settings"]
    assert s0["use_init"] is False and s0["init_image"] == ""


def test_segment_settings_digest_is_stable_and_distinct(example_manifest):
    digests = [segment_settings_digest(example_manifest, i) for i in range(6)]
    assert len(set(digests)) == 6 and all(len(d) == 64 for d in digests)
    assert digests[0] == hashlib.sha256(canonical_json(export_deforum(example_manifest, 0))).hexdigest()


def test_get_segment_refuses_unknown_index(example_manifest):
    assert get_segment(example_manifest, 5)["title"] == "Morning"
    with pytest.raises(MovieMinterError):
        get_segment(example_manifest, 6)


def test_problem_is_a_value():
    p = Problem("/a", "m", "h")
    assert p.to_dict() == {"pointer": "/a", "message": "m", "hint": "h"}
    assert validate_manifest({"manifest_version": 1})  # problems, not an exception


def test_shipped_schema_is_a_valid_draft_2020_12_schema(example_manifest):
    import jsonschema

    from movieminter.manifest import schema

    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.Draft202012Validator(schema()).validate(example_manifest)


def test_deforum_key_table_is_complete_data():
    table = deforum_keys()
    assert len(table) >= 250
    groups = {e["group"] for e in table.values()}
    assert {"DeforumAnimArgs", "DeforumArgs", "LoopArgs", "ParseqArgs", "DeforumOutputArgs", "ControlNet"} <= groups
    assert table["zoom"]["deforum_default"] == "0: (1.0025+0.002*sin(1.25*3.14*t/30))"
    assert table["zoom"]["export"] == "0: (1.0)"
    assert (
        table["translation_z"]["deforum_default"] == "0: (1.75)" and table["diffusion_cadence"]["deforum_default"] == 2
    )
    assert table["max_frames"]["deforum_default"] == 120 and table["fps"]["deforum_default"] == 15
    assert sum(k.startswith("cn_") for k in table) == 85  # 5 ControlNet units x 17 fields, all off
    assert all(table[f"cn_{i}_enabled"]["deforum_default"] is False for i in range(1, 6))


def test_undefined_values_stay_undefined_instead_of_crashing():
    import math

    (v,) = evaluate_schedule("0: (t/max_f)", 1)  # max_f = 0 in a one-frame job
    assert math.isnan(v)
    values = evaluate_schedule("0: (0), 2: (1/(t-3)), 5: (1)", 6)
    assert values[:3] == [0.0, -0.5, -1.0] and math.isinf(values[3]) and values[5] == 1.0
