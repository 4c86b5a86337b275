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

import html
import ipaddress
import json
import logging
import re
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from movieminter.errors import MovieMinterError

log = logging.getLogger("movieminter.security")

CSRF_COOKIE = "mm_csrf"
CSRF_HEADER = "x-csrf-token"
SECRET_HEADER = "x-movieminter-proxy-secret"
SECRET_ENV = "MOVIEMINTER_PROXY_SECRET"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_PATHS = ("/healthz",)
# The A1111 proxy reports the local address (ip:port) of A1111's socket the browser connected to,
# so `--listen` users reaching A1111 by IP address are recognised. Trusted only with the secret.
SERVER_HEADER = "x-movieminter-host-server"
SCOPE_KEY = "movieminter.request"  # a RequestHost the middleware leaves in the ASGI scope
DEFAULT_PORTS = {"http": 80, "https": 443}
PUBLIC_URLS_ENV = "MOVIEMINTER_PUBLIC_URLS"
A1111_SETTING = "movieminter_public_urls"


class SecurityRefusal(MovieMinterError):
    """A request refused before it reaches a route (rendered by the middleware, same JSON shape)."""

    status = 403

    def __init__(self, error: str, message: str, hint: str | None = None, status: int = 403):
        super().__init__(message, hint)
        self.error, self.status = error, status

    def to_dict(self) -> dict:
        return {**super().to_dict(), "error": self.error}


class HostNotAllowed(SecurityRefusal):
    def __init__(self, host: str, *, in_a1111: bool):
        shown = host or "(none)"
        super().__init__(
            "HostNotAllowed",
            f"Refused: Movie Minter is not served under the address {shown!r} (the Host of this request). "
            "Requests naming another address are refused, so that no other website can reach this app "
            "by pointing its own name at your computer (DNS rebinding).",
            how_to_add(host, in_a1111=in_a1111),
        )


def how_to_add(host: str, *, in_a1111: bool) -> str:
    example = f"https://{host}" if host else "https://movieminter.example.org"
    if in_a1111:
        return (
            f"If you open A1111 at {host or 'this address'} on purpose, add it in A1111's Settings > "
            f"Movie Minter > 'Other addresses A1111 is reached at' ({A1111_SETTING}), e.g. {example}. "
            "localhost, 127.0.0.1, A1111's own address and its --share link always work."
        )
    return (
        f"If you open Movie Minter at {host or 'this address'} on purpose, add it to {PUBLIC_URLS_ENV} "
        f"(comma-separated URLs, e.g. {PUBLIC_URLS_ENV}={example}) and restart `movieminter serve`. "
        "localhost and 127.0.0.1 always work."
    )


# -- the addresses the app is served under ---------------------------------------------------------
@dataclass(frozen=True)
class Address:
    """One address the app is served under. `port` None: the scheme's default (any default port when
    `scheme` is None too); `scheme` None: http or https."""

    host: str
    port: int | None
    scheme: str | None
    source: str  # loopback | socket | configured | a1111

    def matches(self, host: str, port: int | None) -> bool:
        if host != self.host:
            return False
        if self.source == "loopback":
            return True
        if port == self.port:
            return True
        defaults = [DEFAULT_PORTS[self.scheme]] if self.scheme else list(DEFAULT_PORTS.values())
        if port is None:  # the browser's URL had no port: the scheme's default
            return self.port in defaults
        return self.port is None and port in defaults

    def schemes(self) -> tuple[str, ...]:
        return (self.scheme,) if self.scheme else ("http", "https")


@dataclass(frozen=True)
class RequestHost:
    """What the middleware established about a request: the host the browser addressed (validated),
    the local address the connection reached, the configured address that matched, and whether it
    came through the A1111 proxy."""

    host: str
    server: tuple | None
    address: Address
    proxied: bool


_AUTHORITY = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]+)(:\d{1,5})?$")


def _norm_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def split_authority(authority: str) -> tuple[str, int | None] | None:
    """("host", port or None) of a Host header / SIWE domain, or None when it is not one."""
    authority = (authority or "").strip().lower()
    if not _AUTHORITY.match(authority):
        return None
    try:
        parts = urlsplit("//" + authority)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    return (_norm_host(host), port) if host else None


def parse_address(entry: str, source: str = "configured") -> Address | None:
    """A configured address: "https://mm.example.org", "http://box:7870/anything" or "box:7870"."""
    entry = entry.strip()
    if "://" in entry:
        try:
            parts = urlsplit(entry)
            scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
        except ValueError:
            return None
        if scheme not in DEFAULT_PORTS or not host:
            return None
        return Address(_norm_host(host), port or DEFAULT_PORTS[scheme], scheme, source)
    hp = split_authority(entry.rstrip("/"))
    return Address(hp[0], hp[1], None, source) if hp else None


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: never resolved through DNS
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_address(server) -> tuple[str, int] | None:
    """The (host, port) of the local socket, from the ASGI scope or the proxy's header "ip:port"."""
    if isinstance(server, str):
        hp = split_authority(server)
        return (hp[0], hp[1]) if hp and hp[1] else None
    if server and len(server) == 2 and server[0] and server[1]:
        return (_norm_host(str(server[0])), int(server[1]))
    return None


