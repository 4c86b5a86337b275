"""Build or update the app's isolated venv (used by the extension's install.py).

Runs inside A1111's interpreter, so: standard library only, and it never runs
pip for A1111's venv (no `launch.run_pip`): the app's packages go into their
own venv with that venv's own pip. A stamp (sha256 of requirements.lock,
pyproject.toml and the Python version) makes a current venv a no-op.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

EXTENSION_DIR = Path(__file__).resolve().parent.parent.parent
STAMP_NAME = ".movieminter-install-stamp"
PTH_NAME = "movieminter-extension.pth"
# Environment that could point pip at another environment (A1111's!): dropped.
_ISOLATE = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "VIRTUAL_ENV",
    "PIP_TARGET",
    "PIP_PREFIX",
    "PIP_USER",
    "PIP_ROOT",
    "PIP_REQUIRE_VIRTUALENV",
    "PIP_SYSTEM",
    "__PYVENV_LAUNCHER__",
)


# requirements.lock is one universal lock for Python 3.10-3.13 (Linux, Windows, macOS), so the app
# venv is made with A1111's own interpreter (A1111 1.10 and Forge run 3.10): no second Python is
# needed. MOVIEMINTER_PYTHON overrides; another Python is looked for only when A1111's cannot make
# a venv (too old, or no `venv`/`ensurepip` module, as in an embeddable Python).
APP_MIN_PYTHON = (3, 10)
PYTHON_NAMES = ("python3.13", "python3.12", "python3.11", "python3.10", "python3", "python")


class InstallError(Exception):
    """Installing the app venv failed; the message says why and what to do."""


def venv_dir(extension_dir: Path = EXTENSION_DIR) -> Path:
    return Path(os.environ.get("MOVIEMINTER_VENV") or extension_dir / ".venv").expanduser()


def venv_python(venv: Path) -> Path:
    """The venv's interpreter: `Scripts\\python.exe` on Windows, `bin/python` elsewhere."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def skip_install_requested(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """A1111's --skip-install, wherever it can be seen from here: our argv, the
    COMMANDLINE_ARGS that webui-user passes down, A1111's parsed launch args
    when we run in its process, or its own argument parser."""
    environ = os.environ if environ is None else environ
    if environ.get("MOVIEMINTER_SKIP_INSTALL", "").lower() in ("1", "true", "yes"):
        return True
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args += shlex.split(environ.get("COMMANDLINE_ARGS", ""))
    except ValueError:
        pass
    if "--skip-install" in args:
        return True
    launch = sys.modules.get("launch")
    if getattr(getattr(launch, "args", None), "skip_install", False):
        return True
    shared = sys.modules.get("modules.shared")
    if getattr(getattr(shared, "cmd_opts", None), "skip_install", False):
        return True
    try:
        from modules import cmd_args  # A1111's parser: honours abbreviations like A1111 does

        parsed, _ = cmd_args.parser.parse_known_args(args)
        return bool(getattr(parsed, "skip_install", False))
    except Exception:  # not inside A1111, or a fork without that module
        return False


def stamp_value(extension_dir: Path, requirements: Path, python_version: str) -> str:
    h = hashlib.sha256()
    for f in (requirements, extension_dir / "pyproject.toml"):
        h.update(f.name.encode() + b"\0")
        h.update(f.read_bytes() if f.exists() else b"")
    h.update(python_version.encode())
    return h.hexdigest()


def venv_version(venv: Path) -> str:
    """The Python version a venv was made with (its pyvenv.cfg), "" if none."""
    try:
        for line in (venv / "pyvenv.cfg").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                return value.strip()
    except OSError:
        pass
    return ""


def _probe(python: str, env: dict) -> tuple[tuple[int, ...] | None, str]:
    """(version, problem) of an interpreter that could make the app venv."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3]); import venv, ensurepip"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    first = out.stdout.strip().splitlines()[:1]
    version = tuple(int(x) for x in first[0].split(".")) if first and first[0][:1].isdigit() else None
    if out.returncode != 0:
        return version, "no venv module" if version else (out.stderr.strip().splitlines() or ["fails to run"])[-1]
    return version, ""


