"""Movie Minter installed into a REAL AUTOMATIC1111 1.10.1 (+ Deforum) on CPU
(movieminter/testing/real_a1111.py), as a user has it: this repository linked
in as `extensions/movieminter`, A1111 started by its own launcher.

- A1111's launcher runs our install.py at start (prepare_environment), which
  brings the app's own venv up to date; A1111's venv stays byte-for-byte the
  same (`pip freeze --all`).
- A1111's UI has the "Movie Minter" tab; `/movieminter/` on A1111's port is the
  app (page and REST API) through the proxy.
- The app child dies with A1111 on SIGTERM, SIGINT and SIGKILL.

The app venv is cached in `.hosts/real-a1111/app-venv` (built by install.py on
the first run, ~1 min with a warm pip cache). It stays: later runs only make
its stamp stale, so that install.py must re-check the venv under A1111's
launcher (pip finds everything satisfied, offline, ~3 s) and say so in A1111's
log. install.py is silent when the venv is current (tests/test_host.py).
ControlNet is left out: its installer fetches wheels from GitHub, and nothing
renders here.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.fixtures_a1111 import real_marks

pytestmark = [*real_marks, pytest.mark.slow, pytest.mark.timeout(1800)]

APP_VENV = "app-venv"  # in the real-A1111 cache (.hosts/real-a1111/)
FIRST_START_TIMEOUT = 1500  # the first run builds the app venv while A1111's launcher waits for install.py
START_TIMEOUT = 300
APP_READY_TIMEOUT = 180
EXIT_TIMEOUT = 60
APP_DEATH_TIMEOUT = 30  # the child's --parent-pid watchdog polls every second, then 5 s graceful + 10 s hard

# What A1111 1.10.1's prepare_environment() checks before it would run pip
# (modules/launch_utils.py), plus what Deforum's install.py checks
# (`launch.is_installed(line)` for each line of its requirements.txt).
A1111_INSTALL_CHECK = r"""
import json, os, re, sys
sys.argv = sys.argv[:1]
from modules import launch_utils as L
import importlib.metadata, packaging.version

def mismatches(path):
    out = []
    for line in open(path, encoding="utf8"):
        if not line.strip():
            continue
        m = re.match(L.re_requirement, line)
        if m is None:
            out.append(f"{line.strip()!r}: A1111's parser cannot read this line")
            continue
        name, want = m.group(1).strip(), (m.group(2) or "").strip()
        if not want:
            continue
        try:
            have = importlib.metadata.version(name)
        except Exception as exc:
            out.append(f"{name}=={want}: not installed ({type(exc).__name__})")
            continue
        if packaging.version.parse(want) != packaging.version.parse(have):
            out.append(f"{name}=={want}: {have} is installed")
    return out

