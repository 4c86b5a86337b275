"""Stand-in for A1111's launch module (the part extensions call). run_pip and
is_installed record every call in $MM_STUB_CALLS, so a test can prove the
extension never asked A1111 to install into its venv."""

import importlib.util
import os


def _record(what: str) -> None:
    path = os.environ.get("MM_STUB_CALLS")
    if path:
        with open(path, "a") as f:
            f.write(what + "\n")


def is_installed(package: str) -> bool:
    _record(f"is_installed {package}")
    return importlib.util.find_spec(package) is not None


def run_pip(command: str, desc: str | None = None, live: bool = False):
    _record(f"run_pip {command}")
    raise RuntimeError("the stand-in refuses run_pip: an extension must not install into A1111's venv")


class _Args:
    skip_install = False


args = _Args()
