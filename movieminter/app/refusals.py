"""How the request checks refuse: the error types (the app's JSON error shape, plus an `error`
code) and the raw ASGI answer, since a refusal is sent before any route or handler runs."""

from __future__ import annotations

import html
import json

from movieminter.errors import MovieMinterError

PUBLIC_URLS_ENV = "MOVIEMINTER_PUBLIC_URLS"
A1111_SETTING = "movieminter_public_urls"


class SecurityRefusal(MovieMinterError, status=403):
    """A request refused before it reaches a route (rendered by the middleware, same JSON shape)."""

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


async def refuse(send, exc: SecurityRefusal, *, page: bool = False) -> None:
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
