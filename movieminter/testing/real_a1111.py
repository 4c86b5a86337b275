"""A real AUTOMATIC1111 1.10.1 + Deforum + ControlNet, on CPU, for tests and benchmarks.

The stand-in in `a1111_double.py` is only as good as its match with the real
thing; this harness runs the real thing so one contract suite can check both.

    python -m movieminter.testing.real_a1111 prepare        # cached, stamped
    python -m movieminter.testing.real_a1111 start --port 7860

What it does, each step cached under `.hosts/real-a1111/` and stamped so a
second run costs nothing:

1. **Sources**: `MOVIEMINTER_REAL_A1111_SRC` names a source tarball or folder
   laid out as an A1111 folder (A1111 v1.10.1, its `repositories/` at the
   pinned commits, Deforum and ControlNet in `extensions/`). In this
   repository's CI that is `../shared/real-a1111/…tar.gz`. Without one, the
   pinned commits are cloned with git (`PINNED` below).
2. **A1111's own venv**, made with Python 3.10 (what A1111 1.10 ships with),
   from `A1111_INSTALL_STEPS`: the same packages A1111's launcher would install,
   from PyPI only.
3. **A tiny random SD-1.x checkpoint** (`tiny_sd.py`), deterministic from a
   seed, because no real weights can be had here.

Each `start()` copies the pristine tree into a fresh folder (A1111 writes its
config, caches and outputs beside its code), puts the tiny checkpoint in its
`models/`, launches it on loopback and stops it by PID (the whole process group).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO / ".hosts" / "real-a1111"
DEFAULT_TARBALL = REPO.parent / "shared" / "real-a1111" / "a1111-v1.10.1-deforum-controlnet-src.tar.gz"
SRC_ENV = "MOVIEMINTER_REAL_A1111_SRC"
PYTHON_ENV = "MOVIEMINTER_A1111_PYTHON"

# (folder in the A1111 tree, repository, commit): what the tarball holds.
PINNED = [
    (".", "https://github.com/AUTOMATIC1111/stable-diffusion-webui", "82a973c04367123ae98bd9abdf80d9eda9b910e2"),
    # Stability-AI/stablediffusion was deleted upstream; the fork carries the same commit (A1111 issue 17213).
    (
        "repositories/stable-diffusion-stability-ai",
        "https://github.com/w-e-w/stablediffusion",
        "cf1d67a6fd5ea1aa600c4df58e5b47da45f6bdbf",
    ),
    (
        "repositories/generative-models",
        "https://github.com/Stability-AI/generative-models",
        "45c443b316737a4ab6e40413d7794a7f5657c19f",
    ),
    (
        "repositories/k-diffusion",
        "https://github.com/crowsonkb/k-diffusion",
        "ab527a9a6d347f364e3d185ba6d714e22d80cb3c",
    ),
    ("repositories/BLIP", "https://github.com/salesforce/BLIP", "48211a1594f1321b00f14c9f7a5b4813144b2fb9"),
    (
        "repositories/stable-diffusion-webui-assets",
        "https://github.com/AUTOMATIC1111/stable-diffusion-webui-assets",
        "6f7db241d2f8ba7457bac5ca9753331f0c266917",
    ),
    (
        "extensions/sd-webui-deforum",
        "https://github.com/deforum-art/sd-webui-deforum",
        "322426851408ebca2cd49492bfeb1ec86e1dc869",
    ),
    (
        "extensions/sd-webui-controlnet",
        "https://github.com/Mikubill/sd-webui-controlnet",
        "56cec5b2958edf3b1807b7e7b2b1b5186dbd2f81",
    ),
]
# The environment variables A1111's launcher reads for each repository's commit.
COMMIT_ENV = {
    "repositories/stable-diffusion-stability-ai": "STABLE_DIFFUSION_COMMIT_HASH",
    "repositories/generative-models": "STABLE_DIFFUSION_XL_COMMIT_HASH",
    "repositories/k-diffusion": "K_DIFFUSION_COMMIT_HASH",
    "repositories/BLIP": "BLIP_COMMIT_HASH",
    "repositories/stable-diffusion-webui-assets": "ASSETS_COMMIT_HASH",
}

# What A1111 1.10.1's launcher installs, in its order, from PyPI only (the CPU
# runs PyPI's torch wheel; A1111 fetches `clip` as a GitHub zip of the same
# package PyPI has as openai-clip). ControlNet's requirements are constrained
# to A1111's pins, as its installer does when they are already met.
A1111_PINS = [
    "numpy==1.26.2",
    "torch==2.1.2",
    "torchvision==0.16.2",
    "Pillow==9.5.0",
    "protobuf==3.20.0",
    "transformers==4.30.2",
    "fastapi==0.94.0",
    "gradio==3.41.2",
]
A1111_INSTALL_STEPS = [
    ["torch==2.1.2", "torchvision==0.16.2"],
    ["-r", "requirements_versions.txt"],
    ["openai-clip"],
    ["-r", "extensions/sd-webui-deforum/requirements.txt"],
    ["-r", "extensions/sd-webui-controlnet/requirements.txt", "-c", "{constraints}"],
]
START_FLAGS = [
    "--api",
    "--deforum-api",
    "--use-cpu",
    "all",
    "--no-half",
    "--skip-torch-cuda-test",
    "--skip-version-check",
    "--no-download-sd-model",
]
# Offline: the tiny checkpoint's tokenizer is a local folder, nothing else is fetched for 2D renders.
START_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
}
TINY_SEED = 1234


class HarnessError(RuntimeError):
    """The real A1111 could not be prepared or started; the message says what to set."""


def _say(msg: str) -> None:
    print(f"[real-a1111] {msg}", file=sys.stderr, flush=True)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stamp_ok(stamp: Path, value: str) -> bool:
    return stamp.is_file() and stamp.read_text().strip() == value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- sources -----------------------------------------------------------------


def source_location() -> Path | None:
    """The tarball or folder to build from, or None (then clone the pinned commits)."""
    named = os.environ.get(SRC_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.exists():
            raise HarnessError(f"{SRC_ENV}={named} does not exist; point it at the A1111 source tarball or folder")
        return path
    return DEFAULT_TARBALL if DEFAULT_TARBALL.exists() else None


def _source_digest(src: Path | None) -> str:
    if src is None:
        return "git:" + ",".join(c for _, _, c in PINNED)
    if src.is_file():
        return "tar:" + _sha256_file(src)
    return "dir:" + str(src.resolve())


def _clone_pinned(dest: Path) -> None:
    git = shutil.which("git")
    if not git:
        raise HarnessError(f"no A1111 sources: set {SRC_ENV} to the source tarball, or install git to clone them")
    for folder, url, commit in PINNED:
        target = dest / folder
        target.mkdir(parents=True, exist_ok=True)
        _say(f"fetching {url} @ {commit[:10]}")
        for args in (["init", "-q"], ["fetch", "-q", "--depth", "1", url, commit], ["checkout", "-q", "FETCH_HEAD"]):
            res = subprocess.run([git, *args], cwd=target, capture_output=True, text=True)
            if res.returncode != 0:
                raise HarnessError(
                    f"git {' '.join(args)} failed in {target}: {res.stderr.strip()}\n"
                    f"  set {SRC_ENV} to a source tarball to work offline"
                )
        shutil.rmtree(target / ".git")


def ensure_sources(cache: Path) -> Path:
    """The pristine A1111 tree at cache/src (unpacked or cloned once)."""
    src = source_location()
    digest = _source_digest(src)
    tree, stamp = cache / "src", cache / "src.stamp"
    if tree.is_dir() and _stamp_ok(stamp, digest):
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    tmp = cache / "src.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if src is None:
        _clone_pinned(tmp)
    elif src.is_file():
        _say(f"unpacking {src}")
        with tarfile.open(src) as tar:
            tar.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(tmp)
        entries = list(tmp.iterdir())
        if len(entries) == 1 and entries[0].is_dir() and not (tmp / "launch.py").exists():
            entries[0].rename(cache / "src.inner")
            shutil.rmtree(tmp)
            (cache / "src.inner").rename(tmp)
    else:
        shutil.copytree(src, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
    if not (tmp / "launch.py").exists():
        raise HarnessError(f"{src} is not an A1111 folder (no launch.py at its top)")
    tmp.rename(tree)
    stamp.write_text(digest)
    return tree


# -- A1111's venv ----------------------------------------------------------------


def _python_version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.strip().split(".")
    return int(major), int(minor)


def find_python() -> str:
    """Python 3.10, as A1111 1.10 ships (its Windows installer bundles 3.10.6)."""
    named = os.environ.get(PYTHON_ENV)
    if named:
        if _python_version(named) is None:
            raise HarnessError(f"{PYTHON_ENV}={named} does not run (or has no venv module)")
        return named
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        shutil.which("python3.10"),
        *sorted(glob.glob(str(pyenv / "versions" / "3.10*" / "bin" / "python3.10"))),
    ]
    for python in filter(None, candidates):
        if _python_version(python) == (3, 10):
            return python
    raise HarnessError(
        f"no Python 3.10 found (A1111 1.10 runs on 3.10): install one (pyenv install 3.10, "
        f"uv python install 3.10) or set {PYTHON_ENV} to its interpreter"
    )


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _install_digest(tree: Path, python_version: tuple[int, int]) -> str:
    h = hashlib.sha256(json.dumps([A1111_INSTALL_STEPS, A1111_PINS, python_version]).encode())
    for step in A1111_INSTALL_STEPS:
        for i, arg in enumerate(step):
            if arg == "-r":
                h.update((tree / step[i + 1]).read_bytes())
    return h.hexdigest()


def ensure_venv(cache: Path, tree: Path) -> Path:
    venv = cache / "venv"
    python = find_python() if not venv_python(venv).exists() else str(venv_python(venv))
    version = _python_version(python)
    if version is None:
        shutil.rmtree(venv, ignore_errors=True)
        python, version = find_python(), None
        version = _python_version(python)
    digest = _install_digest(tree, version)
    stamp = cache / "venv.stamp"
    if venv_python(venv).exists() and _stamp_ok(stamp, digest):
        return venv
    if not venv_python(venv).exists():
        _say(f"creating A1111's venv with {python}")
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    constraints = cache / "a1111-pins.txt"
    constraints.write_text("\n".join(A1111_PINS) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    for step in A1111_INSTALL_STEPS:
        args = [a.format(constraints=constraints) for a in step]
        _say("pip install " + " ".join(args))
        res = subprocess.run(
            [str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
        )
        if res.returncode != 0:
            tail = "\n".join(res.stderr.strip().splitlines()[-8:])
            raise HarnessError(f"installing A1111's packages failed (pip install {' '.join(args)}):\n{tail}")
    (cache / "venv-freeze.txt").write_text(pip_freeze(venv))
    stamp.write_text(digest)
    return venv


def pip_freeze(venv: Path) -> str:
    out = subprocess.run(
        [str(venv_python(venv)), "-m", "pip", "freeze", "--all", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


# -- the tiny checkpoint -------------------------------------------------------------


def ensure_models(cache: Path, tree: Path, venv: Path) -> Path:
    """cache/models/: tiny-sd15.safetensors + .yaml + its tokenizer folder, and a LoRA for it."""
    maker = Path(__file__).with_name("tiny_sd.py")
    digest = hashlib.sha256(maker.read_bytes() + str(TINY_SEED).encode()).hexdigest()
    out, stamp = cache / "models", cache / "models.stamp"
    if (out / "tiny-sd15.safetensors").is_file() and _stamp_ok(stamp, digest):
        return out
    shutil.rmtree(out, ignore_errors=True)
    _say("making the tiny SD-1.x checkpoints and LoRA")
    for name, seed, extra in (("tiny-sd15", TINY_SEED, []), ("tiny-sd15-alt", TINY_SEED + 1, ["--no-lora"])):
        res = subprocess.run(
            [
                str(venv_python(venv)),
                str(maker),
                "--webui",
                str(tree),
                "--out",
                str(out),
                "--seed",
                str(seed),
                "--name",
                name,
                *extra,
            ],
            capture_output=True,
            text=True,
        )
        if res.returncode != 0:
            raise HarnessError(
                "making the tiny checkpoint failed:\n" + "\n".join(res.stderr.strip().splitlines()[-10:])
            )
    stamp.write_text(digest)
    return out


@dataclass
class Prepared:
    cache: Path
    tree: Path
    venv: Path
    models: Path

    @property
    def python(self) -> Path:
        return venv_python(self.venv)

    @property
    def checkpoint(self) -> Path:
        return self.models / "tiny-sd15.safetensors"

    @property
    def alt_checkpoint(self) -> Path:
        return self.models / "tiny-sd15-alt.safetensors"

    @property
    def lora(self) -> Path:
        return self.models / "tiny-lora.safetensors"

    def freeze_after_install(self) -> str:
        return (self.cache / "venv-freeze.txt").read_text()


def prepare(cache: Path | None = None) -> Prepared:
    """Everything a start needs, built once (one process at a time: test workers share the cache)."""
    cache = Path(cache or os.environ.get("MOVIEMINTER_REAL_A1111_CACHE") or DEFAULT_CACHE)
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        if os.name != "nt":
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        tree = ensure_sources(cache)
        venv = ensure_venv(cache, tree)
        models = ensure_models(cache, tree, venv)
    return Prepared(cache, tree, venv, models)


# -- running it ---------------------------------------------------------------------


def make_instance(
    prepared: Prepared,
    dest: Path,
    *,
    controlnet: bool = True,
    models: bool = True,
    extensions: dict[str, Path] | None = None,
) -> Path:
    """A fresh A1111 folder at dest: a copy of the pristine tree, the tiny
    checkpoint in models/, ControlNet left out when asked, and extra extensions
    (name -> folder) linked in as a user's `git clone` would place them."""
    shutil.copytree(prepared.tree, dest, symlinks=True)
    if not controlnet:
        shutil.rmtree(dest / "extensions" / "sd-webui-controlnet")
    if models:
        ckpt_dir = dest / "models" / "Stable-diffusion"
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        for suffix in (".safetensors", ".yaml"):
            shutil.copy2(prepared.checkpoint.with_suffix(suffix), ckpt_dir)
        (dest / "models" / "Lora").mkdir(parents=True, exist_ok=True)
        shutil.copy2(prepared.lora, dest / "models" / "Lora")
    for name, folder in (extensions or {}).items():
        (dest / "extensions" / name).symlink_to(Path(folder).resolve(), target_is_directory=True)
    return dest


