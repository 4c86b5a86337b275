"""Sign-In with Ethereum routes (mounted under /api/v1): see movieminter.app.wallet.

GET  /auth/config     the chain the wallet must be on
GET  /auth/nonce      a one-time nonce (and, given the address, the EIP-4361 message)
POST /auth/verify     check the signed message, start a session (HttpOnly cookie)
GET  /auth/me         who is signed in
POST /auth/logout
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from movieminter.app.deps import BROWSER_COOKIE, SESSION_COOKIE, Browser, Ctx, Session
from movieminter.app.errors import AuthError, SignInRejected
from movieminter.app.wallet import (
    SESSION_TTL,
    STATEMENT,
    chain_info,
    expected_chain_id,
    iso_time,
    load_siwe,
    served_address,
)
from movieminter.errors import MovieMinterError

router = APIRouter(prefix="/auth", tags=["wallet"])


class VerifyBody(BaseModel):
    message: str
    signature: str


@router.get("/config")
def config(ctx: Ctx):
    """The chain the wallet must be on, with what wallet_addEthereumChain needs."""
    return chain_info(ctx)


@router.get("/nonce")
def nonce(
    request: Request,
    ctx: Ctx,
    browser: Browser,
    address: str | None = None,
    chain_id: int | None = None,
    domain: str | None = None,
    uri: str | None = None,
):
    """A one-time nonce. With address/chain_id/domain/uri, also the EIP-4361 message to sign."""
    value, expires = ctx.auth_store.new_nonce(browser)
    out = {"nonce": value, "expires_at": iso_time(expires), "statement": STATEMENT}
    if address:
        siwe = load_siwe()
        from eth_utils import is_address, to_checksum_address

        from movieminter.app.security import SCOPE_KEY

        if not is_address(address):
            raise AuthError(f"{address!r} is not an Ethereum address.", hint="Reconnect your wallet and try again.")
        info = request.scope.get(SCOPE_KEY)
        domain = domain or (info.host if info is not None else request.headers.get("host", ""))
        served = served_address(ctx, request.scope, domain, uri or f"{request.url.scheme}://{domain}/")
        uri = uri or f"{served.scheme or request.url.scheme}://{domain}/"
        try:
            msg = siwe.SiweMessage(
                domain=domain,
                address=to_checksum_address(address),
                uri=uri,
                version="1",
                chain_id=chain_id or expected_chain_id(ctx),
                nonce=value,
                statement=STATEMENT,
                issued_at=iso_time(time.time()),
                expiration_time=iso_time(expires),
            )
        except MovieMinterError:
            raise
        except Exception as exc:
            raise AuthError(
                f"Cannot prepare the sign-in message: {exc}", hint="Reload the page and connect again."
            ) from exc
        out["message"] = msg.prepare_message()
    return out


@router.post("/verify")
def verify(body: VerifyBody, request: Request, response: Response, ctx: Ctx):
    """Check a signed EIP-4361 message and start a session for its address."""
    siwe = load_siwe()
    try:
        msg = siwe.SiweMessage.from_message(body.message)
    except Exception as exc:
        raise AuthError(
            "The sign-in message is not a valid EIP-4361 message.",
            hint="Click Connect again to get a fresh message.",
        ) from exc
    served_address(ctx, request.scope, msg.domain, msg.uri)  # from configuration, never from this request
    want_chain = expected_chain_id(ctx)
    if int(msg.chain_id) != want_chain:
        raise AuthError(
            f"The wallet signed for chain {msg.chain_id}, but this movie lives on chain {want_chain}.",
            hint="Switch your wallet to the right network and connect again.",
        )
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if not ctx.auth_store.take_nonce(msg.nonce, browser):
        raise SignInRejected(
            "This sign-in request was already used, has expired, or came from another browser.",
            hint="Click Connect again to get a fresh message.",
        )
    try:
        msg.verify(body.signature, domain=msg.domain, nonce=msg.nonce)
    except siwe.ExpiredMessage as exc:
        raise SignInRejected(
            "The sign-in message has expired.", hint="Click Connect again and sign within 10 minutes."
        ) from exc
    except siwe.VerificationError as exc:
        raise SignInRejected(
            "The signature does not match the wallet address in the message.",
            hint="Sign with the account shown in your wallet, then try again.",
        ) from exc
    token, expires = ctx.auth_store.new_session(msg.address, int(msg.chain_id), browser)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_TTL,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return {"address": msg.address, "chain_id": int(msg.chain_id), "expires_at": iso_time(expires)}


@router.get("/me")
def me(found: Session):
    return {"authenticated": bool(found), **(found or {"address": None})}


@router.post("/logout")
def logout(request: Request, response: Response, ctx: Ctx):
    ctx.auth_store.end_session(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"authenticated": False, "address": None}
