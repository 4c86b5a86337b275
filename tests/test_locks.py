"""The app lock installs on every Python and platform A1111 runs on, and the code runs on Python 3.10.

A1111 1.10 and Forge run Python 3.10 (the Windows installers ship 3.10.6), Colab runs 3.13: install.py
builds the app venv with A1111's own interpreter from ONE universal lock (movieminter/testing/locks.py).
These checks need no other interpreter: uv resolves the lock for a target Python and platform from the
index's metadata, wheels only, as pip on that machine would install it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from movieminter.testing import locks
from tests.conftest import ROOT

pytestmark = pytest.mark.xdist_group("locks")  # uv's cache: one worker resolves them all


@pytest.mark.parametrize("python", locks.PYTHONS)
@pytest.mark.parametrize("platform", sorted(locks.PLATFORMS))
def test_app_lock_resolves_from_wheels(python, platform):
    result = locks.resolve(python, platform)
    assert result.ok, str(result)


@pytest.mark.parametrize(
    "pin, python, platform, why",
    [
        ("annotated-doc==0.0.7", "3.10", "linux", "Python>=3.11"),  # what the old lock stopped at on 3.10
        ("uvloop==0.21.0", "3.10", "windows", "no usable wheels"),  # sdist only on Windows
    ],
)
def test_the_check_fails_for_a_pin_that_cannot_install_there(tmp_path, pin, python, platform, why):
    lock = tmp_path / "requirements.lock"
    lock.write_text(pin + "\n")
    result = locks.resolve(python, platform, lock=lock)
    assert not result.ok and why in result.output, str(result)


def test_pip_itself_takes_the_lock_for_windows_python_310(tmp_path):
    """The same for pip (what install.py runs), on the commonest A1111 box: Windows, Python 3.10.6.
    pip evaluates environment markers for the Python running it, so the marker lines are checked by uv
    above; here every unconditional pin must have a cp310 win_amd64 wheel. `--dry-run` reads the wheels'
    metadata only."""
    plain = [line for line in locks._requirement_lines(locks.APP_LOCK.read_text()) if ";" not in line]
    lock = tmp_path / "plain.lock"
    lock.write_text("\n".join(plain) + "\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--no-deps",
            "-q",
            "--disable-pip-version-check",
            "--target",
            str(tmp_path / "t"),
            "--python-version",
            "3.10",
            "--implementation",
            "cp",
            "--platform",
            "win_amd64",
            "--only-binary=:all:",
            "-r",
            str(lock),
            "--report",
            str(tmp_path / "report.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    report = json.loads((tmp_path / "report.json").read_text())
    wheels = {
        item["metadata"]["name"].lower().replace("_", "-"): item["download_info"]["url"] for item in report["install"]
    }
    assert len(wheels) == len(plain)
    assert all(url.endswith(".whl") for url in wheels.values())
    numpy = wheels["numpy"].rsplit("/", 1)[-1]
    assert "cp310" in numpy and "win_amd64" in numpy, numpy


def test_the_locks_are_what_pyproject_compiles_to(tmp_path):
    """Nobody edits a lock by hand or forgets `./mm lock` after changing pyproject.toml's ranges."""
    app, test = tmp_path / "requirements.lock", tmp_path / "requirements-test.lock"
    shutil.copy(locks.APP_LOCK, app)
    shutil.copy(locks.TEST_LOCK, test)
    locks.compile_locks(app_lock=app, test_lock=test, log=lambda *_: None)
    for made, committed in ((app, locks.APP_LOCK), (test, locks.TEST_LOCK)):
        assert made.read_text() == committed.read_text(), f"{committed.name} is stale: run ./mm lock"


def test_no_pin_of_the_test_lock_overrides_the_app_lock():
    name = lambda line: re.split(r"[=;\s]", locks._normalize(line), maxsplit=1)[0]  # noqa: E731
    app = {name(line) for line in locks._requirement_lines(locks.APP_LOCK.read_text())}
    test = [name(line) for line in locks._requirement_lines(locks.TEST_LOCK.read_text())]
    assert {"pytest", "uv", "vermin"} <= set(test)
    assert not app & set(test)


VERMIN = [
    str(Path(sys.executable).with_name("vermin")),
    "--target=3.10-",
    "--violations",
    "--no-tips",
    "--eval-annotations",
    "--no-parse-comments",
]


def test_the_code_runs_on_python_310():
    """No 3.11-only syntax or standard library in what runs in the app venv or in A1111."""
    done = subprocess.run(
        [*VERMIN, "movieminter", "install.py", "scripts"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_310_check_catches_311_only_code(tmp_path):
    (tmp_path / "new.py").write_text("import tomllib\nfrom datetime import UTC\n")
    done = subprocess.run([*VERMIN, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "tomllib" in done.stdout and "3.11" in done.stdout, done.stdout


def test_install_py_needs_no_newer_python_than_a1111s():
    from movieminter.host import installer

    assert installer.APP_MIN_PYTHON == (3, 10)
    assert re.search(r'^requires-python = ">=3\.10"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert Path(locks.APP_LOCK).read_text().startswith("# The app's isolated venv")
