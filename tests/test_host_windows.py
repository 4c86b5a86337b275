"""The host glue on Windows, with Windows faked (`os.name == "nt"`): install.py's venv paths and
interpreter choice, and the app child's start, stop and parent watchdog. Nothing here runs on a
real Windows machine (none is available to this project's CI; docs/host.md, "Windows"): these
tests pin down what would be called there, and that no POSIX-only call is made on that path.

The same calls on POSIX are checked here too; the real thing on Linux is tests/test_host.py
and tests/test_real_host.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from movieminter.host import installer, processes, supervisor
from tests.conftest import ROOT


class _AsOnWindows:
    """A module as the host glue would see it on Windows: `hide` names do not exist there, the
    keyword arguments are added or replaced; everything else is the real module."""

    def __init__(self, module, hide=(), **extra):
        self._module, self._hide = module, set(hide)
        self.__dict__.update(extra)

    def __getattr__(self, name):
        if name in self._hide:
            raise AttributeError(f"module {self._module.__name__!r} has no attribute {name!r} on Windows")
        return getattr(self._module, name)


@pytest.fixture
def nt(monkeypatch):
    """Windows as far as the host glue can tell: `os.name == "nt"`, and the POSIX-only calls gone,
    as they are on Windows. Only the host modules see it (the test process's pathlib must not)."""
    fake_os = _AsOnWindows(os, hide=("killpg", "setsid", "getpgid", "fork", "getuid"), name="nt")
    fake_signal = _AsOnWindows(
        signal,
        hide=("SIGKILL", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGCHLD"),
        SIGBREAK=21,
        CTRL_C_EVENT=0,
        CTRL_BREAK_EVENT=1,
    )
    for module in (installer, processes, supervisor):
        monkeypatch.setattr(module, "os", fake_os)
    for module in (processes, supervisor):
        monkeypatch.setattr(module, "signal", fake_signal)
    monkeypatch.setattr(processes, "_has_console", lambda: True)
    return fake_os


class FakeProc:
    """A child that ignores the graceful request for `stubborn` waits."""

    def __init__(self, pid=4242, stubborn=0):
        self.pid, self.stubborn, self.returncode = pid, stubborn, None
        self.killed = False

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        if self.stubborn > 0:
            self.stubborn -= 1
            raise subprocess.TimeoutExpired("app", timeout)
        self.returncode = 0
        return 0

    def send_signal(self, sig):
        self.signalled = sig

    def kill(self):
        self.killed = True
        self.returncode = -9


@pytest.fixture
def calls(monkeypatch):
    """os.kill, os.killpg and subprocess.run as seen by processes.py, recorded (nothing is sent)."""
    seen = []

    def fake_run(args, **kw):
        seen.append(("run", list(args), kw.get("creationflags")))
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(os, "kill", lambda pid, sig: seen.append(("kill", pid, sig)))
    if hasattr(os, "killpg"):
        monkeypatch.setattr(os, "killpg", lambda pid, sig: seen.append(("killpg", pid, sig)))
    monkeypatch.setattr(processes.subprocess, "run", fake_run)
    return seen


# ------------------------------------------------------------------ paths
def test_the_app_venvs_interpreter_is_scripts_python_exe_on_windows(nt, tmp_path):
    assert installer.venv_python(tmp_path / ".venv") == tmp_path / ".venv" / "Scripts" / "python.exe"


def test_the_app_venvs_interpreter_is_bin_python_on_posix(tmp_path):
    if os.name == "nt":
        pytest.skip("POSIX only")
    assert installer.venv_python(tmp_path / ".venv") == tmp_path / ".venv" / "bin" / "python"


def test_install_builds_the_venv_with_scripts_python_exe_on_windows(nt, monkeypatch, tmp_path):
    """ensure_venv on Windows, every subprocess faked: the venv is made with A1111's own Python,
    then ITS Scripts\\python.exe runs pip on the lock, and the .pth goes into its site-packages."""
    ext = tmp_path / "extensions" / "movieminter"
    ext.mkdir(parents=True)
    (ext / "requirements.lock").write_text("iniconfig==2.3.1\n")
    (ext / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    venv = ext / ".venv"
    site = venv / "Lib" / "site-packages"
    a1111 = r"C:\sd\webui\venv\Scripts\python.exe"
    seen = []

    def fake_run(args, **kw):
        seen.append([str(a) for a in args])
        if args[1:3] == ["-m", "venv"]:
            (venv / "Scripts").mkdir(parents=True)
            (venv / "Scripts" / "python.exe").write_text("")
            (venv / "pyvenv.cfg").write_text("home = C:\\Python310\nversion = 3.10.6\n")
            site.mkdir(parents=True)
            return subprocess.CompletedProcess(args, 0, "", "")
        if "sysconfig" in " ".join(map(str, args)):
            return subprocess.CompletedProcess(args, 0, f"{site}\n", "")
        return subprocess.CompletedProcess(args, 0, "3.10.6\n", "")

    for var in (
        "MOVIEMINTER_PYTHON",
        "MOVIEMINTER_VENV",
        "MOVIEMINTER_REQUIREMENTS",
        "MOVIEMINTER_SKIP_INSTALL",
        "COMMANDLINE_ARGS",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "argv", ["install.py"])
    monkeypatch.setattr(installer.subprocess, "run", fake_run)
    assert installer.ensure_venv(ext, python=a1111, log=lambda *a: None) == "installed"

    app_py = str(venv / "Scripts" / "python.exe")
    assert seen[0][0] == a1111  # the probe of A1111's Python: >= 3.10 with venv, so it makes the venv
    assert [a1111, "-m", "venv", str(venv)] in seen, seen
    assert [app_py, "-m", "pip", "install", "--no-input", "-r", str(ext / "requirements.lock")] in seen, seen
    assert (site / installer.PTH_NAME).read_text().strip() == str(ext)
    assert (venv / installer.STAMP_NAME).exists()
    assert not any("bin/python" in " ".join(args) for args in seen)


# ------------------------------------------------------------------ which Python makes the venv
@pytest.fixture
def probes(monkeypatch):
    """installer._probe faked: {python: (version, problem)}; which pythons were probed."""
    table, probed = {}, []

    def fake_probe(python, env):
        probed.append(python)
        return table.get(python, (None, "not found"))

    monkeypatch.setattr(installer, "_probe", fake_probe)
    monkeypatch.setattr(installer.shutil, "which", lambda name: {"python3.12": "/usr/bin/python3.12"}.get(name))
    monkeypatch.delenv("MOVIEMINTER_PYTHON", raising=False)
    return table, probed


def test_a1111s_own_python_310_makes_the_app_venv(probes):
    table, probed = probes
    table["/sd/venv/bin/python"] = ((3, 10, 6), "")
    table["/usr/bin/python3.12"] = ((3, 12, 1), "")
    assert installer.choose_python("/sd/venv/bin/python", env={}) == "/sd/venv/bin/python"
    assert probed == ["/sd/venv/bin/python"]  # no second Python is looked for


def test_movieminter_python_overrides_a1111s(probes, monkeypatch):
    table, probed = probes
    table["/sd/venv/bin/python"] = ((3, 10, 6), "")
    table["/opt/py313/bin/python3"] = ((3, 13, 0), "")
    monkeypatch.setenv("MOVIEMINTER_PYTHON", "/opt/py313/bin/python3")
    assert installer.choose_python("/sd/venv/bin/python", env={}) == "/opt/py313/bin/python3"
    assert probed == ["/opt/py313/bin/python3"]


def test_a_python_without_venv_falls_back_to_one_on_path(probes):
    table, probed = probes
    table["/sd/python/python"] = ((3, 10, 6), "no venv module")  # e.g. an embeddable Python
    table["/usr/bin/python3.12"] = ((3, 12, 1), "")
    assert installer.choose_python("/sd/python/python", env={}) == "/usr/bin/python3.12"


def test_on_windows_the_py_launcher_is_asked_when_nothing_on_path_will_do(nt, probes, monkeypatch):
    table, probed = probes
    monkeypatch.setattr(installer.shutil, "which", lambda name: r"C:\Windows\py.exe" if name == "py" else None)
    table[r"C:\sd\system\python\python.exe"] = ((3, 10, 6), "no venv module")
    table[r"C:\Python311\python.exe"] = ((3, 11, 9), "")
    launched = []

    def fake_run(args, **kw):
        launched.append(args[:2])
        if args[:2] == ["py", "-3.11"]:
            return subprocess.CompletedProcess(args, 0, "C:\\Python311\\python.exe\n", "")
        return subprocess.CompletedProcess(args, 103, "", "No suitable Python runtime found")

    monkeypatch.setattr(installer.subprocess, "run", fake_run)
    assert installer.choose_python(r"C:\sd\system\python\python.exe", env={}) == r"C:\Python311\python.exe"
    assert ["py", "-3.13"] in launched and ["py", "-3.11"] in launched


def test_no_python_310_says_what_to_do(probes):
    table, _ = probes
    table["/old/python"] = ((3, 9, 18), "")
    with pytest.raises(installer.InstallError) as err:
        installer.choose_python("/old/python", env={})
    message = str(err.value)
    assert "needs Python >= 3.10" in message and "/old/python (3.9.18)" in message
    assert "MOVIEMINTER_PYTHON" in message and "python3-venv" in message


def test_no_python_310_on_windows_points_at_python_org(nt, probes):
    table, _ = probes
    table[r"C:\old\python.exe"] = ((3, 9, 13), "")
    with pytest.raises(installer.InstallError, match=r"python\.org"):
        installer.choose_python(r"C:\old\python.exe", env={})


# ------------------------------------------------------------------ starting the app child
@pytest.fixture
def spawned(monkeypatch, tmp_path):
    """AppProcess._spawn with Popen faked: the keyword arguments it was given."""
    seen = {}

    def fake_popen(cmd, **kw):
        seen.update(cmd=cmd, **kw)
        proc = FakeProc()
        proc.returncode = 0  # the health thread stops at once
        return proc

    monkeypatch.setattr(supervisor.subprocess, "Popen", fake_popen)

    def spawn(python):
        app = supervisor.AppProcess(python, a1111_url="http://127.0.0.1:7860", log_path=tmp_path / "app.log")
        app._spawn()
        return seen

    return spawn


def test_the_app_child_gets_its_own_process_group_on_windows(nt, spawned, tmp_path):
    python = installer.venv_python(tmp_path / ".venv")
    seen = spawned(python)
    assert seen["cmd"][:4] == [str(tmp_path / ".venv" / "Scripts" / "python.exe"), "-m", "movieminter", "serve"]
    assert seen["cmd"][seen["cmd"].index("--parent-pid") + 1] == str(os.getpid())
    assert seen["creationflags"] == processes.CREATE_NEW_PROCESS_GROUP == 0x200
    assert "start_new_session" not in seen and "preexec_fn" not in seen


def test_without_a_console_the_app_child_opens_no_window(nt, spawned, monkeypatch, tmp_path):
    monkeypatch.setattr(processes, "_has_console", lambda: False)  # A1111 started without a console
    seen = spawned(installer.venv_python(tmp_path / ".venv"))
    assert seen["creationflags"] == processes.CREATE_NEW_PROCESS_GROUP | processes.CREATE_NO_WINDOW


def test_the_app_child_gets_its_own_session_on_posix(spawned, tmp_path):
    if os.name == "nt":
        pytest.skip("POSIX only")
    seen = spawned(tmp_path / ".venv" / "bin" / "python")
    assert seen["start_new_session"] is True and "creationflags" not in seen


def test_the_child_gets_no_venv_launcher_variable(nt, spawned, monkeypatch, tmp_path):
    """A1111's venv launcher variable must not make the app's interpreter think it is A1111's."""
    monkeypatch.setenv("__PYVENV_LAUNCHER__", r"C:\sd\webui\venv\Scripts\python.exe")
    monkeypatch.setenv("VIRTUAL_ENV", r"C:\sd\webui\venv")
    env = spawned(installer.venv_python(tmp_path / ".venv"))["env"]
    assert "__PYVENV_LAUNCHER__" not in env and "VIRTUAL_ENV" not in env


# ------------------------------------------------------------------ stopping it
def test_stop_on_windows_is_ctrl_break_to_the_childs_group(nt, calls):
    proc = FakeProc(pid=4242)
    processes.stop(proc, grace=10)
    assert calls == [("kill", 4242, processes.CTRL_BREAK_EVENT)]  # uvicorn stops on SIGBREAK
    assert proc.returncode == 0 and not proc.killed


def test_stop_on_windows_kills_the_tree_with_taskkill_after_the_grace(nt, calls):
    proc = FakeProc(pid=4242, stubborn=1)
    processes.stop(proc, grace=10)
    assert calls == [
        ("kill", 4242, processes.CTRL_BREAK_EVENT),
        ("run", ["taskkill", "/PID", "4242", "/T", "/F"], processes.CREATE_NO_WINDOW),
    ]


def test_stop_on_windows_without_a_shared_console_goes_straight_to_taskkill(nt, calls, monkeypatch):
    def no_console(pid, sig):
        raise OSError(6, "The handle is invalid")  # GenerateConsoleCtrlEvent without a shared console

    monkeypatch.setattr(os, "kill", no_console)
    proc = FakeProc(pid=77, stubborn=1)
    processes.stop(proc, grace=10)
    assert calls == [("run", ["taskkill", "/PID", "77", "/T", "/F"], processes.CREATE_NO_WINDOW)]


def test_stop_on_posix_is_sigterm_then_sigkill_to_the_group(calls):
    if os.name == "nt":
        pytest.skip("POSIX only")
    proc = FakeProc(pid=4242, stubborn=1)
    processes.stop(proc, grace=10)
    assert proc.signalled == signal.SIGTERM
    assert calls == [("killpg", 4242, signal.SIGKILL)]


def test_the_supervisor_stops_its_child_through_processes(nt, calls, monkeypatch):
    app = supervisor.AppProcess("python.exe")
    app.proc = FakeProc(pid=99, stubborn=1)
    app.stop()
    assert [c[0] for c in calls] == ["kill", "run"] and calls[1][1][:3] == ["taskkill", "/PID", "99"]
    assert app.proc is None


def test_exit_hooks_on_windows_also_catch_ctrl_break(nt, monkeypatch):
    hooked, registered = {}, []
    monkeypatch.setattr(supervisor.atexit, "register", registered.append)
    monkeypatch.setattr(supervisor.signal, "getsignal", lambda sig: signal.SIG_DFL)
    monkeypatch.setattr(supervisor.signal, "signal", lambda sig, handler: hooked.__setitem__(sig, handler))
    app = supervisor.AppProcess("python.exe")
    app.install_exit_hooks()
    assert registered == [app.stop]
    assert set(hooked) == {signal.SIGINT, signal.SIGTERM, 21}  # 21: SIGBREAK


# ------------------------------------------------------------------ the parent watchdog
class FakeKernel32:
    def __init__(self, handle=42, waits=(), error=0):
        self.handle, self.waits, self.error = handle, list(waits), error
        self.opened, self.closed = [], []

    def OpenProcess(self, access, inherit, pid):
        self.opened.append((access, inherit, pid))
        return self.handle

    def WaitForSingleObject(self, handle, ms):
        assert handle == self.handle and ms == 0
        return self.waits.pop(0) if self.waits else 0x102  # WAIT_TIMEOUT: still running

    def CloseHandle(self, handle):
        self.closed.append(handle)


def _no_posix_probe(monkeypatch):
    def refuse(*a):
        raise AssertionError(
            "os.kill / os.getppid on Windows: signal 0 is CTRL_C_EVENT, and the parent "
            "of a venv's python.exe is its launcher"
        )

    monkeypatch.setattr(os, "kill", refuse)
    monkeypatch.setattr(os, "getppid", refuse)


def test_watchdog_on_windows_waits_on_a_handle_to_a1111(nt, monkeypatch):
    _no_posix_probe(monkeypatch)
    kernel32 = FakeKernel32(waits=[0x102, 0x102, 0])  # running, running, exited
    monkeypatch.setattr(processes, "_kernel32", lambda: kernel32)
    alive = processes.parent_watch(1234)
    assert kernel32.opened == [(processes.SYNCHRONIZE | processes.PROCESS_QUERY_LIMITED_INFORMATION, False, 1234)]
    assert [alive(), alive(), alive(), alive()] == [True, True, False, False]
    assert kernel32.closed == [42]


def test_watchdog_on_windows_when_a1111_is_already_gone_or_cannot_be_opened(nt, monkeypatch):
    _no_posix_probe(monkeypatch)
    kernel32 = FakeKernel32(handle=None)
    monkeypatch.setattr(processes, "_kernel32", lambda: kernel32)
    monkeypatch.setattr(processes, "_last_error", lambda: processes.ERROR_INVALID_PARAMETER)
    assert processes.parent_watch(1234)() is False  # no such process: A1111 is gone
    monkeypatch.setattr(processes, "_last_error", lambda: 5)  # ERROR_ACCESS_DENIED
    assert processes.parent_watch(1234)() is True  # cannot watch: the host's own stop remains


def test_watchdog_on_windows_treats_a_failed_wait_as_running(nt, monkeypatch):
    kernel32 = FakeKernel32(waits=[0xFFFFFFFF])  # WAIT_FAILED: unknown, so do not stop the app
    monkeypatch.setattr(processes, "_kernel32", lambda: kernel32)
    assert processes.parent_watch(1234)() is True


def test_watchdog_on_posix_sees_a_dead_parent(monkeypatch):
    if os.name == "nt":
        pytest.skip("POSIX only")
    assert processes.parent_watch(os.getppid())() is True
    monkeypatch.setattr(os, "getppid", lambda: 1)  # re-parented to init: the parent died
    assert processes.parent_watch(12345)() is False


def test_serve_uses_the_portable_watchdog():
    """`movieminter serve --parent-pid` goes through processes.parent_watch (no os.kill(pid, 0),
    which would send CTRL_C_EVENT on Windows)."""
    source = (ROOT / "movieminter" / "app" / "cli.py").read_text()
    assert "parent_watch(pid)" in source and "os.kill(" not in source and "getppid" not in source


# ------------------------------------------------------------------ nothing POSIX-only on the host path
HOST_PATH = [
    ROOT / "install.py",
    *sorted((ROOT / "scripts").glob("*.py")),
    *sorted((ROOT / "movieminter" / "host").glob("*.py")),
    ROOT / "movieminter" / "app" / "cli.py",
]
POSIX_ONLY = re.compile(
    r"os\.killpg|os\.setsid|os\.getpgid|start_new_session|preexec_fn|\bfcntl\b|/proc/"
    r"|os\.getppid|signal\.SIGKILL|os\.kill\(|os\.fork|\bpwd\b|\btermios\b|shell=True"
    r"|\bbash\b|\.sh\b|bin/python"
)


def test_the_host_path_has_no_posix_only_call_outside_processes_py():
    found = []
    for path in HOST_PATH:
        if path.name == "processes.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if POSIX_ONLY.search(code) and not code.strip().startswith(('"', "'")):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    # The one exception: re-raising a signal with its default action (POSIX: die of it; Windows:
    # TerminateProcess with that exit code, which is what the default handler does there too).
    assert [f.split(": ", 1)[1] for f in found] == ["os.kill(os.getpid(), signum)"], found
    assert found[0].startswith("movieminter/host/supervisor.py:")


def test_processes_py_branches_every_posix_only_call_on_os_name():
    """Each POSIX-only call in processes.py sits in a function that asks windows() first."""
    import ast

    source = (ROOT / "movieminter" / "host" / "processes.py").read_text()
    functions = [
        ast.get_source_segment(source, node) for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)
    ]
    for call in ("os.killpg", "start_new_session", "os.getppid", "signal.SIGKILL", "os.kill("):
        users = [f for f in functions if call in f]
        assert users and all("windows()" in f for f in users), call
