"""`movieminter manifest ...` through a real subprocess: exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from movieminter.manifest import export_deforum, import_deforum, normalize_segment

DATA = Path(__file__).parent / "data" / "manifest"


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "movieminter", "manifest", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_validate_ok_prints_summary(example_manifest_path):
    r = run("validate", example_manifest_path)
    assert r.returncode == 0, r.stderr
    assert "The Last Night of the Lighthouse" in r.stdout
    assert "6 segments, 288 frames, 24.0 s" in r.stdout


def test_validate_json_summary(example_manifest_path):
    r = run("validate", example_manifest_path, "--json")
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert out["valid"] is True and out["segments"] == 6 and out["frames"] == 288 and len(out["digest"]) == 64


def test_validate_lists_every_problem_and_exits_2(tmp_path, example_manifest):
    example_manifest["movie"]["width"] = 500
    example_manifest["segments"][1]["start_frame"] = 50
    example_manifest["models"]["loras"][0]["format"] = "pickletensor"
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(example_manifest), encoding="utf-8")
    r = run("validate", f)
    assert r.returncode == 2
    for ptr in ("/movie/width", "/segments/1/start_frame", "/models/loras/0/format"):
        assert ptr in r.stderr
    assert r.stderr.count("how to fix") == 3
    r = run("validate", f, "--json")
    assert r.returncode == 2
    assert {p["pointer"] for p in json.loads(r.stdout)["problems"]} == {
        "/movie/width",
        "/segments/1/start_frame",
        "/models/loras/0/format",
    }
    r = run("validate", f, "--allow-pickle", "--json")
    assert r.returncode == 2 and len(json.loads(r.stdout)["problems"]) == 2


def test_validate_bad_json_and_missing_file(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text("{not json", encoding="utf-8")
    r = run("validate", f)
    assert r.returncode == 2 and "not valid JSON" in r.stderr
    r = run("validate", tmp_path / "missing.json")
    assert r.returncode == 2 and "file not found" in r.stderr


def test_export_deforum_prints_the_api_request(example_manifest_path, example_manifest):
    r = run("export-deforum", example_manifest_path, 2)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == export_deforum(example_manifest, 2)
    r = run("export-deforum", example_manifest_path, 6)
    assert r.returncode == 2 and "no segment 6" in r.stderr


def test_import_deforum_prints_a_segment(tmp_path):
    r = run("import-deforum", DATA / "deforum_settings_ui.txt", "--index", 3, "--start-frame", 144)
    assert r.returncode == 0, r.stderr
    seg = json.loads(r.stdout)
    assert seg == import_deforum(DATA / "deforum_settings_ui.txt", index=3, start_frame=144)
    assert "note:" in r.stderr and "movie.width" in r.stderr


def test_import_export_round_trip_through_the_cli(tmp_path, example_manifest_path, example_manifest):
    exported = run("export-deforum", example_manifest_path, 4)
    settings = tmp_path / "seg4_settings.txt"
    settings.write_text(json.dumps(json.loads(exported.stdout)["deforum_settings"], indent=4), encoding="utf-8")
    seg = example_manifest["segments"][4]
    r = run(
        "import-deforum",
        settings,
        "--manifest",
        example_manifest_path,
        "--index",
        4,
        "--start-frame",
        seg["start_frame"],
        "--title",
        seg["title"],
    )
    assert r.returncode == 0, r.stderr
    assert normalize_segment(json.loads(r.stdout), example_manifest) == normalize_segment(seg, example_manifest)


def test_import_refusal_exits_2(tmp_path):
    data = json.loads((DATA / "deforum_settings_ui.txt").read_text(encoding="utf-8"))
    data["seed"] = -1
    f = tmp_path / "random_seed.txt"
    f.write_text(json.dumps(data), encoding="utf-8")
    r = run("import-deforum", f)
    assert r.returncode == 2 and "/seed" in r.stderr and "--seed" in r.stderr
    assert run("import-deforum", f, "--seed", 5).returncode == 0