def _py_launcher_pythons(env: dict) -> list[str]:
    """Windows: the interpreters the `py` launcher knows (python.org installs), newest first."""
    if os.name != "nt" or not shutil.which("py"):
        return []
    found = []
    for minor in (13, 12, 11, 10):
        try:
            out = subprocess.run(
                ["py", f"-3.{minor}", "-c", "import sys; print(sys.executable)"],
                capture_output=True,
                text=True,
                env=env,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip():
            found.append(out.stdout.strip().splitlines()[-1])
    return found


def choose_python(current: str = sys.executable, env: dict | None = None) -> str:
    """The interpreter for the app venv: MOVIEMINTER_PYTHON, else A1111's own (the
    usual case: any Python >= 3.10 with the venv module), else the newest Python
    on PATH (and, on Windows, that the `py` launcher knows)."""
    env = _clean_env() if env is None else env
    explicit = os.environ.get("MOVIEMINTER_PYTHON")
    tried, seen = [], set()

    def candidates():
        if explicit:
            yield explicit
            return
        yield current
        yield from (shutil.which(n) for n in PYTHON_NAMES)
        yield from _py_launcher_pythons(env)  # only reached when nothing before would do

    for python in candidates():
        if not python or python in seen:
            continue
        seen.add(python)
        version, problem = _probe(python, env)
        if version and version[:2] >= APP_MIN_PYTHON and not problem:
            return python
        tried.append(f"{python} ({'.'.join(map(str, version)) if version else '?'}{': ' + problem if problem else ''})")
    need = ".".join(map(str, APP_MIN_PYTHON))
    fix = (
        "install Python 3.10 or newer from python.org (it has venv)"
        if os.name == "nt"
        else "install the venv module of your Python (Debian/Ubuntu: sudo apt install python3-venv, or "
        "python3.10-venv for Python 3.10)"
    )
    raise InstallError(
        f"[Movie Minter] the app needs Python >= {need} with the venv module; tried: {', '.join(tried)}\n"
        f"  how to fix: {fix}, or set MOVIEMINTER_PYTHON to such an interpreter, then restart A1111"
    )


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _site_packages(py: Path, env: dict) -> Path:
    out = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return Path(out.stdout.strip())


def ensure_venv(
    extension_dir: Path = EXTENSION_DIR,
    venv: Path | None = None,
    *,
    python: str = sys.executable,
    requirements: Path | None = None,
    log=print,
) -> str:
    """Create or update the app venv. Returns "skipped", "current" or "installed"."""
    extension_dir = Path(extension_dir)
    venv = Path(venv) if venv else venv_dir(extension_dir)
    requirements = Path(
        requirements or os.environ.get("MOVIEMINTER_REQUIREMENTS") or extension_dir / "requirements.lock"
    )
    if skip_install_requested():
        log("[Movie Minter] --skip-install: not checking the app venv")
        return "skipped"
    if not requirements.is_file():
        raise InstallError(
            f"[Movie Minter] {requirements} is missing; the extension folder is incomplete. "
            "Reinstall the extension (Extensions tab → Install from URL)."
        )
    py = venv_python(venv)
    stamp = venv / STAMP_NAME
    if (
        py.exists()
        and stamp.exists()
        and stamp.read_text().strip() == stamp_value(extension_dir, requirements, venv_version(venv))
    ):
        return "current"  # the common case: no subprocess at all

    env = _clean_env()
    started = time.time()
    log_path = venv.parent / f"{venv.name}-install.log"
    if not py.exists():
        base = choose_python(python, env)
        log(f"[Movie Minter] creating the app's own venv in {venv} with {base} (A1111's packages are not touched)")
        made = subprocess.run([base, "-m", "venv", str(venv)], capture_output=True, text=True, env=env)
        if made.returncode != 0 or not py.exists():
            raise InstallError(
                f"[Movie Minter] could not create {venv}:\n{made.stderr.strip()}\n"
                "  how to fix: check the folder is writable and has free space, or set MOVIEMINTER_VENV"
            )
    log(f"[Movie Minter] installing the app's locked requirements into {venv} (log: {log_path})")
    with open(log_path, "w") as out:
        res = subprocess.run(
            [str(py), "-m", "pip", "install", "--no-input", "-r", str(requirements)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(extension_dir),
        )
    if res.returncode != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
        raise InstallError(
            "[Movie Minter] pip could not install the app's requirements:\n    "
            + "\n    ".join(tail)
            + f"\n  full log: {log_path}\n  how to fix: check your internet connection and disk "
            "space, then restart A1111 (the install resumes)"
        )
    # The app's code is this extension folder: point the venv at it (no copy to go stale).
    (_site_packages(py, env) / PTH_NAME).write_text(str(extension_dir) + "\n")
    stamp.write_text(stamp_value(extension_dir, requirements, venv_version(venv)) + "\n")
    log(f"[Movie Minter] app venv ready in {time.time() - started:.0f} s")
    return "installed"


def main() -> int:
    try:
        ensure_venv()
    except InstallError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0
