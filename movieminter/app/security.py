"""Request checks every route and UI of the app goes through (ASGI middleware).

1. Parent-to-child secret. When the A1111 host glue starts the app, it hands
   it a random secret (env MOVIEMINTER_PROXY_SECRET) and its reverse proxy adds
   it to every request as `X-MovieMinter-Proxy-Secret`. The app then refuses
   any request without it, so its 127.0.0.1 port cannot be used to get around
   A1111's own login (`--gradio-auth`, `--api-auth`). Only `/healthz` is open.
   Forwarded headers (X-Forwarded-Host/-Proto/-Prefix) are trusted only from
   that proxy.
2. Cross-site refusal for state-changing methods (POST/PUT/PATCH/DELETE):
   `Sec-Fetch-Site: cross-site` is refused, and the Origin (or else Referer)
   must name the host the request came to (X-Forwarded-Host behind our proxy).
3. CSRF token (double-submit cookie): every response to a browser without one
   sets the cookie `mm_csrf` (readable by the page's JS, SameSite=Strict).
   State-changing requests to `/api/` must echo it in the header
   `X-CSRF-Token`. Gradio's own POSTs (its queue) cannot add a header, so for
   paths outside `/api/` a matching Origin/Referer is required instead.
   `movieminter/app/static/mm-fetch.js` does this for the UI's fetch calls.
"""

from __future__ import annotations

import json
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

CSRF_COOKIE = "mm_csrf"
CSRF_HEADER = "x-csrf-token"
SECRET_HEADER = "x-movieminter-proxy-secret"
SECRET_ENV = "MOVIEMINTER_PROXY_SECRET"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_PATHS = ("/healthz",)


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    return out


def _cookies(header: str) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(header or "")
    except Exception:  # a malformed cookie from another app on the same host
        return {}
    return {k: m.value for k, m in jar.items()}


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


async def _refuse(send, status: int, error: str, message: str, hint: str) -> None:
    body = json.dumps({"detail": {"error": error, "message": message, "hint": hint}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    def __init__(self, app, *, proxy_secret: str | None = None):
        self.app = app
        self.proxy_secret = proxy_secret or None

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        path = scope.get("path", "")

        trusted = False
        if self.proxy_secret:
            given = headers.get(SECRET_HEADER, "")
            trusted = bool(given) and secrets.compare_digest(given.encode(), self.proxy_secret.encode())
            if not trusted and path not in OPEN_PATHS:
                if scope["type"] == "websocket":
                    return await send({"type": "websocket.close", "code": 1008})
                return await _refuse(
                    send, 403, "ProxyOnly",
                    "This Movie Minter app answers only through the A1111 tab (its /movieminter/ address).",
                    "Open the Movie Minter tab in the A1111 WebUI; the app's own port is private to A1111.")

        if trusted:
            scope = dict(scope)
            prefix = headers.get("x-forwarded-prefix", "").rstrip("/")
            if prefix.startswith("/") and not scope.get("root_path"):
                # The proxy stripped /movieminter; restore it as ASGI root_path so
                # gradio and the OpenAPI docs build their URLs under the prefix.
                scope["root_path"] = prefix
                scope["path"] = prefix + path
                if scope.get("raw_path") is not None:
                    scope["raw_path"] = prefix.encode() + scope["raw_path"]
            if headers.get("x-forwarded-proto") in ("http", "https"):
                scope["scheme"] = headers["x-forwarded-proto"] if scope["type"] == "http" else (
                    "wss" if headers["x-forwarded-proto"] == "https" else "ws")

        expected_host = (headers.get("x-forwarded-host") if trusted else None) or headers.get("host", "")
        expected_host = expected_host.split(",")[0].strip().lower()
        cookies = _cookies(headers.get("cookie", ""))

        if scope["type"] == "http" and scope.get("method", "GET").upper() in UNSAFE_METHODS:
            problem = self._check(path, headers, cookies, expected_host)
            if problem:
                return await _refuse(send, 403, *problem)

        if scope["type"] != "http" or CSRF_COOKIE in cookies:
            return await self.app(scope, receive, send)

        token = secrets.token_urlsafe(24)
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = f"{CSRF_COOKIE}={token}; Path=/; SameSite=Strict{secure}".encode()

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [(b"set-cookie", cookie)]
            await send(message)

        return await self.app(scope, receive, send_with_cookie)

    @staticmethod
    def _check(path: str, headers: dict, cookies: dict, expected_host: str):
        """None if the request may change state, else (error, message, hint)."""
        if headers.get("sec-fetch-site") == "cross-site":
            return ("CrossSiteRequest", "Refused: this request came from another website (Sec-Fetch-Site: cross-site).",
                    "Use Movie Minter from its own page; other sites may not act on your behalf.")
        origin = headers.get("origin")
        source = origin if origin else headers.get("referer")
        if origin == "null":
            return ("CrossSiteRequest", "Refused: the request has an opaque Origin (null).",
                    "Use Movie Minter from its own page, not from a sandboxed frame or a file.")
        if source and _netloc(source) != expected_host:
            return ("CrossSiteRequest",
                    f"Refused: the request came from {_netloc(source) or source!r}, not from this site ({expected_host!r}).",
                    "Use Movie Minter from its own page; other sites may not act on your behalf.")
        token = headers.get(CSRF_HEADER, "")
        cookie = cookies.get(CSRF_COOKIE, "")
        token_ok = bool(token) and bool(cookie) and secrets.compare_digest(token.encode(), cookie.encode())
        api = path.startswith("/api/")  # path as the app sees it, before any proxy prefix
        if api and not token_ok:
            return ("CSRFTokenMissing" if not token else "CSRFTokenMismatch",
                    "Refused: this request lacks a valid CSRF token (the X-CSRF-Token header must equal the mm_csrf cookie).",
                    "Send state-changing requests with movieminter/app/static/mm-fetch.js (mmFetch), "
                    "or read the mm_csrf cookie and echo it in X-CSRF-Token.")
        if not api and not source and not token_ok:
            return ("CrossSiteRequest", "Refused: a state-changing request without Origin, Referer or CSRF token.",
                    "Use Movie Minter from its own page in a browser.")
        return None