deforum = os.path.join("extensions", "sd-webui-deforum", "requirements.txt")
print(json.dumps({
    "requirements_met": L.requirements_met("requirements_versions.txt"),
    "mismatches": mismatches("requirements_versions.txt"),
    "missing": [p for p in ("torch", "torchvision", "clip", "open_clip") if not L.is_installed(p)]
               + [l.strip() for l in open(deforum) if l.strip() and not L.is_installed(l.strip())],
}))
"""


# ------------------------------------------------------------------ processes
def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, ...]."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def alive(pid: int) -> bool:
    """Running (a zombie counts as dead: it only waits for its parent to reap it)."""
    st = _stat(pid)
    return st is not None and st[0] != "Z"


def app_processes(a1111_pid: int) -> list[int]:
    """The app children A1111 started: `<venv>/bin/python -m movieminter serve ... --parent-pid <A1111>`
    (host/supervisor.py's command line; the child keeps it after A1111 is gone)."""
    found = []
    for pid in _pids():
        args = _cmdline(pid)
        if (
            args[1:4] == ["-m", "movieminter", "serve"]
            and "--parent-pid" in args
            and args[args.index("--parent-pid") + 1 :][:1] == [str(a1111_pid)]
            and alive(pid)
        ):
            found.append(pid)
    return found


def group_members(pgid: int) -> list[int]:
    return [pid for pid in _pids() if (st := _stat(pid)) is not None and st[0] != "Z" and st[2] == str(pgid)]


def wait_until(what: str, check, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


# ------------------------------------------------------------------ one A1111 with Movie Minter
@dataclass
class Host:
    running: object  # real_a1111.RunningA1111
    folder: Path
    data_dir: Path
    app_pids: set = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def pid(self) -> int:
        return self.running.proc.pid

    def app_log(self) -> str:
        log = self.data_dir / "app.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def output(self) -> str:
        return (
            "--- A1111 log (tail) ---\n"
            + "\n".join(self.running.log().splitlines()[-40:])
            + "\n--- app.log (tail) ---\n"
            + "\n".join(self.app_log().splitlines()[-20:])
        )

    def wait_app(self) -> int:
        """Wait until the app answers through A1111's proxy; its pid (from /healthz)."""
        deadline = time.monotonic() + APP_READY_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            assert self.running.proc.poll() is None, "A1111 exited:\n" + self.output()
            try:
                r = httpx.get(self.url + "/movieminter/healthz", timeout=5)
                if r.status_code == 200:
                    pid = r.json()["pid"]
                    self.app_pids.add(pid)
                    return pid
                last = f"{r.status_code} {r.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.25)
        raise AssertionError(
            f"the app did not answer through /movieminter/ within {APP_READY_TIMEOUT} s "
            f"(last: {last})\n" + self.output()
        )

    def cleanup(self) -> None:
        """Stop A1111 (its process group) and any app child still around (its own session)."""
        self.running.stop()
        for pid in {*self.app_pids, *app_processes(self.pid)}:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # the app is its own process group's leader
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def new_instance(prepared, dest: Path) -> tuple[Path, Path, dict]:
    """An A1111 folder with this repository as extensions/movieminter (no ControlNet), its config
    pointing the app's data at a temp folder, and the environment for a normal (offline) start."""
    from movieminter.testing import real_a1111

    folder = real_a1111.make_instance(prepared, dest / "webui", controlnet=False, extensions={"movieminter": ROOT})
    data_dir = dest / "movieminter-data"
    # A1111's Settings → Movie Minter → Data folder (else the app would write to ~/.movieminter).
    (folder / "config.json").write_text(json.dumps({"movieminter_data_dir": str(data_dir)}))
    env = real_a1111.git_init_repositories(folder)
    env["MOVIEMINTER_VENV"] = str(prepared.cache / APP_VENV)
    return folder, data_dir, env


def start_a1111(prepared, folder: Path, *, timeout: float, **kw):
    """real_a1111.start(), but no request reaches A1111 before it printed "Startup time:".

    A1111 1.10.1 serves HTTP from gradio's launch() on, yet adds middleware afterwards
    (webui.py: setup_middleware resets the stack, then create_api's api_middleware adds more).
    A request in between makes Starlette build the stack, and A1111 dies at start with
    "RuntimeError: Cannot add middleware after an application has started" (A1111 PR #16758).
    The harness's wait_ready() polls /internal/ping every 0.5 s from the start, so it can hit
    that window; "Startup time:" is printed after the app_started callbacks, when it is closed.
    """
    from movieminter.testing import real_a1111

    running = real_a1111.start(prepared, folder, wait=False, **kw)
    deadline = time.monotonic() + timeout
    retries = 2  # A1111 binds its port only after loading the model: another process may take it meanwhile
    try:
        while "Startup time:" not in running.log():
            if running.proc.poll() is not None and "Cannot find empty port" in running.log() and retries:
                retries -= 1
                running = real_a1111.start(prepared, folder, wait=False, **kw)
                continue
            if running.proc.poll() is not None:
                raise AssertionError(
                    f"A1111 exited with {running.proc.returncode} while starting:\n"
                    + "\n".join(running.log().splitlines()[-30:])
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"A1111 did not finish starting within {timeout:.0f} s:\n"
                    + "\n".join(running.log().splitlines()[-30:])
                )
            time.sleep(0.2)
        running.wait_ready(max(deadline - time.monotonic(), 30))
    except BaseException:
        Host(running, folder, folder).cleanup()
        raise
    return running


def installer_stamp(venv: Path) -> str:
    from movieminter.host.installer import stamp_value, venv_version

    return stamp_value(ROOT, ROOT / "requirements.lock", venv_version(venv))


@dataclass
class Installed:
    host: Host
    venv: Path
    freeze_before: str
    freeze_after: str
    stamp_written_after: float


@pytest.fixture(scope="module")
def installed(real_prepared, tmp_path_factory):
    """A1111 started normally (its launcher runs every extension's install.py) with Movie Minter
    linked in; the app answering through A1111's port."""
    from movieminter.host.installer import STAMP_NAME
    from movieminter.testing import real_a1111

    folder, data_dir, env = new_instance(real_prepared, tmp_path_factory.mktemp("real-host"))
    check = subprocess.run(
        [str(real_prepared.python), "-c", A1111_INSTALL_CHECK], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr
    verdict = json.loads(check.stdout.strip().splitlines()[-1])
    if not verdict["requirements_met"] or verdict["missing"]:
        pytest.fail(
            "A1111's launcher would pip-install into its venv at start (the harness venv does not meet "
            f"what prepare_environment checks): {verdict}",
            pytrace=False,
        )

    venv = real_prepared.cache / APP_VENV
    stamp = venv / STAMP_NAME
    # One install.py at a time on the shared app venv (should pytest-xdist spread this module).
    with open(real_prepared.cache / f"{APP_VENV}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            # Current from an earlier run: make install.py re-check it (pip finds everything installed).
            stamp.write_text("stale: tests/test_real_host.py makes install.py re-check the venv\n")
        freeze_before = real_a1111.pip_freeze(real_prepared.venv)
        started = time.time()
        running = start_a1111(real_prepared, folder, prepare_environment=True, env=env, timeout=FIRST_START_TIMEOUT)
    host = Host(running, folder, data_dir)
    try:
        host.wait_app()
        yield Installed(host, venv, freeze_before, real_a1111.pip_freeze(real_prepared.venv), started)
    finally:
        host.cleanup()


@pytest.fixture
def start_host(installed, real_prepared, tmp_path):
    """start() -> Host: another A1111 with Movie Minter (the app venv is current by now, so the
    launcher's preparation is skipped), stopped with its app at teardown."""
    hosts = []

    def start() -> Host:
        folder, data_dir, env = new_instance(real_prepared, tmp_path / f"h{len(hosts)}")
        host = Host(start_a1111(real_prepared, folder, env=env, timeout=START_TIMEOUT), folder, data_dir)
        hosts.append(host)
        host.wait_app()
        return host

    yield start
    for host in hosts:
        host.cleanup()


# ------------------------------------------------------------------ install.py at start
def test_a1111s_launcher_runs_install_py_and_leaves_a1111s_venv_alone(installed):
    host, venv = installed.host, installed.venv
    log = host.running.log()
    launching = log.find("Launching Web UI with arguments:")
    assert launching > 0, host.output()
    before_launch = log[:launching]  # what prepare_environment printed (it prints extension installers' stdout)
    assert f"[Movie Minter] installing the app's locked requirements into {venv}" in before_launch, host.output()
    assert "[Movie Minter] app venv ready in" in before_launch, host.output()
    assert "Error running install.py" not in log, host.output()
    # A1111's run_pip prints "Installing <what>" (its requirements, clip, Deforum's requirements, ...).
    assert re.search(r"^Installing ", before_launch, re.M) is None, host.output()

    from movieminter.host.installer import PTH_NAME, STAMP_NAME

    stamp = venv / STAMP_NAME
    assert stamp.read_text().strip() == installer_stamp(venv), "install.py left a stale stamp"
    assert stamp.stat().st_mtime >= installed.stamp_written_after - 1, "the stamp was not written by this start"
    pth = list((venv / "lib").glob(f"python3.*/site-packages/{PTH_NAME}"))
    assert [p.read_text().strip() for p in pth] == [str(ROOT)]

    # Made with A1111's own Python 3.10 (the universal lock installs there): no second interpreter.
    from movieminter.host.installer import venv_version

    assert venv_version(venv).startswith("3.10."), (venv / "pyvenv.cfg").read_text()

    # The app runs from that venv, with the extension's code.
    app_pid = next(iter(host.app_pids))
    assert _cmdline(app_pid)[0] == str(venv / "bin" / "python")

    assert installed.freeze_after == installed.freeze_before, "A1111's venv changed during the start"
    assert "pydantic==1." in installed.freeze_after and "gradio==3.41.2" in installed.freeze_after


# ------------------------------------------------------------------ the tab
def _find(node: dict, component_id: int) -> bool:
    return node.get("id") == component_id or any(_find(c, component_id) for c in node.get("children", []))


def _subtree(node: dict, component_id: int) -> dict | None:
    if node.get("id") == component_id:
        return node
    for child in node.get("children", []):
        if (found := _subtree(child, component_id)) is not None:
            return found
    return None


def test_a1111_ui_has_the_movie_minter_tab_and_settings_section(installed):
    host = installed.host
    config = httpx.get(host.url + "/config", timeout=30).json()
    assert config["version"].startswith("3.41"), config["version"]
    comps = {c["id"]: c for c in config["components"]}
    # gradio 3.41: each A1111 tab is a "tabitem" component (props.label / props.id); A1111 names
    # its elem_id "tab_<id>" after the id an extension gives in on_ui_tabs.
    tabs = [c for c in comps.values() if c["type"] == "tabitem" and c["props"].get("label") == "Movie Minter"]
    main_tab = [c for c in tabs if c["props"].get("id") == "movieminter"]
    assert len(main_tab) == 1 and main_tab[0]["props"]["elem_id"] == "tab_movieminter", tabs
    assert main_tab[0]["props"]["visible"] is True

    top_tabs = next(c for c in comps.values() if c["type"] == "tabs" and c["props"].get("elem_id") == "tabs")
    top = _subtree(config["layout"], top_tabs["id"])
    assert any(child["id"] == main_tab[0]["id"] for child in top["children"]), "not a top-level A1111 tab"
    # Inside it: our iframe onto the proxied app (relative, so A1111's --subpath applies).
    frames = [c for c in comps.values() if c["type"] == "html" and 'id="movieminter-frame"' in str(c["props"]["value"])]
    assert len(frames) == 1 and 'src="movieminter/"' in frames[0]["props"]["value"]
    assert _find(_subtree(config["layout"], main_tab[0]["id"]), frames[0]["id"])

    # Settings → Movie Minter, and the value from A1111's config.json.
    section = [c for c in tabs if c["props"].get("elem_id") == "settings_movieminter"]
    assert len(section) == 1, tabs
    data_dir = [c for c in comps.values() if c["props"].get("elem_id") == "setting_movieminter_data_dir"]
    assert data_dir and data_dir[0]["props"]["value"] == str(host.data_dir)


# ------------------------------------------------------------------ the proxy
def test_the_app_answers_through_a1111s_port(installed):
    host = installed.host
    with httpx.Client(base_url=host.url, timeout=30) as c:
        assert c.get("/movieminter").headers.get("location", "").endswith("/movieminter/")
        page = c.get("/movieminter/")
        assert page.status_code == 200, page.text[:500]
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "<!doctype html>" in html.lower() and "Movie Minter" in html
        # The app's gradio (not A1111's 3.41) built this page, rooted at the proxy prefix.
        assert f'"root":"{host.url}/movieminter"' in html, html[:2000]
        assert '"version":"3.41' not in html
        assert "mm_csrf" in page.headers.get("set-cookie", ""), "the app's security middleware did not answer"

        health = c.get("/movieminter/healthz").json()
        assert health["app"] == "movieminter" and health["pid"] in host.app_pids

        settings = c.get("/movieminter/api/v1/settings")
        assert settings.status_code == 200, settings.text
        body = settings.json()
        assert body["a1111_url"] == host.url  # the app renders with the A1111 that started it
        assert body["data_dir"] == str(host.data_dir)
        jobs = c.get("/movieminter/api/v1/jobs")
        assert jobs.status_code == 200 and jobs.json() == {"jobs": []}, jobs.text

    # The app's own loopback port refuses requests that did not come through A1111's proxy.
    app_pid = next(iter(host.app_pids))
    args = _cmdline(app_pid)
    app_url = f"http://127.0.0.1:{args[args.index('--port') + 1]}"
    assert httpx.get(app_url + "/healthz", timeout=10).status_code == 200
    assert httpx.get(app_url + "/api/v1/settings", timeout=10).status_code in (401, 403)


# ------------------------------------------------------------------ the app dies with A1111
SIGNALS = [
    # (signal, A1111's exit status, who stops the app)
    pytest.param(signal.SIGTERM, -signal.SIGTERM, "host", id="SIGTERM"),
    pytest.param(signal.SIGINT, 0, "host", id="SIGINT"),  # A1111's own SIGINT handler calls os._exit(0)
    pytest.param(signal.SIGKILL, -signal.SIGKILL, "watchdog", id="SIGKILL"),
]
WATCHDOG_SAYS = "is gone; stopping"  # movieminter/app/cli.py watch_parent


@pytest.mark.parametrize("sig, status, stopper", SIGNALS)
def test_the_app_dies_with_a1111(sig, status, stopper, start_host):
    # Each signal stops its own A1111: tests run in random order, and the module's must outlive them.
    host = start_host()
    app_pid = host.wait_app()
    children = app_processes(host.pid)
    assert children == [app_pid], (children, app_pid)
    assert _stat(app_pid)[1] == str(host.pid), "the app is not A1111's child"
    assert _stat(app_pid)[2] == str(app_pid), "the app is not its own process group"

    host.running.signal(sig)
    try:
        code = host.running.proc.wait(EXIT_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"A1111 did not exit within {EXIT_TIMEOUT} s of {sig.name}\n" + host.output()) from exc
    assert code == status, f"A1111 exited with {code} on {sig.name}\n" + host.output()

    wait_until(f"the app (pid {app_pid}) exits after A1111's {sig.name}", lambda: not alive(app_pid), APP_DEATH_TIMEOUT)
    watchdog = WATCHDOG_SAYS in host.app_log()
    assert watchdog == (stopper == "watchdog"), (
        f"expected the {stopper} to stop the app on {sig.name}\n" + host.output()
    )
    if stopper == "host":
        assert "Shutting down" in host.app_log(), host.output()  # a graceful stop, not a kill

    # Nothing left behind: no app, nothing in A1111's or the app's process group.
    assert app_processes(host.pid) == []
    assert group_members(host.pid) == [] and group_members(app_pid) == [], [
        (p, _cmdline(p)) for p in group_members(host.pid) + group_members(app_pid)
    ]
