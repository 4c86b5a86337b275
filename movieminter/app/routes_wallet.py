"""Sign-In with Ethereum (EIP-4361): pairs the browser's wallet with an app session.

The browser never sends a key, only a signature: the server issues a one-time
nonce bound to this browser, prepares the EIP-4361 message with the `siwe`
package, and on /verify checks domain, URI, chain id, nonce, expiry and the
signature before it sets an HttpOnly, SameSite=Lax session cookie.

Sessions and nonces live in a small SQLite file in the data dir (tokens only
as sha256), so a restart of the app does not log every minter out.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
import warnings
from datetime import datetime, timezone
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from movieminter.errors import MovieMinterError

SESSION_COOKIE = "mm_session"
BROWSER_COOKIE = "mm_browser"
NONCE_TTL = 600           # seconds a sign-in message stays valid
SESSION_TTL = 24 * 3600   # seconds a signed-in session lasts
STATEMENT = "Sign in to Movie Minter to claim, render and mint segments with this wallet."


class AuthError(MovieMinterError):
    """Sign-in failed; `status` is the HTTP status the API answers with."""

    def __init__(self, message: str, hint: str | None = None, status: int = 400):
        super().__init__(message, hint)
        self.status = status


def http_error(exc: MovieMinterError, status: int = 400) -> HTTPException:
    """The API's error shape: {"detail": {"error", "message", "hint"}}."""
    return HTTPException(status_code=getattr(exc, "status", status), detail=exc.to_dict())


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class AuthStore:
    """Nonces (one use, bound to a browser) and sessions, in SQLite."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, browser TEXT NOT NULL,
                expires REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, address TEXT NOT NULL,
                chain_id INTEGER NOT NULL, browser TEXT NOT NULL, expires REAL NOT NULL);
            """
        )

    def new_nonce(self, browser: str) -> tuple[str, float]:
        nonce = secrets.token_hex(12)  # EIP-4361: >= 8 alphanumeric characters
        expires = time.time() + NONCE_TTL
        with self._lock:
            self._db.execute("DELETE FROM nonces WHERE expires < ?", (time.time(),))
            self._db.execute("INSERT INTO nonces VALUES (?, ?, ?)", (nonce, browser, expires))
        return nonce, expires

    def take_nonce(self, nonce: str, browser: str) -> bool:
        """Consume a nonce: True only once, only for the browser it was issued to, only in time."""
        with self._lock:
            row = self._db.execute("SELECT browser, expires FROM nonces WHERE nonce = ?", (nonce,)).fetchone()
            if row is None or row[0] != browser:
                return False
            self._db.execute("DELETE FROM nonces WHERE nonce = ?", (nonce,))
            return row[1] >= time.time()

    def new_session(self, address: str, chain_id: int, browser: str) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        expires = time.time() + SESSION_TTL
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
            self._db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                             (_hash(token), address, chain_id, browser, expires))
        return token, expires

    def session(self, token: str | None) -> dict | None:
        if not token:
            return None
        with self._lock:
            row = self._db.execute("SELECT address, chain_id, expires FROM sessions WHERE token_hash = ?",
                                   (_hash(token),)).fetchone()
        if row is None or row[2] < time.time():
            return None
        return {"address": row[0], "chain_id": row[1], "expires_at": _iso(row[2])}

    def end_session(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._db.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))


def auth_store(ctx) -> AuthStore:
    """One store per app context (routes_movies uses it to know who is asking)."""
    store = ctx.extras.get("auth_store")
    if store is None:
        store = ctx.extras["auth_store"] = AuthStore(ctx.settings.path() / "auth.sqlite3")
    return store


def session_address(ctx, request: Request) -> str | None:
    """The checksummed address the request's session signed in with, or None."""
    session = auth_store(ctx).session(request.cookies.get(SESSION_COOKIE))
    return session["address"] if session else None


def browser_id(request: Request, response: Response | None = None) -> str:
    """A random id for this browser (recent movies, nonce binding); set on first use."""
    value = request.cookies.get(BROWSER_COOKIE)
    if value and len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value
    value = secrets.token_urlsafe(16)
    if response is not None:
        response.set_cookie(BROWSER_COOKIE, value, max_age=365 * 24 * 3600, httponly=True,
                            samesite="lax", secure=request.url.scheme == "https", path="/")
    return value


def expected_chain_id(ctx) -> int:
    """The chain the app is configured for: SIWE messages must name it."""
    if ctx.extras.get("chain_id"):
        return int(ctx.extras["chain_id"])
    try:
        chain = ctx.chain
    except MovieMinterError:
        raise
    except Exception as exc:  # chain client not configured / not available
        raise AuthError("No blockchain is configured, so wallets cannot sign in.",
                        hint="Set a chain preset or RPC URL in the Movie Minter settings.", status=503) from exc
    for attr in ("chain_id",):
        value = getattr(chain, attr, None)
        if value:
            return int(value() if callable(value) else value)
    return int(chain.w3.eth.chain_id)


