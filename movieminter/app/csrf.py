"""Cross-site refusal for state-changing requests, and the double-submit CSRF cookie.

A state-changing method (POST/PUT/PATCH/DELETE) is refused when `Sec-Fetch-Site: cross-site`, an
opaque Origin, or an Origin (else Referer) naming another host. Requests to `/api/` must also
echo the `mm_csrf` cookie in `X-CSRF-Token` (movieminter/app/static/mm-fetch.js does); gradio's
own POSTs cannot add a header, so outside `/api/` a matching Origin/Referer stands in for it.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

CSRF_COOKIE = "mm_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

_OWN_PAGE = "Use Movie Minter from its own page; other sites may not act on your behalf."


def parse_cookies(header: str) -> dict[str, str]:
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


def _cross_site(headers: dict, expected_host: str) -> tuple[str, str, str] | None:
    """The request comes from another site (Sec-Fetch-Site, Origin, Referer)."""
    if headers.get("sec-fetch-site") == "cross-site":
        return (
            "CrossSiteRequest",
            "Refused: this request came from another website (Sec-Fetch-Site: cross-site).",
            _OWN_PAGE,
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
            _OWN_PAGE,
        )
    return None


def state_change_refused(path: str, headers: dict, cookies: dict, expected_host: str) -> tuple[str, str, str] | None:
    """None if the request may change state, else (error, message, hint)."""
    problem = _cross_site(headers, expected_host)
    if problem:
        return problem
    source = headers.get("origin") or headers.get("referer")
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


def with_csrf_cookie(send, *, secure: bool):
    """`send`, wrapped to set a fresh `mm_csrf` cookie (readable by the page's JS, SameSite=Strict)
    on the response."""
    token = secrets.token_urlsafe(24)
    cookie = f"{CSRF_COOKIE}={token}; Path=/; SameSite=Strict{'; Secure' if secure else ''}".encode()

    async def send_with_cookie(message):
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = list(message.get("headers", [])) + [(b"set-cookie", cookie)]
        await send(message)

    return send_with_cookie
