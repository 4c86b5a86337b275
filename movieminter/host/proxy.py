"""Reverse proxy from A1111's server (`/movieminter/...`) to the app child
process. Works with what A1111 1.10 and Forge ship (starlette 0.26/0.27,
httpx 0.24+), so everything is plain Starlette + httpx:

- bodies stream both ways untouched (`aiter_raw`: no decoding, no rewriting),
  so SSE and chunked responses flow as they are produced, `Range` requests
  reach the app and its `206 Partial Content` comes back;
- A1111's login applies: with `--gradio-auth` the gradio login cookie is
  required, with `--api-auth` HTTP Basic with those credentials is accepted;
- every forwarded request carries the app's secret header (the app refuses
  anything without it), X-Forwarded-Host/-Proto/-Prefix and the local
  address of A1111's socket the browser reached (X-MovieMinter-Host-Server),
  from which the app checks that the browser's Host is an address A1111 is
  served under (DNS rebinding; docs/security.md).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import http.cookiejar
import logging

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from movieminter.host.supervisor import SECRET_HEADER

log = logging.getLogger("movieminter.host")

PREFIX = "/movieminter"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
}
OWN_RESPONSE_HEADERS = {"date", "server"}  # A1111's server sets its own
SERVER_HEADER = "X-MovieMinter-Host-Server"  # same name as movieminter.app.security.SERVER_HEADER


def parse_credentials(value: str | None) -> list[tuple[str, str]]:
    """A1111's `--api-auth` / `--gradio-auth` format: "user:pass,user2:pass2"."""
    out = []
    for item in (value or "").split(","):
        item = item.strip()
        if ":" in item:
            user, password = item.split(":", 1)
            out.append((user, password))
    return out


