"""Serve an ASGI app with uvicorn in a background thread on a free loopback
port. Every double (A1111, Civitai, Kubo, pinning services), the demo and the
tests run their servers through this one helper."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable


class ServerThread:
    """`ServerThread(app).start()`; `.url`; `.stop()`. A stopped server can be
    started again on the same port (a restarted service keeps its address)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.host = host
        self.port = port
        self.server = None
        self.thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30) -> ServerThread:
        import uvicorn

        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))  # port 0 the first time
        self.port = sock.getsockname()[1]
        self._sock = sock
        # The app's lifespan runs (the Movie Minter app starts its job runner there).
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, ws="none", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{self.port}"
        )
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:  # set once the lifespan start-up finished
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Idempotent, and safe from any thread (a double may stop itself)."""
        server, self.server = self.server, None
        if server is None:
            return
        server.should_exit = True
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=10)
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """(base_url, stop) for an app served in a background thread."""
    server = ServerThread(app, host, port).start()
    return server.url, server.stop


class ThreadedDouble:
    """Lifecycle shared by the doubles that own a FastAPI app in `self.app`:
    `.start()`, `.stop()`, `.url`, and use as a context manager."""

    app = None

    @property
    def _server(self) -> ServerThread:
        if "_server_thread" not in self.__dict__:
            self._server_thread = ServerThread(self.app)
        return self._server_thread

    @property
    def url(self) -> str:
        return self._server.url

    def start(self):
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