def chain_info(ctx) -> dict:
    """What the browser wallet needs to switch to (or add) the app's chain."""
    from movieminter.chain.presets import preset_for_chain_id
    chain_id = expected_chain_id(ctx)
    preset = preset_for_chain_id(chain_id)
    rpc = ctx.settings.rpc_url or (ctx.settings.chain if ctx.settings.chain.startswith("http") else "") or (
        preset.rpc_url if preset else "")
    return {
        "chain_id": chain_id,
        "chain_name": preset.title if preset else f"Chain {chain_id}",
        "rpc_urls": [rpc] if rpc else [],
        "native_currency": {"name": preset.currency if preset else "Ether",
                            "symbol": preset.currency if preset else "ETH", "decimals": 18},
        "explorer_url": preset.explorer if preset else "",
    }


def _siwe():
    with warnings.catch_warnings():  # the siwe grammar re-declares RFC 5234 core rules
        warnings.simplefilter("ignore")
        import siwe
    return siwe


def _request_host(request: Request) -> str:
    """Who the browser thinks it is talking to: the Origin it sent, else the Host header."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc
    return request.headers.get("x-forwarded-host") or request.headers.get("host", "")


class VerifyBody(BaseModel):
    message: str
    signature: str


def build_router(ctx) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["wallet"])

    @router.get("/config")
    def config():
        """The chain the wallet must be on, with what wallet_addEthereumChain needs."""
        try:
            return chain_info(ctx)
        except MovieMinterError as exc:
            raise http_error(exc, 503)

    @router.get("/nonce")
    def nonce(request: Request, response: Response, address: str | None = None,
              chain_id: int | None = None, domain: str | None = None, uri: str | None = None):
        """A one-time nonce. With address/chain_id/domain/uri, also the EIP-4361 message to sign."""
        browser = browser_id(request, response)
        value, expires = auth_store(ctx).new_nonce(browser)
        out = {"nonce": value, "expires_at": _iso(expires), "statement": STATEMENT}
        if address:
            siwe = _siwe()
            from eth_utils import is_address, to_checksum_address
            if not is_address(address):
                raise http_error(AuthError(f"{address!r} is not an Ethereum address.",
                                           hint="Reconnect your wallet and try again."))
            domain = domain or request.headers.get("host", "")
            try:
                msg = siwe.SiweMessage(
                    domain=domain, address=to_checksum_address(address),
                    uri=uri or f"{request.url.scheme}://{domain}/", version="1",
                    chain_id=chain_id or expected_chain_id(ctx), nonce=value, statement=STATEMENT,
                    issued_at=_iso(time.time()), expiration_time=_iso(expires))
            except MovieMinterError as exc:
                raise http_error(exc)
            except Exception as exc:
                raise http_error(AuthError(f"Cannot prepare the sign-in message: {exc}",
                                           hint="Reload the page and connect again.")) from exc
            out["message"] = msg.prepare_message()
        return out

    @router.post("/verify")
    def verify(body: VerifyBody, request: Request, response: Response):
        """Check a signed EIP-4361 message and start a session for its address."""
        siwe = _siwe()
        try:
            msg = siwe.SiweMessage.from_message(body.message)
        except Exception as exc:
            raise http_error(AuthError("The sign-in message is not a valid EIP-4361 message.",
                                       hint="Click Connect again to get a fresh message.")) from exc
        host = _request_host(request)
        if msg.domain != host:
            raise http_error(AuthError(f"The message was prepared for {msg.domain!r}, but this page is {host!r}.",
                                       hint="Sign in from the page itself, not from another site.", status=403))
        if urlsplit(str(msg.uri)).netloc != msg.domain:
            raise http_error(AuthError("The message's URI does not belong to its domain.",
                                       hint="Click Connect again to get a fresh message.", status=403))
        try:
            want_chain = expected_chain_id(ctx)
        except MovieMinterError as exc:
            raise http_error(exc)
        if int(msg.chain_id) != want_chain:
            raise http_error(AuthError(f"The wallet signed for chain {msg.chain_id}, but this movie lives on chain {want_chain}.",
                                       hint="Switch your wallet to the right network and connect again."))
        browser = request.cookies.get(BROWSER_COOKIE, "")
        if not auth_store(ctx).take_nonce(msg.nonce, browser):
            raise http_error(AuthError("This sign-in request was already used, has expired, or came from another browser.",
                                       hint="Click Connect again to get a fresh message.", status=401))
        try:
            msg.verify(body.signature, domain=host, nonce=msg.nonce)
        except siwe.ExpiredMessage as exc:
            raise http_error(AuthError("The sign-in message has expired.",
                                       hint="Click Connect again and sign within 10 minutes.", status=401)) from exc
        except siwe.VerificationError as exc:
            raise http_error(AuthError("The signature does not match the wallet address in the message.",
                                       hint="Sign with the account shown in your wallet, then try again.", status=401)) from exc
        token, expires = auth_store(ctx).new_session(msg.address, int(msg.chain_id), browser)
        response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_TTL, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", path="/")
        return {"address": msg.address, "chain_id": int(msg.chain_id), "expires_at": _iso(expires)}

    @router.get("/me")
    def me(request: Request):
        session = auth_store(ctx).session(request.cookies.get(SESSION_COOKIE))
        return {"authenticated": bool(session), **(session or {"address": None})}

    @router.post("/logout")
    def logout(request: Request, response: Response):
        auth_store(ctx).end_session(request.cookies.get(SESSION_COOKIE))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return {"authenticated": False, "address": None}

    return router