def git_init_repositories(instance: Path) -> dict[str, str]:
    """Make repositories/* git repositories and return the environment that
    tells A1111's launcher their commits, so a normal start (with
    prepare_environment and the extension installers) runs offline."""
    env = {}
    ident = ["-c", "user.name=harness", "-c", "user.email=harness@localhost", "-c", "commit.gpgsign=false"]
    for folder, var in COMMIT_ENV.items():
        repo = instance / folder
        for args in (["init", "-q"], ["add", "-A"], [*ident, "commit", "-q", "-m", "pinned sources"]):
            subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
        env[var] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
        ).stdout.strip()
    return env


@dataclass
class RunningA1111:
    folder: Path
    port: int
    proc: subprocess.Popen
    log_path: Path
    python: Path
    extra_env: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 300) -> None:
        """Until A1111 has finished starting. Nothing is asked before its log says
        "Startup time": a request between gradio's launch and A1111 adding its API
        middleware kills the start ("Cannot add middleware after an application has started")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(
                    f"A1111 exited with {self.proc.returncode} while starting; log tail:\n"
                    + "\n".join(self.log().splitlines()[-25:])
                )
            if "Startup time:" in self.log():
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(self.url + "/internal/ping", timeout=2).status_code == 200:
                        return
            time.sleep(0.5)
        self.stop()
        raise HarnessError(
            f"A1111 did not answer /internal/ping within {timeout:.0f} s; log tail:\n"
            + "\n".join(self.log().splitlines()[-25:])
        )

    def signal(self, sig: int) -> None:
        """Send a signal to A1111 itself (as a terminal or service manager would)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)

    def stop(self, timeout: float = 30) -> int | None:
        """Stop A1111 and everything it started (its process group)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of the group
        return self.proc.returncode


def start(
    prepared: Prepared,
    folder: Path,
    *,
    port: int | None = None,
    extra_args: list[str] | None = None,
    prepare_environment: bool = False,
    env: dict | None = None,
    wait: bool = True,
    timeout: float = 300,
) -> RunningA1111:
    """Launch A1111 from `folder` (see make_instance) on loopback."""
    port = port or _free_port()
    args = [*START_FLAGS, "--port", str(port), *(extra_args or [])]
    run_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "COMMANDLINE_ARGS") and not k.startswith("MOVIEMINTER_")
    }
    run_env.update(START_ENV)
    # An instance folder inside another git checkout must not report that checkout's commit as A1111's.
    run_env["GIT_CEILING_DIRECTORIES"] = str(Path(folder).resolve().parent)
    if not prepare_environment:
        args.append("--skip-prepare-environment")
    run_env.update(env or {})
    log_path = folder / "a1111.log"
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [str(prepared.python), "launch.py", *args],
        cwd=folder,
        env=run_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    running = RunningA1111(folder, port, proc, log_path, prepared.python, env or {})
    if wait:
        running.wait_ready(timeout)
    return running


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m movieminter.testing.real_a1111", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("prepare", help="unpack, build A1111's venv and the tiny checkpoint (cached)")
    st = sub.add_parser("start", help="run a fresh A1111 until Ctrl-C")
    st.add_argument("--port", type=int, default=7860)
    st.add_argument("--folder", type=Path, default=None, help="instance folder (default: a new one in the cache)")
    st.add_argument("--no-controlnet", action="store_true", help="leave the ControlNet extension out")
    args = ap.parse_args(argv)
    try:
        prepared = prepare()
        if args.cmd == "prepare":
            print(
                json.dumps(
                    {
                        "tree": str(prepared.tree),
                        "python": str(prepared.python),
                        "checkpoint": str(prepared.checkpoint),
                    },
                    indent=1,
                )
            )
            return 0
        folder = args.folder or prepared.cache / "instances" / f"manual-{args.port}"
        if not folder.exists():
            make_instance(prepared, folder, controlnet=not args.no_controlnet)
        running = start(prepared, folder, port=args.port)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"A1111 at {running.url} (folder {folder}, log {running.log_path}); Ctrl-C stops it", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: running.stop())
    try:
        running.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
