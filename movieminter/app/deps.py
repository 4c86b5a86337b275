"""FastAPI dependencies the routers share: the application context and who is asking.

Routers are module-level; `create_app` puts its AppContext on `app.state.ctx`,
and every route takes it (and the signed-in wallet) as typed parameters."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from movieminter.app.context import AppContext

SESSION_COOKIE = "mm_session"
BROWSER_COOKIE = "mm_browser"


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def session(request: Request, ctx: Ctx) -> dict | None:
    """The request's SIWE session ({address, chain_id, expires_at}), or None."""
    return ctx.auth_store.session(request.cookies.get(SESSION_COOKIE))


Session = Annotated[dict | None, Depends(session)]


def current_wallet(found: Session) -> str | None:
    """The checksummed address the request's session signed in with, or None."""
    return found["address"] if found else None


Wallet = Annotated[str | None, Depends(current_wallet)]


def browser_id(request: Request, response: Response) -> str:
    """A random id for this browser (recent movies, nonce binding); set on first use."""
    value = request.cookies.get(BROWSER_COOKIE)
    if value and len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value
    value = secrets.token_urlsafe(16)
    response.set_cookie(
        BROWSER_COOKIE,
        value,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return value


Browser = Annotated[str, Depends(browser_id)]
