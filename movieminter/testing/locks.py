"""The two locks, how they are made and how they are checked (docs/development.md).

- `requirements.lock`: the app venv that install.py builds with A1111's own
  Python. ONE universal lock (uv's `--universal`) for Python 3.10-3.13 on
  Linux, Windows and macOS, so install.py never needs a second interpreter.
  `--fork-strategy fewest` keeps one version of each package for every Python
  wherever one exists, so the suite here (Python 3.11) tests the versions an
  A1111 on Python 3.10 installs; environment markers remain only where a
  package is needed on some Pythons or platforms alone (backports,
  `pywin32`/`colorama` on Windows, `imageio-ffmpeg` on Apple silicon).
- `requirements-test.lock`: what the dev venv adds for the tests (`.[test]`),
  resolved with the app lock as constraints; lines already in the app lock are
  left out. `./mm` installs both.

    python -m movieminter.testing.locks compile [--upgrade]   # ./mm lock [--upgrade]
    python -m movieminter.testing.locks check                 # the resolution matrix

Standard library only (plus the `uv` binary from the `uv` package of the test
extras); no network beyond what uv fetches from the package index.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"

#: Python versions the app lock must install on (A1111 1.10 and Forge run 3.10; Colab runs 3.13).
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
#: name -> (uv --python-platform, extra environment, the wheel tag that stands for it)
PLATFORMS = {
    # glibc 2.28 (RHEL 8, Debian 10, Ubuntu 20.04) and newer: imageio-ffmpeg 0.8 ships manylinux_2_28 only.
    "linux": ("x86_64-manylinux_2_28", {}, "manylinux_2_28_x86_64"),
    "windows": ("x86_64-pc-windows-msvc", {}, "win_amd64"),
    # Apple silicon from the first macOS it ran (11.0): uv reads the deployment target from the environment.
    "macos": ("aarch64-apple-darwin", {"MACOSX_DEPLOYMENT_TARGET": "11.0"}, "macosx_11_0_arm64"),
}

APP_HEADER = """\
# The app's isolated venv (install.py builds it with A1111's own Python), pinned.
# One universal lock: Python 3.10-3.13 on Linux (manylinux_2_28 x86_64), Windows (win_amd64) and
# macOS (11.0+ arm64); plain pip installs it. Do not edit: regenerate with `./mm lock`
# (docs/development.md); tests/test_locks.py checks every Python and platform resolves from wheels.
"""
TEST_HEADER = """\
# Test-only extras (.[test]), pinned (installed by ./mm test, never by install.py), resolved with
# requirements.lock as constraints; packages already pinned there are left out.
# Do not edit: regenerate with `./mm lock` (docs/development.md).
"""
COMPILE_COMMAND = "./mm lock"


@functools.cache
def uv_bin() -> str:
    """The uv executable of the `uv` package (test extras), else `uv` on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        import shutil

        found = shutil.which("uv")
        if found is None:
            raise SystemExit("uv is missing: ./mm setup installs it into .venv (requirements-test.lock)") from None
        return found


def _env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MACOSX_DEPLOYMENT_TARGET")}
    env.update(UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1", **(extra or {}))
    return env


def _compile_args(*, upgrade: bool) -> list[str]:
    # --python-version 3.10: the lowest Python the lock serves (requires-python's lower bound).
    return [
        "pip",
        "compile",
        "pyproject.toml",
        "--universal",
        "--python-version",
        PYTHONS[0],
        "--fork-strategy",
        "fewest",
        "--no-annotate",
        "--no-build",
        "--custom-compile-command",
        COMPILE_COMMAND,
        "--quiet",
        *(["--upgrade"] if upgrade else []),
    ]


def _requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _normalize(line: str) -> str:
    """`PyYAML==6.0 ; python_full_version < '3.11'` -> `pyyaml==6.0;python_full_version<'3.11'`."""
    name, _, rest = line.partition("==")
    return re.sub(r"[-_.]+", "-", name.strip()).lower() + "==" + re.sub(r"\s+", "", rest)


def _rewrite(path: Path, header: str, keep=lambda line: True) -> None:
    lines = [line for line in _requirement_lines(path.read_text()) if keep(line)]
    path.write_text(header + "\n".join(lines) + "\n")


def compile_locks(*, upgrade: bool = False, app_lock: Path = APP_LOCK, test_lock: Path = TEST_LOCK, log=print) -> None:
    """(Re)write both locks. Without `upgrade`, the pins already in them are kept where they still
    fit (uv reads the output file as preferences)."""
    uv = uv_bin()
    started = time.monotonic()
    subprocess.run([uv, *_compile_args(upgrade=upgrade), "-o", str(app_lock)], cwd=ROOT, env=_env(), check=True)
    _rewrite(app_lock, APP_HEADER)
    log(f"{app_lock.name}: {len(_requirement_lines(app_lock.read_text()))} pins")

    app = {_normalize(line) for line in _requirement_lines(app_lock.read_text())}
    subprocess.run(
        [uv, *_compile_args(upgrade=upgrade), "--extra", "test", "-c", str(app_lock), "-o", str(test_lock)],
        cwd=ROOT,
        env=_env(),
        check=True,
    )
    _rewrite(test_lock, TEST_HEADER, keep=lambda line: _normalize(line) not in app)
    log(f"{test_lock.name}: {len(_requirement_lines(test_lock.read_text()))} pins ({time.monotonic() - started:.1f} s)")


@dataclass
class Resolution:
    python: str
    platform: str
    ok: bool
    seconds: float
    output: str

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "FAILED\n" + self.output
        return f"Python {self.python} {PLATFORMS[self.platform][2]:<22} {self.seconds:5.1f} s  {verdict}"


def resolve(python: str, platform: str, lock: Path = APP_LOCK) -> Resolution:
    """Resolve `lock` for one Python and platform with wheels only, as pip on that machine would
    install it: the environment markers are evaluated for that platform and Python, every pin must
    have a wheel whose tags fit (`--no-build`: an sdist fails). uv reads PEP 658 metadata, so no
    wheel is downloaded."""
    target, extra_env, _tag = PLATFORMS[platform]
    started = time.monotonic()
    done = subprocess.run(
        [
            uv_bin(),
            "pip",
            "compile",
            str(lock),
            "--python-version",
            python,
            "--python-platform",
            target,
            "--no-build",
            "--no-header",
            "--no-annotate",
            "--quiet",
            "-o",
            os.devnull,
        ],
        cwd=ROOT,
        env=_env(extra_env),
        capture_output=True,
        text=True,
    )
    output = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if not line.startswith("warning:"))
    return Resolution(python, platform, done.returncode == 0, time.monotonic() - started, output.strip())


def matrix(lock: Path = APP_LOCK) -> list[Resolution]:
    """Every Python x platform (one after the other: uv's cache makes each about a second, and
    running them side by side is no faster)."""
    return [resolve(py, platform, lock=lock) for py in PYTHONS for platform in PLATFORMS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m movieminter.testing.locks", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    comp = sub.add_parser("compile", help="regenerate requirements.lock and requirements-test.lock with uv")
    comp.add_argument("--upgrade", action="store_true", help="take the newest releases the ranges allow")
    sub.add_parser("check", help="resolve requirements.lock for every Python and platform, wheels only")
    args = parser.parse_args(argv)
    if args.cmd == "compile":
        compile_locks(upgrade=args.upgrade)
        return 0
    started = time.monotonic()
    results = matrix()
    for result in results:
        print(result)
    print(f"{sum(r.ok for r in results)}/{len(results)} resolve ({time.monotonic() - started:.1f} s)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
