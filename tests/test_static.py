"""Static checks run with the suite (./mm test, hence CI): ruff's lint and format (pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_passes():
    done = run("ruff", "check", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_applied():
    done = run("ruff", "format", "--check", ".")
    assert done.returncode == 0, "run `.venv/bin/ruff format .`\n" + done.stdout + done.stderr
