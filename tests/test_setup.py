"""The project's own set-up: schema shipped, CLI wired, CI calls the README's test command."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./mm test" in readme
    assert [l for l in ci.splitlines() if l and not l.startswith("#")][-1] == "exec ./mm test"


def test_schema_is_valid_draft_2020_12_and_packaged():
    schema_path = ROOT / "movieminter" / "manifest" / "movie-manifest-v1.schema.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["manifest_version"] == {"const": 1}


def test_console_script_lists_its_commands():
    out = subprocess.run([sys.executable, "-m", "movieminter", "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "movieminter" in out.stdout