class HostAuth:
    """Who may use the proxied app: whoever may use A1111 itself."""

    def __init__(self, host_app, *, gradio_auth: bool = False, api_auth: str | None = None):
        self.host_app = host_app
        self.gradio_auth = gradio_auth or bool(getattr(host_app, "auth", None))
        self.api_auth = parse_credentials(api_auth)

    @property
    def required(self) -> bool:
        return self.gradio_auth or bool(self.api_auth)

    def gradio_user(self, request: Request) -> str | None:
        """The user of a valid gradio login cookie (gradio 3: access-token;
        gradio 4: access-token-<cookie_id>), looked up in gradio's own table."""
        tokens = getattr(self.host_app, "tokens", None) or {}
        cookie_id = getattr(self.host_app, "cookie_id", None)
        names = [f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"] if cookie_id else []
        names += ["access-token", "access-token-unsecure"]
        for name in names:
            token = request.cookies.get(name)
            if token and token in tokens:
                return tokens[token]
        return None

    def basic_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic ") or not self.api_auth:
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return any(
            hmac.compare_digest(user.encode(), u.encode()) and hmac.compare_digest(password.encode(), p.encode())
            for u, p in self.api_auth
        )

    def allows(self, request: Request) -> bool:
        if not self.required:
            return True
        if self.gradio_auth and self.gradio_user(request):
            return True
        return self.basic_ok(request)


class AppProxy:
    """The Starlette endpoint for /movieminter/{path}. `target()` returns the
    app process (an object with .url, .secret, .ready, .last_error)."""

    def __init__(self, target, auth: HostAuth):
        self.target = target
        self.auth = auth
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            # No read timeout: SSE streams stay open; connecting must be quick.
            # A cookie jar that keeps nothing: this one client serves every
            # browser, so it must never replay one user's cookies for another.
            jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(None, connect=10.0), follow_redirects=False, cookies=jar
            )
        return self._client

    async def __call__(self, request: Request) -> Response:
        if not self.auth.allows(request):
            if self.auth.api_auth and not self.auth.gradio_auth:
                return Response(
                    "Movie Minter: log in with A1111's --api-auth credentials.",
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="A1111 WebUI"'},
                )
            return HTMLResponse(
                "<p>Movie Minter: please log in to the WebUI first, then reopen the tab.</p>", status_code=401
            )
        app = self.target()
        if app is None or not app.ready:
            why = getattr(app, "last_error", "") if app is not None else "it is not started"
            return HTMLResponse(
                "<!doctype html><meta http-equiv='refresh' content='2'><p>Movie Minter is starting"
                + (f" ({why})" if why else "")
                + "…</p>",
                status_code=503,
                headers={"Retry-After": "2"},
            )

        path = request.path_params.get("path", "")
        url = f"{app.url}/{path}"
        if request.url.query:
            url += "?" + request.url.query
        root = request.scope.get("root_path", "").rstrip("/")
        # Nothing a browser sends may pose as ours: its X-Forwarded-* and X-MovieMinter-* are dropped.
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP and not k.lower().startswith(("x-forwarded-", "x-movieminter-"))
        ]
        headers += [
            (SECRET_HEADER, app.secret),
            ("X-Forwarded-Host", request.headers.get("host", "")),
            ("X-Forwarded-Proto", request.url.scheme),
            ("X-Forwarded-Prefix", root + PREFIX),
        ]
        server = request.scope.get("server")
        if server and server[0] and server[1]:  # the local ip:port of A1111's socket this request reached
            host = f"[{server[0]}]" if ":" in str(server[0]) else str(server[0])
            headers.append((SERVER_HEADER, f"{host}:{server[1]}"))
        if request.client:
            headers.append(("X-Forwarded-For", request.client.host))
        has_body = request.method not in ("GET", "HEAD", "OPTIONS") or "content-length" in request.headers
        upstream_req = self.client().build_request(
            request.method, url, headers=headers, content=request.stream() if has_body else None
        )
        try:
            upstream = await self.client().send(upstream_req, stream=True)
        except httpx.HTTPError as exc:
            log.warning("Movie Minter proxy: %s %s failed: %s", request.method, path, exc)
            return HTMLResponse(
                f"<p>Movie Minter is not answering ({type(exc).__name__}); it restarts "
                "automatically, retry in a few seconds.</p>",
                status_code=502,
            )

        raw = []
        for k, v in upstream.headers.raw:
            name = k.decode("latin-1").lower()
            if name in HOP_BY_HOP or name in OWN_RESPONSE_HEADERS:
                continue
            if name == "location":
                v = _rewrite_location(v.decode("latin-1"), app.url, root + PREFIX).encode("latin-1")
            raw.append((name.encode("latin-1"), v))
        if (
            upstream.headers.get("content-type", "").startswith("text/event-stream")
            and "content-encoding" not in upstream.headers
        ):
            # A1111 adds GZipMiddleware, which (starlette < 0.40) would buffer
            # an event stream inside its compressor; a set encoding opts out.
            raw.append((b"content-encoding", b"identity"))
            raw.append((b"cache-control", b"no-cache"))
        response = StreamingResponse(
            upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
        )
        response.raw_headers = raw
        return response


def _rewrite_location(location: str, upstream: str, prefix: str) -> str:
    """Redirects that name the app's private address point back through us."""
    if location.startswith(upstream):
        return prefix + location[len(upstream) :]
    return location


def mount_proxy(host_app, target, auth: HostAuth) -> AppProxy:
    """Add /movieminter and /movieminter/{path} to A1111's app, ahead of its
    other routes (gradio's catch-alls must not shadow them)."""
    proxy = AppProxy(target, auth)

    async def bare(request: Request):
        root = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(root + PREFIX + "/" + (("?" + request.url.query) if request.url.query else ""))

    async def forward(request: Request):  # a function: Starlette treats objects as raw ASGI apps
        return await proxy(request)

    routes = [
        Route(PREFIX + "/{path:path}", forward, methods=METHODS, name="movieminter_proxy"),
        Route(PREFIX, bare, methods=["GET", "HEAD"], name="movieminter_proxy_root"),
    ]
    host_app.router.routes[0:0] = routes
    return proxy
