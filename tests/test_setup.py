"""The project's own set-up: schema shipped, CLI wired, CI calls the README's test command."""

import json
import re
import subprocess
import sysconfig
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./mm test" in readme
    assert [line for line in ci.splitlines() if line and not line.startswith("#")][-1] == "exec ./mm test"


def test_schema_is_valid_draft_2020_12_and_packaged():
    schema_path = ROOT / "movieminter" / "manifest" / "movie-manifest-v1.schema.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["manifest_version"] == {"const": 1}


# Every subsystem's commands (movieminter/cli.py's COMMAND_MODULES register them).
COMMANDS = [
    "manifest",
    "doctor",
    "models",
    "render",
    "previews",
    "media",
    "ipfs",
    "lottery",
    "chain",
    "keystore",
    "serve",
    "mint",
    "director",
    "demo",
]


def test_console_script_lists_its_commands():
    """Set-up installs the `movieminter` console script into the venv (./mm demo and the README run
    .venv/bin/movieminter), and it lists every subsystem's commands: the CLI skips a subsystem whose module
    is missing without a word, so `--help` alone succeeding proves little."""
    script = Path(sysconfig.get_path("scripts")) / "movieminter"
    assert script.is_file(), f"{script} is missing: set-up did not install the package (run ./mm setup)"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: movieminter "), out.stdout
    missing = [c for c in COMMANDS if not re.search(rf"^\s+{c}\s", out.stdout, re.M)]
    assert not missing, f"commands missing from `movieminter --help`: {missing}\n{out.stdout}"
