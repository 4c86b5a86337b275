"""A1111 callbacks of the extension (registered by scripts/movieminter_tab.py).

on_ui_settings: the "Movie Minter" settings section.
on_ui_tabs:     the "Movie Minter" tab (an iframe onto /movieminter/).
on_app_started: start the app child process and mount the /movieminter/ proxy.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from movieminter.host import installer
from movieminter.host.proxy import HostAuth, mount_proxy, parse_credentials
from movieminter.host.settings import add_settings, app_env
from movieminter.host.supervisor import AppProcess
from movieminter.host.tab import build_tab

log = logging.getLogger("movieminter.host")

_state: dict = {"app": None, "restart_timer": None, "own_url": ""}


def _shared():
    """A1111's modules.shared (None outside A1111)."""
    try:
        from modules import shared
        return shared
    except ImportError:
        return None


def register() -> None:
    from modules import script_callbacks
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
        env = child_env(_shared())
        app.a1111_url = env.pop("MOVIEMINTER_A1111_URL", "") or _state["own_url"]
        app.restart(env=env)


def child_env(shared) -> dict[str, str]:
    env = app_env(getattr(shared, "opts", None))
    cmd_opts = getattr(shared, "cmd_opts", None)
    creds = parse_credentials(getattr(cmd_opts, "api_auth", None))
    if creds:  # the app calls A1111's /sdapi, which --api-auth protects
        env["MOVIEMINTER_A1111_AUTH"] = "%s:%s" % creds[0]
    return env


def own_url(demo, cmd_opts) -> str:
    """How the app reaches this A1111 (always over loopback)."""
    port = getattr(demo, "server_port", None) or getattr(cmd_opts, "port", None) or 7860
    scheme = "https" if getattr(cmd_opts, "tls_keyfile", None) else "http"
    subpath = (getattr(cmd_opts, "subpath", None) or "").rstrip("/")
    if subpath and not subpath.startswith("/"):
        subpath = "/" + subpath
    return f"{scheme}://127.0.0.1:{port}{subpath}"


def on_app_started(demo, app):
    shared = _shared()
    cmd_opts = getattr(shared, "cmd_opts", None)
    if _state["app"] is None:  # A1111's "Reload UI" calls this again: keep the running app
        env = child_env(shared)
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
            proc.last_error = (f"its venv {python.parent.parent} is missing: restart A1111 without "
                               "--skip-install so install.py can build it")
            print(f"[Movie Minter] {proc.last_error}", file=sys.stderr)
        _state["app"] = proc
    auth = HostAuth(app, gradio_auth=bool(getattr(cmd_opts, "gradio_auth", None)),
                    api_auth=getattr(cmd_opts, "api_auth", None))
    mount_proxy(app, lambda: _state["app"], auth)


def stop() -> None:
    app = _state.get("app")
    if app is not None:
        app.stop()
