"""The app's FastAPI server: REST API under /api/v1, gradio UIs, the job runner.

Every module in ROUTER_MODULES (a module-level `router`) and UI_MODULES
(`build(ctx) -> gradio.Blocks`) is mounted; a missing or misnamed one is a bug
and raises. Routes reach the AppContext through `app.state.ctx`
(movieminter.app.deps). A MovieMinterError raised anywhere is answered by one
handler here, with the status its class carries.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount

from movieminter import __version__
from movieminter.app.context import AppContext
from movieminter.app.security import SECRET_ENV, SecurityMiddleware
from movieminter.config import Settings
from movieminter.errors import MovieMinterError

ROUTER_MODULES = [
    "movieminter.app.routes_jobs",
    "movieminter.app.routes_movies",
    "movieminter.app.routes_wallet",
    "movieminter.app.routes_director",
    "movieminter.app.routes_viewer",
    "movieminter.app.routes_ux",
    "movieminter.app.routes_tab",
    "movieminter.app.routes_community",
    "movieminter.app.routes_takes",
]
# Mount path -> module with build(ctx) -> gradio.Blocks. "/" is mounted last
# (it would otherwise swallow the others).
UI_MODULES = {
    "/": "movieminter.app.ui.minter",
    "/studio": "movieminter.app.ui.studio",
    "/watch": "movieminter.app.ui.watch",
    "/jobs": "movieminter.app.ui.jobs",
}
STATIC_DIR = Path(__file__).parent / "static"
# gradio's pages load static/js/iframeResizer.contentWindow.min.js and static/fonts/... from their
# mount. For the UI at "/" that is this app's /static, so gradio's own files are served there too.
GRADIO_STATIC = ("gradio", "templates/frontend/static")


class RelativeManifestLink:
    """Wraps each gradio UI mount. gradio's page template links its web app manifest root-relative
    (`href="/manifest.json"`): under A1111's /movieminter/ proxy that is A1111's own /manifest.json,
    a 404. Made relative, the page's <base href="./"> resolves it to its own mount's manifest.json."""

    OLD, NEW = b'<link rel="manifest" href="/manifest.json"', b'<link rel="manifest" href="manifest.json"'

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":
            return await self.app(scope, receive, send)
        held: dict = {}  # the start of an HTML response, sent once its whole body is rewritten
        chunks: list[bytes] = []

        async def rewrite(message):
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                    held["start"] = message
                    return
            elif message["type"] == "http.response.body" and held:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks).replace(self.OLD, self.NEW)
                start = held["start"]
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
                message = {"type": "http.response.body", "body": body}
            await send(message)

        return await self.app(scope, receive, rewrite)


def create_app(
    settings: Settings | AppContext, *, proxy_secret: str | None = None, ui: bool = True, run_jobs: bool = True
) -> FastAPI:
    """The whole app. `proxy_secret` (default: env MOVIEMINTER_PROXY_SECRET)
    makes it answer only requests from the A1111 host's reverse proxy;
    `ui=False` skips gradio (API only, quick start); `run_jobs=False` does not
    resume journaled jobs at start-up."""
    ctx = settings if isinstance(settings, AppContext) else AppContext(settings)
    if proxy_secret is None:
        proxy_secret = os.environ.get(SECRET_ENV) or None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        _ = ctx.journal  # opened (integrity-checked, repaired if damaged) before the first request
        if run_jobs:
            ctx.runner.start()
        try:
            yield
        finally:
            if "runner" in ctx.__dict__:
                ctx.runner.stop()

    app = FastAPI(
        title="Movie Minter",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
        description="Render & mint crowd-made movies. State-changing requests need the "
        "`X-CSRF-Token` header equal to the `mm_csrf` cookie (see docs/architecture.md).",
    )
    app.state.ctx = ctx
    app.add_middleware(SecurityMiddleware, proxy_secret=proxy_secret, served=ctx.served_hosts)

    @app.exception_handler(MovieMinterError)
    async def user_error(request: Request, exc: MovieMinterError):
        """The API's error shape {"detail": {"error", "message", "hint"}}, with the status the error's class
        carries (`status`; 400 when it names none: the request asked for something it cannot have)."""
        return JSONResponse({"detail": exc.to_dict()}, status_code=getattr(exc, "status", 400))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        """FastAPI's 422, without echoing the input (a NaN in it cannot be written as JSON)."""
        problems = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "the request"
        return JSONResponse(
            {
                "detail": {
                    "error": "InvalidRequest",
                    "message": f"{where}: {first['msg']}",
                    "hint": "check the request against the API docs (/api/v1/docs)",
                    "problems": problems,
                }
            },
            status_code=422,
        )

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError):  # json.loads on absurdly nested bodies
        return JSONResponse(
            {
                "detail": {
                    "error": "InvalidRequest",
                    "message": "the request body is nested too deeply",
                    "hint": "send plain JSON objects; a manifest is a shallow settings file",
                }
            },
            status_code=400,
        )

    @app.get("/healthz", tags=["meta"])
    def healthz():
        return {"ok": True, "app": "movieminter", "version": __version__, "pid": os.getpid()}

    mounted: dict[str, list[str]] = {"routers": [], "uis": []}
    app.state.mounted = mounted
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router, prefix="/api/v1")
        mounted["routers"].append(name)

    @app.get("/api/v1/journal", tags=["meta"])
    def journal_status():
        """The job journal's health: `ok`, and what a damaged journal lost when it was repaired
        (`message`, `recoveries[]` with `lost_jobs`), for the tab to show."""
        return ctx.journal.status()

    @app.get("/api/v1/settings", tags=["meta"])
    def public_settings():
        """The app's settings as the browser may see them: secrets only as set / not set."""
        return ctx.settings.public()

    if ctx.settings.ipfs_backend == "local":
        # The embedded store is also this app's gateway: video seeks (Range),
        # HLS segments and verified reads (?format=car) all come from /ipfs/.
        from movieminter.ipfs.gateway import gateway_router

        app.include_router(gateway_router(ctx.store), include_in_schema=False)  # not part of the REST API

    if STATIC_DIR.is_dir():  # ours first, then gradio's (no name is in both)
        app.mount("/static", StaticFiles(directory=STATIC_DIR, packages=[GRADIO_STATIC] if ui else None), name="static")

    if ui:
        import gradio as gr

        for path in sorted(UI_MODULES, key=lambda p: (p == "/", p)):
            blocks = importlib.import_module(UI_MODULES[path]).build(ctx)
            # No gradio footer: inside A1111 it would be a second one, and our pages have no gradio API.
            gr.mount_gradio_app(app, blocks, path="" if path == "/" else path, footer_links=[])
            mount = app.router.routes[-1]  # the Mount just added; wrapped as Mount(middleware=...) would
            assert isinstance(mount, Mount)
            mount.app = RelativeManifestLink(mount.app)
            mounted["uis"].append(path)
    if "/" not in mounted["uis"]:

        @app.get("/", include_in_schema=False)
        def index():
            # Relative, so it works at / and under A1111's /movieminter/ proxy.
            return RedirectResponse("jobs/" if "/jobs" in mounted["uis"] else "api/v1/docs")

    return app
