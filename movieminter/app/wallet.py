"""Sign-In with Ethereum (EIP-4361): pairs the browser's wallet with an app session.

The browser never sends a key, only a signature: the server issues a one-time
nonce bound to this browser, prepares the EIP-4361 message with the `siwe`
package, and on /verify checks domain, URI, chain id, nonce, expiry and the
signature before it sets an HttpOnly, SameSite=Lax session cookie
(movieminter.app.routes_wallet).

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
from collections.abc import MutableMapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from movieminter.app.errors import ForeignDomain, NoChain
from movieminter.errors import MovieMinterError

NONCE_TTL = 600  # seconds a sign-in message stays valid
SESSION_TTL = 24 * 3600  # seconds a signed-in session lasts
STATEMENT = "Sign in to Movie Minter to claim, render and mint segments with this wallet."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def iso_time(ts: float) -> str:
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
        return {"address": row[0], "chain_id": row[1], "expires_at": iso_time(row[2])}

    def end_session(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._db.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))


def expected_chain_id(ctx) -> int:
    """The chain the app is configured for: SIWE messages must name it."""
    if ctx.chain_id:
        return int(ctx.chain_id)
    try:
        chain = ctx.chain
    except MovieMinterError:
        raise
    except Exception as exc:  # chain client not configured / not available
        raise NoChain(
            "No blockchain is configured, so wallets cannot sign in.",
            hint="Set a chain preset or RPC URL in the Movie Minter settings.",
        ) from exc
    return int(chain.chain_id)


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


def load_siwe():
    with warnings.catch_warnings():  # the siwe grammar re-declares RFC 5234 core rules
        warnings.simplefilter("ignore")
        import siwe
    return siwe


def served_address(ctx, scope: MutableMapping[str, Any], domain: str, uri: str):
    """The configured address a sign-in message's `domain` names, checked with its `uri`.

    The domain must be one the app is served under (`ctx.served_hosts`: configuration, loopback
    names and the socket the connection arrived at), never whatever the request's Origin, Host or
    X-Forwarded-Host say: a message signed on a phishing site names that site, and sending that
    name as Host must not make it acceptable. The URI must be on the same host, with a scheme the
    address is served with."""
    from movieminter.app.security import SCOPE_KEY, how_to_add

    info = scope.get(SCOPE_KEY)
    server = info.server if info is not None else scope.get("server")
    proxied = bool(info and info.proxied)
    address = ctx.served_hosts.find(domain or "", server)
    if address is None:
        raise ForeignDomain(
            f"The sign-in message names {domain!r}, which is not an address Movie Minter is served under.",
            hint="Sign in from the Movie Minter page itself, never from a link on another site. "
            + how_to_add(domain, in_a1111=proxied),
        )
    try:
        parts = urlsplit(str(uri))
        same_host = parts.netloc.lower() == domain.lower()
    except ValueError:
        same_host = False
    if not same_host or parts.scheme.lower() not in address.schemes():
        raise ForeignDomain(
            f"The sign-in message's URI {str(uri)!r} does not belong to {domain!r}.",
            hint="Click Connect again to get a fresh message.",
        )
    return address
