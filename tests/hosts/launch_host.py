"""Starts a stand-in A1111 the way webui.py does, in a host venv (gradio 3.41
or 4.40), with the extension at --ext:

  python tests/hosts/launch_host.py --ext DIR --port P [--auth user:pass]

PYTHONPATH must hold tests/hosts/stubs (A1111's `modules` and `launch`).
COMMANDLINE_ARGS is parsed like A1111 does (--gradio-auth, --api-auth, --share ...).
With --share, gradio's own launch(share=True) runs; only the tunnel itself is
stood in for (no network here): MM_STUB_SHARE_URL is the address gradio's
networking.setup_tunnel returns, as gradio.live would. A browser reaching the
share link arrives at A1111's port with that name in Host, which a test sends.
Prints "READY <url>" when the tab and the /movieminter/ proxy are up.
"""

import argparse
import importlib.util
import os
import signal
import sys
import threading
from pathlib import Path

import gradio as gr
from modules import script_callbacks, shared
from starlette.middleware.gzip import GZipMiddleware


def load_extension_scripts(ext: Path) -> None:
    """modules/scripts.py: each scripts/*.py is loaded with the extension's
    root prepended to sys.path while it loads."""
    for path in sorted((ext / "scripts").glob("*.py")):
        saved = list(sys.path)
        try:
            sys.path = [str(ext)] + sys.path
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        finally:
            sys.path = saved


def inject_assets(ext: Path) -> None:
    """modules/ui_gradio_extensions.reload_javascript: extension javascript/
    and style.css go into every index page gradio renders."""
    import gradio.routes

    head = "<script>window.onUiLoadedCallbacks=[];function onUiLoaded(f){onUiLoadedCallbacks.push(f)}</script>"
    for js in sorted((ext / "javascript").glob("*.js")):
        head += f"<script>{js.read_text()}</script>"
    css = f"<style>{(ext / 'style.css').read_text()}</style>" if (ext / "style.css").exists() else ""
    original = gradio.routes.templates.TemplateResponse

    def template_response(*args, **kwargs):
        res = original(*args, **kwargs)
        res.body = res.body.replace(b"</head>", f"{head}</head>".encode())
        res.body = res.body.replace(b"</body>", f"{css}</body>".encode())
        res.init_headers()
        return res

    gradio.routes.templates.TemplateResponse = template_response


def stand_in_for_the_share_tunnel() -> None:
    """gradio 3.41 and 4.40 call networking.setup_tunnel(...) inside launch(share=True) and keep
    what it returns as Blocks.share_url (4.40 then sets the scheme to share_server_protocol)."""
    url = os.environ.get("MM_STUB_SHARE_URL")
    if url:
        import gradio.networking

        gradio.networking.setup_tunnel = lambda *args, **kwargs: url


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ext", required=True, type=Path)
    ap.add_argument("--port", required=True, type=int)
    args = ap.parse_args()

    load_extension_scripts(args.ext)
    inject_assets(args.ext)
    script_callbacks.ui_settings_callback()
    tabs = script_callbacks.ui_tabs_callback()
    with gr.Blocks(title="Stable Diffusion", analytics_enabled=False) as demo:
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("txt2img", id="txt2img"):
                gr.Markdown("stand-in for A1111's txt2img tab")
            for interface, label, ifid in tabs:
                with gr.Tab(label, id=ifid, elem_id=f"tab_{ifid}"):
                    interface.render()
    demo.queue(64)
    auth = None
    if shared.cmd_opts.gradio_auth:
        auth = [tuple(c.split(":", 1)) for c in shared.cmd_opts.gradio_auth.split(",")]
    stand_in_for_the_share_tunnel()
    # webui.py: server_name from --server-name / --listen (here loopback unless --server-name).
    app, local_url, _ = demo.launch(
        server_name=shared.cmd_opts.server_name or "127.0.0.1",
        server_port=args.port,
        auth=auth,
        share=shared.cmd_opts.share,
        prevent_thread_lock=True,
        show_error=True,
        quiet=True,
    )
    # webui.py: A1111's SIGINT handler exits at once (os._exit skips atexit).
    signal.signal(signal.SIGINT, lambda *a: os._exit(0))
    # webui.py setup_middleware: GZip on everything, stack rebuilt on the fly.
    app.middleware_stack = None
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.build_middleware_stack()
    if shared.cmd_opts.api:
        # modules/api/api.py set_config: POST /sdapi/v1/options -> opts.set(k, v, is_api=True)
        from fastapi import Body

        def set_config(req: dict = Body(...)):
            for k, v in req.items():
                shared.opts.set(k, v, is_api=True)

        app.add_api_route("/sdapi/v1/options", set_config, methods=["POST"])
    script_callbacks.app_started_callback(demo, app)
    print(f"READY http://127.0.0.1:{args.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