class ServedHosts:
    """The addresses the app is served under. Built from configuration only, never from a request:
    `Settings.public_urls` (the user's) and `Settings.host_urls` (the A1111 host glue's), plus
    loopback names and the socket address the connection arrived at."""

    def __init__(self, configured: list[Address] | None = None):
        self.configured = list(configured or [])

    @classmethod
    def from_settings(cls, settings) -> ServedHosts:
        found: list[Address] = []
        for source, value in (
            ("configured", getattr(settings, "public_urls", "")),
            ("a1111", getattr(settings, "host_urls", "")),
        ):
            for entry in re.split(r"[,\s]+", value or ""):
                if not entry:
                    continue
                address = parse_address(entry, source)
                if address is None:
                    log.warning(
                        "ignoring %r in the addresses Movie Minter is served under: not a URL or host[:port]", entry
                    )
                else:
                    found.append(address)
        return cls(found)

    def find(self, authority: str, server=None) -> Address | None:
        """The address `authority` (a Host header or a SIWE domain) names, or None when the app is
        not served there. `server` is the local socket address the connection arrived at."""
        hp = split_authority(authority)
        if hp is None:
            return None
        host, port = hp
        if is_loopback(host):
            return Address(host, None, None, "loopback")
        for address in self.configured:
            if address.matches(host, port):
                return address
        local = _server_address(server)
        if local is not None:
            socket_address = Address(local[0], local[1], None, "socket")
            if socket_address.matches(host, port):
                return socket_address
        return None


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


async def _refuse(send, exc: SecurityRefusal, *, page: bool = False) -> None:
    """The app's error shape {"detail": {"error", "message", "hint"}} with the error's status; a
    browser opening a page gets the same words as HTML."""
    if page:
        body = (
            "<!doctype html><meta charset='utf-8'><title>Movie Minter</title>"
            f"<h1>Movie Minter</h1><p>{html.escape(exc.message)}</p>"
            + (f"<p>{html.escape(exc.hint)}</p>" if exc.hint else "")
        ).encode()
        kind = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"detail": exc.to_dict()}).encode()
        kind = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    def __init__(self, app, *, proxy_secret: str | None = None, served: ServedHosts | None = None):
        self.app = app
        self.proxy_secret = proxy_secret or None
        self.served = served if served is not None else ServedHosts()

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
                    send,
                    SecurityRefusal(
                        "ProxyOnly",
                        "This Movie Minter app answers only through the A1111 tab (its /movieminter/ address).",
                        "Open the Movie Minter tab in the A1111 WebUI; the app's own port is private to A1111.",
                    ),
                )

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
                scope["scheme"] = (
                    headers["x-forwarded-proto"]
                    if scope["type"] == "http"
                    else ("wss" if headers["x-forwarded-proto"] == "https" else "ws")
                )

        expected_host = (headers.get("x-forwarded-host") if trusted else None) or headers.get("host", "")
        expected_host = expected_host.split(",")[0].strip().lower()
        server = headers.get(SERVER_HEADER) if trusted and headers.get(SERVER_HEADER) else scope.get("server")
        address = self.served.find(expected_host, server)
        if address is None:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            page = scope.get("method") == "GET" and "text/html" in headers.get("accept", "")
            return await _refuse(send, HostNotAllowed(expected_host, in_a1111=bool(self.proxy_secret)), page=page)
        scope = dict(scope)
        scope[SCOPE_KEY] = RequestHost(expected_host, _server_address(server), address, trusted)
        cookies = _cookies(headers.get("cookie", ""))

        if scope["type"] == "http" and scope.get("method", "GET").upper() in UNSAFE_METHODS:
            problem = self._check(path, headers, cookies, expected_host)
            if problem:
                return await _refuse(send, SecurityRefusal(*problem))

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
            return (
                "CrossSiteRequest",
                "Refused: this request came from another website (Sec-Fetch-Site: cross-site).",
                "Use Movie Minter from its own page; other sites may not act on your behalf.",
            )
        origin = headers.get("origin")
        source = origin if origin else headers.get("referer")
        if origin == "null":
            return (
                "CrossSiteRequest",
                "Refused: the request has an opaque Origin (null).",
                "Use Movie Minter from its own page, not from a sandboxed frame or a file.",
            )
        if source and _netloc(source) != expected_host:
            return (
                "CrossSiteRequest",
                f"Refused: the request came from {_netloc(source) or source!r}, not from this site ({expected_host!r}).",
                "Use Movie Minter from its own page; other sites may not act on your behalf.",
            )
        token = headers.get(CSRF_HEADER, "")
        cookie = cookies.get(CSRF_COOKIE, "")
        token_ok = bool(token) and bool(cookie) and secrets.compare_digest(token.encode(), cookie.encode())
        api = path.startswith("/api/")  # path as the app sees it, before any proxy prefix
        if api and not token_ok:
            return (
                "CSRFTokenMissing" if not token else "CSRFTokenMismatch",
                "Refused: this request lacks a valid CSRF token (the X-CSRF-Token header must equal the mm_csrf cookie).",
                "Send state-changing requests with movieminter/app/static/mm-fetch.js (mmFetch), "
                "or read the mm_csrf cookie and echo it in X-CSRF-Token.",
            )
        if not api and not source and not token_ok:
            return (
                "CrossSiteRequest",
                "Refused: a state-changing request without Origin, Referer or CSRF token.",
                "Use Movie Minter from its own page in a browser.",
            )
        return None
