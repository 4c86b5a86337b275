"""Runs the app (`<venv>/bin/python -m movieminter serve`, on Windows
`<venv>\\Scripts\\python.exe`) as A1111's child process: free port, health check,
restart with backoff when it crashes, stop with A1111. Standard library only.

Stopping with A1111 is layered because A1111 exits in several ways: atexit
(normal exit), our SIGINT/SIGTERM (and on Windows SIGBREAK) wrappers (A1111's
own SIGINT handler calls os._exit, which skips atexit), and, for SIGKILL of
A1111 (TerminateProcess on Windows), the child's `--parent-pid` watchdog, which
exits when its parent is gone. What differs on Windows is in processes.py.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from movieminter.host import processes

log = logging.getLogger("movieminter.host")

SECRET_ENV = "MOVIEMINTER_PROXY_SECRET"  # same name as movieminter.app.security.SECRET_ENV
SECRET_HEADER = "X-MovieMinter-Proxy-Secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """The app child process. `url` and `secret` are what the proxy needs."""

    def __init__(
        self,
        python: str | Path,
        *,
        a1111_url: str = "",
        env: dict | None = None,
        extra_args: list[str] | None = None,
        log_path: str | Path | None = None,
        health_timeout: float = 120.0,
        max_backoff: float = 30.0,
    ):
        self.python = str(python)
        self.a1111_url = a1111_url
        self.env = dict(env or {})
        self.extra_args = list(extra_args or [])
        self.log_path = Path(log_path) if log_path else None
        self.health_timeout = health_timeout
        self.max_backoff = max_backoff
        self.secret = secrets.token_urlsafe(32)
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.last_error = ""
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._monitor: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        """Start the child and a monitor thread that keeps it running."""
        with self._lock:
            self._stopping.clear()
            self._spawn()
        if self._monitor is None or not self._monitor.is_alive():
            self._monitor = threading.Thread(target=self._watch, name="movieminter-app-monitor", daemon=True)
            self._monitor.start()

    def restart(self, env: dict | None = None) -> None:
        """Apply new settings: stop the child and start it again."""
        with self._lock:
            if env is not None:
                self.env = dict(env)
            self._terminate()
            if not self._stopping.is_set():
                self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._terminate()

    def _command(self) -> list[str]:
        cmd = [
            self.python,
            "-m",
            "movieminter",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--parent-pid",
            str(os.getpid()),
        ]
        if self.a1111_url:
            cmd += ["--a1111-url", self.a1111_url]
        return cmd + self.extra_args

    def _spawn(self) -> None:
        self._ready.clear()
        self.port = free_port()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("MOVIEMINTER_")
            and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__")
        }
        env.update(self.env)
        env[SECRET_ENV] = self.secret
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            # Its own session (POSIX) / process group (Windows): A1111's terminal Ctrl+C does not
            # reach it, and stopping it reaches everything it started.
            self.proc = subprocess.Popen(
                self._command(),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                **processes.popen_options(),
            )
        finally:
            if not isinstance(out, int):  # a log file, not subprocess.DEVNULL
                out.close()
        log.info("Movie Minter app starting (pid %s, port %s)", self.proc.pid, self.port)
        threading.Thread(target=self._await_health, args=(self.proc,), daemon=True).start()

    def _await_health(self, proc: subprocess.Popen) -> None:
        deadline = time.time() + self.health_timeout
        while time.time() < deadline and proc.poll() is None and not self._stopping.is_set():
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200 and proc is self.proc:
                        self._ready.set()
                        log.info("Movie Minter app ready at %s", self.url)
                        return
            except OSError:
                time.sleep(0.2)
        if proc.poll() is None and not self._stopping.is_set() and proc is self.proc:
            self.last_error = f"the app did not answer /healthz within {self.health_timeout:.0f} s"
            log.error("Movie Minter: %s; restarting it", self.last_error)
            processes.kill_tree(proc)

    def _terminate(self) -> None:
        proc, self.proc = self.proc, None
        self._ready.clear()
        if proc is None or proc.poll() is not None:
            return
        processes.stop(proc, grace=10)  # SIGTERM / CTRL_BREAK, then the whole tree is killed

    def _watch(self) -> None:
        """Restart the child when it dies, waiting 1, 2, 4 ... max_backoff s
        between attempts (reset after it stayed up for a minute)."""
        backoff = 1.0
        while not self._stopping.is_set():
            proc = self.proc
            if proc is None:
                time.sleep(0.2)
                continue
            started = time.time()
            code = proc.wait()
            if self._stopping.is_set() or proc is not self.proc:
                continue  # stopped or restarted on purpose
            self.restarts += 1
            self.last_error = f"the app exited with code {code}"
            if time.time() - started > 60:
                backoff = 1.0
            log.error("Movie Minter: %s; restarting in %.0f s", self.last_error, backoff)
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, self.max_backoff)
            with self._lock:
                if not self._stopping.is_set() and proc is self.proc:
                    try:
                        self._spawn()
                    except OSError as exc:  # e.g. the venv was removed: keep trying, say why
                        self.last_error = f"cannot start the app: {exc}"
                        log.error("Movie Minter: %s", self.last_error)
                        self.proc = proc  # still the dead one: the next loop waits and retries

    def install_exit_hooks(self) -> None:
        """Stop the child when A1111 exits (atexit + SIGINT/SIGTERM wrappers, SIGBREAK on Windows)."""
        atexit.register(self.stop)
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in processes.exit_signals():
            previous = signal.getsignal(sig)

            def handler(signum, frame, previous=previous):
                self.stop()
                if callable(previous):
                    previous(signum, frame)
                elif previous == signal.SIG_DFL:
                    signal.signal(signum, signal.SIG_DFL)
                    # POSIX: die of the signal as before. Windows: os.kill ends the process with
                    # TerminateProcess (exit code = signum), what the default handler does too.
                    os.kill(os.getpid(), signum)

            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):  # not allowed here: atexit + the child's watchdog remain
                pass
