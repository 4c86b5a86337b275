"""Chain fixtures shared by every subsystem's tests.

- `anvil` (session): one local chain per test worker (xdist-safe: a free port each).
- `chain_session` (session): a ChainClient with MovieMinter deployed once on it.
- `deployed` (function): that client, isolated per test with evm_snapshot / evm_revert (fast: no redeploy).

Helpers: `create_movie(client, **fields) -> movie_id`, `mine(client, blocks=1, seconds=0)`,
`chain_now(client)`. Anvil's accounts are `anvil.accounts` (0 deploys; use 1.. as people).
Time only moves forward across tests (anvil keeps its time offset after a revert): compute deadlines
from `chain_now(client)`, never from the wall clock.
"""

from __future__ import annotations

import hashlib

import pytest

from movieminter.chain.anvil import Anvil
from movieminter.chain.client import ChainClient, MovieConfig


def digest(label: str | bytes) -> bytes:
    """A deterministic 32-byte digest for test data."""
    return hashlib.sha256(label.encode() if isinstance(label, str) else label).digest()


def chain_now(client: ChainClient) -> int:
    return client.w3.eth.get_block("latest")["timestamp"]


def mine(client: ChainClient, blocks: int = 1, seconds: int = 0) -> None:
    """Moves the chain `seconds` forward, then mines `blocks` blocks."""
    if seconds:
        client.w3.provider.make_request("evm_increaseTime", [seconds])
    if blocks:
        client.w3.provider.make_request("anvil_mine", [hex(blocks)])


def create_movie(client: ChainClient, sender: str | None = None, **fields) -> int:
    """Creates a movie with sensible defaults (lottery, 6 segments, deadline in one hour); returns its id."""
    accounts = client.w3.eth.accounts
    sender = sender or accounts[0]
    defaults = dict(
        manifest_digest=digest("manifest"),
        segment_count=6,
        creator=accounts[8],
        director=accounts[9],
        mint_mode="lottery",
        ticket_price=10**15,
    )
    defaults.update(fields)
    if defaults["mint_mode"] == "lottery" and not defaults.get("entry_deadline"):
        defaults["entry_deadline"] = chain_now(client) + 3600
    receipt = client.transact("createMovie", [MovieConfig(**defaults).as_tuple()], sender)
    return client.movie_id_from_receipt(receipt)


@pytest.fixture(scope="session")
def anvil():
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def chain_session(anvil) -> ChainClient:
    client = ChainClient(anvil.url)
    client.deploy()
    return client


@pytest.fixture
def deployed(chain_session):
    """The session's deployed ChainClient; every change a test makes is rolled back after it."""
    w3 = chain_session.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        yield chain_session
    finally:
        w3.provider.make_request("evm_revert", [snapshot])
