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
NONCE_TTL = 600  # seconds a sign-in message stays valid
SESSION_TTL = 24 * 3600  # seconds a signed-in session lasts
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
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (_hash(token), address, chain_id, browser, expires)
            )
        return token, expires

    def session(self, token: str | None) -> dict | None:
        if not token:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT address, chain_id, expires FROM sessions WHERE token_hash = ?", (_hash(token),)
            ).fetchone()
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


def expected_chain_id(ctx) -> int:
    """The chain the app is configured for: SIWE messages must name it."""
    if ctx.extras.get("chain_id"):
        return int(ctx.extras["chain_id"])
    try:
        chain = ctx.chain
    except MovieMinterError:
        raise
    except Exception as exc:  # chain client not configured / not available
        raise AuthError(
            "No blockchain is configured, so wallets cannot sign in.",
            hint="Set a chain preset or RPC URL in the Movie Minter settings.",
            status=503,
        ) from exc
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
    rpc = (
        ctx.settings.rpc_url
        or (ctx.settings.chain if ctx.settings.chain.startswith("http") else "")
        or (preset.rpc_url if preset else "")
    )
    return {
        "chain_id": chain_id,
        "chain_name": preset.title if preset else f"Chain {chain_id}",
        "rpc_urls": [rpc] if rpc else [],
        "native_currency": {
            "name": preset.currency if preset else "Ether",
            "symbol": preset.currency if preset else "ETH",
            "decimals": 18,
        },
        "explorer_url": preset.explorer if preset else "",
    }


def _siwe():
    with warnings.catch_warnings():  # the siwe grammar re-declares RFC 5234 core rules
        warnings.simplefilter("ignore")
        import siwe
    return siwe


def served_address(ctx, request: Request, domain: str, uri: str):
    """The configured address a sign-in message's `domain` names, checked with its `uri`.

    The domain must be one the app is served under (`ctx.served_hosts`: configuration, loopback
    names and the socket the connection arrived at), never whatever the request's Origin, Host or
    X-Forwarded-Host say: a message signed on a phishing site names that site, and sending that
    name as Host must not make it acceptable. The URI must be on the same host, with a scheme the
    address is served with."""
    from movieminter.app.security import SCOPE_KEY, how_to_add

    info = request.scope.get(SCOPE_KEY)
    server = info.server if info is not None else request.scope.get("server")
    proxied = bool(info and info.proxied)
    address = ctx.served_hosts.find(domain or "", server)
    if address is None:
        raise AuthError(
            f"The sign-in message names {domain!r}, which is not an address Movie Minter is served under.",
            hint="Sign in from the Movie Minter page itself, never from a link on another site. "
            + how_to_add(domain, in_a1111=proxied),
            status=403,
        )
    try:
        parts = urlsplit(str(uri))
        same_host = parts.netloc.lower() == domain.lower()
    except ValueError:
        same_host = False
    if not same_host or parts.scheme.lower() not in address.schemes():
        raise AuthError(
            f"The sign-in message's URI {str(uri)!r} does not belong to {domain!r}.",
            hint="Click Connect again to get a fresh message.",
            status=403,
        )
    return address


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
            exc.status = getattr(exc, "status", 503)  # no chain: the service is unavailable
            raise

    @router.get("/nonce")
    def nonce(
        request: Request,
        response: Response,
        address: str | None = None,
        chain_id: int | None = None,
        domain: str | None = None,
        uri: str | None = None,
    ):
        """A one-time nonce. With address/chain_id/domain/uri, also the EIP-4361 message to sign."""
        browser = browser_id(request, response)
        value, expires = auth_store(ctx).new_nonce(browser)
        out = {"nonce": value, "expires_at": _iso(expires), "statement": STATEMENT}
        if address:
            siwe = _siwe()
            from eth_utils import is_address, to_checksum_address

            from movieminter.app.security import SCOPE_KEY

            if not is_address(address):
                raise AuthError(f"{address!r} is not an Ethereum address.", hint="Reconnect your wallet and try again.")
            info = request.scope.get(SCOPE_KEY)
            domain = domain or (info.host if info is not None else request.headers.get("host", ""))
            served = served_address(ctx, request, domain, uri or f"{request.url.scheme}://{domain}/")
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
                    issued_at=_iso(time.time()),
                    expiration_time=_iso(expires),
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
    def verify(body: VerifyBody, request: Request, response: Response):
        """Check a signed EIP-4361 message and start a session for its address."""
        siwe = _siwe()
        try:
            msg = siwe.SiweMessage.from_message(body.message)
        except Exception as exc:
            raise AuthError(
                "The sign-in message is not a valid EIP-4361 message.",
                hint="Click Connect again to get a fresh message.",
            ) from exc
        served_address(ctx, request, msg.domain, msg.uri)  # from configuration, never from this request
        want_chain = expected_chain_id(ctx)
        if int(msg.chain_id) != want_chain:
            raise AuthError(
                f"The wallet signed for chain {msg.chain_id}, but this movie lives on chain {want_chain}.",
                hint="Switch your wallet to the right network and connect again.",
            )
        browser = request.cookies.get(BROWSER_COOKIE, "")
        if not auth_store(ctx).take_nonce(msg.nonce, browser):
            raise AuthError(
                "This sign-in request was already used, has expired, or came from another browser.",
                hint="Click Connect again to get a fresh message.",
                status=401,
            )
        try:
            msg.verify(body.signature, domain=msg.domain, nonce=msg.nonce)
        except siwe.ExpiredMessage as exc:
            raise AuthError(
                "The sign-in message has expired.", hint="Click Connect again and sign within 10 minutes.", status=401
            ) from exc
        except siwe.VerificationError as exc:
            raise AuthError(
                "The signature does not match the wallet address in the message.",
                hint="Sign with the account shown in your wallet, then try again.",
                status=401,
            ) from exc
        token, expires = auth_store(ctx).new_session(msg.address, int(msg.chain_id), browser)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=SESSION_TTL,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
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
