"""`movieminter serve`: the app server (standalone, or as A1111's child process)."""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time

from movieminter.app.security import SECRET_ENV
from movieminter.config import Settings
from movieminter.errors import MovieMinterError
from movieminter.host.processes import parent_watch

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the Movie Minter app (UI, REST API, job runner)",
        description="Run the app server on 127.0.0.1. Settings also come from MOVIEMINTER_* environment variables.",
    )
    p.add_argument("--a1111-url", help="A1111 WebUI URL (started with --api --deforum-api)")
    p.add_argument(
        "--a1111-auth",
        metavar="USER:PASS",
        help="A1111 --api-auth credentials (prefer env MOVIEMINTER_A1111_AUTH: argv is visible to other users)",
    )
    p.add_argument("--port", type=int, default=7870)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--unsafe-listen",
        action="store_true",
        help="allow --host other than loopback (the app has no login of its own)",
    )
    p.add_argument("--data-dir", help="where the journal, renders and the local IPFS store live")
    p.add_argument(
        "--parent-pid", type=int, help="exit when this process dies (the A1111 host glue passes its own pid)"
    )
    p.add_argument("--no-ui", action="store_true", help="REST API and job runner only (no gradio)")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=serve)


def check_host(host: str, unsafe: bool) -> None:
    if host in LOOPBACK or unsafe:
        return
    raise MovieMinterError(
        f"refusing to listen on {host}: the app has no login of its own, so anyone who can reach it "
        "could queue renders on your GPU and act for your connected wallet's session",
        hint="keep the default 127.0.0.1 and reach it through A1111's tab (A1111's --listen/--share "
        "and --gradio-auth then protect it), or use an SSH tunnel; pass --unsafe-listen only on a "
        "network you fully trust",
    )


def watch_parent(pid: int, server, interval: float = 1.0) -> None:
    """Stop the server when the parent (A1111) is gone, even if it was
    SIGKILLed (TerminateProcess on Windows) and could not stop us itself.
    How that is seen on POSIX and on Windows: movieminter/host/processes.py."""
    alive = parent_watch(pid)

    def loop():
        while alive():
            time.sleep(interval)
        logging.getLogger("movieminter.serve").warning("parent process %s is gone; stopping", pid)
        server.should_exit = True
        time.sleep(10)
        os._exit(0)  # the server did not stop in time

    threading.Thread(target=loop, name="movieminter-parent-watch", daemon=True).start()


def serve(args: argparse.Namespace) -> int:
    # Local: the `movieminter` command imports every subcommand's module at start, and only
    # `serve` needs the web stack (FastAPI, gradio).
    import uvicorn

    from movieminter.app.server import create_app

    check_host(args.host, args.unsafe_listen)
    settings = Settings.from_env(a1111_url=args.a1111_url, a1111_auth=args.a1111_auth, data_dir=args.data_dir)
    secret = os.environ.pop(SECRET_ENV, None)  # not inherited by anything we start
    app = create_app(settings, proxy_secret=secret, ui=not args.no_ui)
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=False, timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    if args.parent_pid:
        watch_parent(args.parent_pid, server)
    server.run()
    return 0
