"""Request checks every route and UI of the app goes through (ASGI middleware). The parts:
served_hosts.py (the allow-list), csrf.py (cross-site refusal, CSRF cookie), refusals.py (errors).

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
4. Host allow-list (DNS rebinding). A page on another site whose DNS name is
   re-pointed at 127.0.0.1 talks to this app with its own name in `Host`.
   Every request's Host (X-Forwarded-Host behind our proxy) must be an
   address the app is served under (`ServedHosts`): a loopback name
   (localhost, *.localhost, 127.0.0.0/8, [::1], any port), the IP address and
   port the connection arrived at (the app's own socket, or A1111's, which the
   proxy reports), or a configured URL: `Settings.public_urls` (the user's:
   env MOVIEMINTER_PUBLIC_URLS, or A1111's Settings > Movie Minter) and
   `Settings.host_urls` (set by the A1111 host glue: A1111's listen names and
   its `--share` link). The same list is the only source of the domains a
   Sign-In with Ethereum message may name (routes_wallet).
"""

from __future__ import annotations

import logging
import secrets

from movieminter.app.csrf import (  # noqa: F401 - re-exported: security's public names
    CSRF_COOKIE,
    CSRF_HEADER,
    UNSAFE_METHODS,
    parse_cookies,
    state_change_refused,
    with_csrf_cookie,
)
from movieminter.app.refusals import (  # noqa: F401 - re-exported
    A1111_SETTING,
    PUBLIC_URLS_ENV,
    HostNotAllowed,
    SecurityRefusal,
    how_to_add,
    refuse,
)
from movieminter.app.served_hosts import (  # noqa: F401 - re-exported
    DEFAULT_PORTS,
    Address,
    RequestHost,
    ServedHosts,
    is_loopback,
    parse_address,
    server_address,
    split_authority,
)

log = logging.getLogger("movieminter.security")

SECRET_HEADER = "x-movieminter-proxy-secret"
SECRET_ENV = "MOVIEMINTER_PROXY_SECRET"
OPEN_PATHS = ("/healthz",)
# The A1111 proxy reports the local address (ip:port) of A1111's socket the browser connected to,
# so `--listen` users reaching A1111 by IP address are recognised. Trusted only with the secret.
SERVER_HEADER = "x-movieminter-host-server"
SCOPE_KEY = "movieminter.request"  # a RequestHost the middleware leaves in the ASGI scope

_PROXY_ONLY = SecurityRefusal(
    "ProxyOnly",
    "This Movie Minter app answers only through the A1111 tab (its /movieminter/ address).",
    "Open the Movie Minter tab in the A1111 WebUI; the app's own port is private to A1111.",
)


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    return out


def _as_proxied(scope, headers: dict) -> dict:
    """The scope as the browser addressed it, from the trusted proxy's forwarded headers."""
    scope = dict(scope)
    path = scope.get("path", "")
    prefix = headers.get("x-forwarded-prefix", "").rstrip("/")
    if prefix.startswith("/") and not scope.get("root_path"):
        # The proxy stripped /movieminter; restore it as ASGI root_path so
        # gradio and the OpenAPI docs build their URLs under the prefix.
        scope["root_path"] = prefix
        scope["path"] = prefix + path
        if scope.get("raw_path") is not None:
            scope["raw_path"] = prefix.encode() + scope["raw_path"]
    proto = headers.get("x-forwarded-proto")
    if proto in ("http", "https"):
        scope["scheme"] = proto if scope["type"] == "http" else ("wss" if proto == "https" else "ws")
    return scope


class SecurityMiddleware:
    def __init__(self, app, *, proxy_secret: str | None = None, served: ServedHosts | None = None):
        self.app = app
        self.proxy_secret = proxy_secret or None
        self.served = served if served is not None else ServedHosts()

    def _from_proxy(self, headers: dict) -> bool:
        """The request carries the parent's secret (constant-time compare)."""
        given = headers.get(SECRET_HEADER, "")
        expected = self.proxy_secret
        return bool(given) and expected is not None and secrets.compare_digest(given.encode(), expected.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        path = scope.get("path", "")
        websocket = scope["type"] == "websocket"

        trusted = bool(self.proxy_secret) and self._from_proxy(headers)
        if self.proxy_secret and not trusted and path not in OPEN_PATHS:
            if websocket:
                return await send({"type": "websocket.close", "code": 1008})
            return await refuse(send, _PROXY_ONLY)
        if trusted:
            scope = _as_proxied(scope, headers)

        expected_host = (headers.get("x-forwarded-host") if trusted else None) or headers.get("host", "")
        expected_host = expected_host.split(",")[0].strip().lower()
        server = headers.get(SERVER_HEADER) if trusted and headers.get(SERVER_HEADER) else scope.get("server")
        address = self.served.find(expected_host, server)
        if address is None:
            if websocket:
                return await send({"type": "websocket.close", "code": 1008})
            page = scope.get("method") == "GET" and "text/html" in headers.get("accept", "")
            return await refuse(send, HostNotAllowed(expected_host, in_a1111=bool(self.proxy_secret)), page=page)
        scope = dict(scope)
        scope[SCOPE_KEY] = RequestHost(expected_host, server_address(server), address, trusted)
        cookies = parse_cookies(headers.get("cookie", ""))

        if not websocket and scope.get("method", "GET").upper() in UNSAFE_METHODS:
            problem = state_change_refused(path, headers, cookies, expected_host)
            if problem:
                return await refuse(send, SecurityRefusal(*problem))

        if websocket or CSRF_COOKIE in cookies:
            return await self.app(scope, receive, send)
        return await self.app(scope, receive, with_csrf_cookie(send, secure=scope.get("scheme") == "https"))
