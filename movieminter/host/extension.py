"""A1111 callbacks of the extension (registered by scripts/movieminter_tab.py).

on_ui_settings: the "Movie Minter" settings section.
on_ui_tabs:     the "Movie Minter" tab (an iframe onto /movieminter/).
on_app_started: start the app child process and mount the /movieminter/ proxy.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from pathlib import Path

from movieminter.host import installer
from movieminter.host.proxy import HostAuth, mount_proxy, parse_credentials
from movieminter.host.settings import add_settings, app_env
from movieminter.host.supervisor import AppProcess
from movieminter.host.tab import build_tab

log = logging.getLogger("movieminter.host")

_state: dict = {"app": None, "restart_timer": None, "own_url": "", "host_urls": ""}
HOST_URLS_ENV = "MOVIEMINTER_HOST_URLS"  # Settings.host_urls of the app


def _shared():
    """A1111's modules.shared (None outside A1111)."""
    try:
        from modules import shared

        return shared
    except ImportError:
        return None


def register() -> None:
    from modules import script_callbacks  # A1111's own module: exists only inside A1111

    script_callbacks.on_ui_settings(on_ui_settings)
    script_callbacks.on_ui_tabs(on_ui_tabs)
    script_callbacks.on_app_started(on_app_started)


def on_ui_tabs():
    return [(build_tab(), "Movie Minter", "movieminter")]


def on_ui_settings():
    shared = _shared()
    if shared is not None:
        add_settings(shared, on_change=_settings_changed)


def _settings_changed():
    """Restart the app with the new settings (once, even if several changed)."""
    timer = _state.get("restart_timer")
    if timer is not None:
        timer.cancel()
    timer = threading.Timer(0.5, _restart_app)
    timer.daemon = True
    _state["restart_timer"] = timer
    timer.start()


def _restart_app():
    app = _state.get("app")
    if app is not None:
        log.info("Movie Minter settings changed: restarting the app")
        env = child_env(_shared(), _state["host_urls"])
        app.a1111_url = env.pop("MOVIEMINTER_A1111_URL", "") or _state["own_url"]
        app.restart(env=env)


def child_env(shared, host_urls: str = "") -> dict[str, str]:
    env = app_env(getattr(shared, "opts", None))
    cmd_opts = getattr(shared, "cmd_opts", None)
    creds = parse_credentials(getattr(cmd_opts, "api_auth", None))
    if creds:  # the app calls A1111's /sdapi, which --api-auth protects
        env["MOVIEMINTER_A1111_AUTH"] = f"{creds[0][0]}:{creds[0][1]}"
    if host_urls:
        env[HOST_URLS_ENV] = host_urls
    return env


def _url_host(name: str) -> str:
    return f"[{name}]" if ":" in name else name


def served_urls(demo, cmd_opts) -> list[str]:
    """The addresses browsers reach this A1111 at, besides loopback names and the IP address a
    connection arrives at (the proxy reports that one with each request): `--server-name`, the
    machine's names with `--listen`, and the `--share` link. The app accepts requests and sign-in
    messages for these only (docs/security.md); the user adds others in the settings section.

    The share link exists once gradio's launch() returned: A1111 1.10 (gradio 3.41) and Forge
    (gradio 4.40) call app_started after it, with the launched Blocks, whose `share_url` is set."""
    scheme = "https" if getattr(cmd_opts, "tls_keyfile", None) else "http"
    port = getattr(demo, "server_port", None) or getattr(cmd_opts, "port", None) or (7860 if demo is not None else 7861)
    wildcard = ("0.0.0.0", "::", "")
    name = getattr(cmd_opts, "server_name", None) or getattr(demo, "server_name", None) or ""
    urls = []
    if name not in wildcard and name not in ("127.0.0.1", "localhost", "::1"):
        urls.append(f"{scheme}://{_url_host(name)}:{port}")
    if getattr(cmd_opts, "listen", False) or name in ("0.0.0.0", "::"):
        for machine in (socket.gethostname(), socket.getfqdn()):
            if machine and machine != "localhost":
                urls.append(f"{scheme}://{_url_host(machine)}:{port}")
    share = getattr(demo, "share_url", None)
    if share:  # gradio 3.41 / 4.40: "https://<random>.gradio.live"
        urls.append(str(share).rstrip("/"))
    return list(dict.fromkeys(urls))


def own_url(demo, cmd_opts) -> str:
    """How the app reaches this A1111 (always over loopback)."""
    port = getattr(demo, "server_port", None) or getattr(cmd_opts, "port", None) or (7860 if demo is not None else 7861)
    scheme = "https" if getattr(cmd_opts, "tls_keyfile", None) else "http"
    subpath = (getattr(cmd_opts, "subpath", None) or "").rstrip("/")
    if subpath and not subpath.startswith("/"):
        subpath = "/" + subpath
    return f"{scheme}://127.0.0.1:{port}{subpath}"


def on_app_started(demo, app):
    shared = _shared()
    cmd_opts = getattr(shared, "cmd_opts", None)
    host_urls = ",".join(served_urls(demo, cmd_opts))
    changed = host_urls != _state["host_urls"]
    _state["host_urls"] = host_urls
    if changed and _state["app"] is not None and _state["app"].proc is not None:
        # A1111's "Reload UI" launched a new gradio app, with a new --share link: the running app
        # must accept the new address (and no longer the old one).
        _restart_app()
    if _state["app"] is None:  # A1111's "Reload UI" calls this again: keep the running app
        env = child_env(shared, host_urls)
        data_dir = Path(env.get("MOVIEMINTER_DATA_DIR") or Path.home() / ".movieminter").expanduser()
        data_dir.mkdir(parents=True, exist_ok=True)
        python = installer.venv_python(installer.venv_dir())
        _state["own_url"] = own_url(demo, cmd_opts)
        a1111_url = env.pop("MOVIEMINTER_A1111_URL", "") or _state["own_url"]
        proc = AppProcess(python, a1111_url=a1111_url, env=env, log_path=data_dir / "app.log")
        if python.exists():
            proc.install_exit_hooks()
            proc.start()
            print(f"[Movie Minter] starting the app (log: {data_dir / 'app.log'})", file=sys.stderr)
        else:
            proc.last_error = (
                f"its venv {python.parent.parent} is missing: restart A1111 without "
                "--skip-install so install.py can build it"
            )
            print(f"[Movie Minter] {proc.last_error}", file=sys.stderr)
        _state["app"] = proc
    auth = HostAuth(
        app, gradio_auth=bool(getattr(cmd_opts, "gradio_auth", None)), api_auth=getattr(cmd_opts, "api_auth", None)
    )
    mount_proxy(app, lambda: _state["app"], auth)


def stop() -> None:
    app = _state.get("app")
    if app is not None:
        app.stop()
