"""Static checks run with the suite (./mm test, hence CI): ruff's lint and format, mypy (pyproject.toml),
and the single version source."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import movieminter
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


def test_mypy_passes():
    # which packages are checked, and how strictly: [tool.mypy] in pyproject.toml
    done = run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_version_has_one_source():
    """pyproject.toml takes the version from movieminter/__init__.py (the extension runs from its folder)."""
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("\n[", 2)[1]  # the [project] table
    assert project.startswith("project]") and 'dynamic = ["version"]' in project
    assert not re.search(r"(?m)^version\s*=", project)
    # ./mm installs the package (pip install -e .): pip built its metadata from pyproject.toml.
    assert importlib.metadata.version("movieminter") == movieminter.__version__
    cli = subprocess.run([sys.executable, "-m", "movieminter", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert cli.stdout.strip() == f"movieminter {movieminter.__version__}", cli.stdout + cli.stderr
