"""Starting, stopping and watching processes on POSIX and on Windows (standard library only).

Used by the host glue (supervisor.py: A1111 starts and stops the app child) and by the app
(`movieminter serve --parent-pid`: exit when A1111 is gone). Everything that differs between
the two families is here, decided at call time from `os.name`, so that tests can fake Windows.

POSIX                                         Windows
-------------------------------------------   -------------------------------------------------
child in its own session (start_new_session)  child in its own process group
  (the terminal's Ctrl+C reaches A1111 only)    (CREATE_NEW_PROCESS_GROUP: the console's Ctrl+C
                                                reaches A1111 only); CREATE_NO_WINDOW as well when
                                                A1111 has no console, so no window pops up
graceful stop: SIGTERM                        graceful stop: CTRL_BREAK_EVENT to the child's group
                                                (SIGBREAK, which uvicorn handles like SIGTERM)
hard stop: SIGKILL to the child's group       hard stop: `taskkill /PID <pid> /T /F` (the whole
  (its ffmpeg and other children too)           tree: `Scripts\\python.exe` of a venv is a launcher
                                                that runs the real interpreter as its child)
parent gone: re-parented (getppid changed)    parent gone: the handle opened on the parent at start
  or kill(pid, 0) fails                         is signalled (WaitForSingleObject). Never
                                                os.kill(pid, 0): on Windows signal 0 is
                                                CTRL_C_EVENT and any other number TerminateProcess.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
from collections.abc import Callable

# The Windows constants, also where they do not exist (tests fake Windows on Linux).
CREATE_NEW_PROCESS_GROUP = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x00000200)
CREATE_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0x08000000)
CTRL_BREAK_EVENT = getattr(signal, "CTRL_BREAK_EVENT", 1)
SYNCHRONIZE = 0x00100000
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
WAIT_OBJECT_0 = 0
ERROR_INVALID_PARAMETER = 87  # OpenProcess on a pid that does not exist (any more)


def windows() -> bool:
    return os.name == "nt"


@functools.cache
def _kernel32():
    import ctypes  # Windows only, and only when a process is stopped there
    from ctypes import wintypes

    k = ctypes.WinDLL("kernel32", use_last_error=True)
    k.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    k.OpenProcess.restype = wintypes.HANDLE
    k.WaitForSingleObject.argtypes = (wintypes.HANDLE, wintypes.DWORD)
    k.WaitForSingleObject.restype = wintypes.DWORD
    k.CloseHandle.argtypes = (wintypes.HANDLE,)
    k.GetConsoleCP.restype = wintypes.UINT
    return k


def _last_error() -> int:
    import ctypes

    return ctypes.get_last_error()  # type: ignore[attr-defined,unused-ignore]  # Windows only


def _has_console() -> bool:
    """Windows: is this process attached to a console (A1111 started from a terminal or a .bat)?"""
    try:
        return _kernel32().GetConsoleCP() != 0  # 0: no console attached (a hidden one counts)
    except (OSError, AttributeError):
        return True


def popen_options() -> dict:
    """subprocess.Popen keyword arguments for a child that A1111's terminal signals do not reach and
    that can be stopped as a group."""
    if windows():
        flags = CREATE_NEW_PROCESS_GROUP
        if not _has_console():
            flags |= CREATE_NO_WINDOW
        return {"creationflags": flags}
    return {"start_new_session": True}


def request_stop(proc: subprocess.Popen) -> bool:
    """Ask the child to shut down gracefully; False when that could not even be asked."""
    try:
        if windows():
            # Only reaches a child sharing our console (CREATE_NEW_PROCESS_GROUP made it a group).
            os.kill(proc.pid, CTRL_BREAK_EVENT)
        else:
            proc.send_signal(signal.SIGTERM)
        return True
    except OSError:  # gone already, or (Windows) no shared console
        return False


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill the child and everything it started, now."""
    if proc.poll() is not None:
        return
    if windows():
        try:
            subprocess.run(
                ["taskkill", "/PID", str(proc.pid), "/T", "/F"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
                creationflags=CREATE_NO_WINDOW,
            )
        except (OSError, subprocess.TimeoutExpired):
            pass
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # start_new_session: its pid is its group's id
        except (ProcessLookupError, PermissionError):
            pass
    if proc.poll() is None:
        try:
            proc.kill()  # SIGKILL / TerminateProcess of the child itself
        except OSError:
            pass


def stop(proc: subprocess.Popen, *, grace: float = 10.0) -> None:
    """Graceful stop, then after `grace` seconds the whole tree is killed."""
    if proc.poll() is not None:
        return
    if request_stop(proc):
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            pass
    kill_tree(proc)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def exit_signals() -> list[signal.Signals]:
    """The signals by which A1111 is asked to exit, which the supervisor also hooks."""
    sigs = [signal.SIGINT, signal.SIGTERM]
    if windows() and hasattr(signal, "SIGBREAK"):
        sigs.append(signal.SIGBREAK)  # Ctrl+Break in A1111's console
    return sigs


def parent_watch(pid: int) -> Callable[[], bool]:
    """A check `alive() -> bool` that turns False for good once process `pid` (our parent, A1111)
    is gone, whatever ended it (even SIGKILL / TerminateProcess)."""
    if windows():
        return _windows_watch(pid)

    def alive() -> bool:
        if os.getppid() != pid:  # re-parented: our parent died
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    return alive


def _windows_watch(pid: int) -> Callable[[], bool]:
    # A handle opened now keeps telling about THIS process, even if its pid is reused later.
    # getppid() is no use here: A1111's python runs us through a venv's Scripts\python.exe,
    # a launcher that is our real parent, and Windows never re-parents anyway.
    kernel32 = _kernel32()
    handle = kernel32.OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        if _last_error() == ERROR_INVALID_PARAMETER:
            return lambda: False  # already gone
        return lambda: True  # not allowed to watch it: the host's stop and atexit hooks remain
    state = {"alive": True}

    def alive() -> bool:
        # WAIT_OBJECT_0: it exited; WAIT_TIMEOUT: running; WAIT_FAILED: cannot tell, so running.
        if state["alive"] and kernel32.WaitForSingleObject(handle, 0) == WAIT_OBJECT_0:
            state["alive"] = False
            kernel32.CloseHandle(handle)
        return state["alive"]

    return alive
