"""Issue 17: a season pass counts as a ticket in the app: the ticket view and the Watch routes accept a holder of a
pass of the movie's collective (Community.canWatch), over HTTP with a SIWE session."""

from __future__ import annotations

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from tests.fixtures_chain import digest
from tests.fixtures_ui import TEST_KEYS
from tests.test_community import community_session, env, season  # noqa: F401 (fixtures)
from tests.test_wallet_siwe import get_message, sign, verify


class Client(TestClient):
    def csrf_headers(self) -> dict:
        token = self.cookies.get("mm_csrf")
        return {"X-CSRF-Token": token} if token else {}


@pytest.fixture
def app_for(env, tmp_path):  # noqa: F811
    """An app on the test chain, with or without the Community contract configured."""
    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.config import Settings

    chain, com, _ = env
    clients = []

    def make(with_community: bool = True) -> Client:
        settings = Settings(
            data_dir=tmp_path / f"data-{len(clients)}",
            chain="local",
            rpc_url=chain.rpc_url,
            contract_address=chain.contract_address,
            community_address=com.contract_address if with_community else "",
        )
        ctx = AppContext(settings, chain_id=31337)
        c = Client(create_app(ctx, run_jobs=False, ui=False), base_url="http://testserver")
        c.__enter__()
        c.get("/api/v1/auth/me")
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def _sign_in(client: Client, key: str) -> str:
    address = Account.from_key(key).address
    msg = get_message(client, address)
    assert verify(client, msg["message"], sign(msg["message"], key)).status_code == 200
    return address


def test_a_pass_holder_has_a_ticket_in_the_app(env, app_for):  # noqa: F811
    chain, com, accounts = env
    cid, movie = season(chain, com, accounts)
    holder_key, stranger_key = TEST_KEYS[1], TEST_KEYS[2]
    holder, stranger = Account.from_key(holder_key).address, Account.from_key(stranger_key).address
    assert (holder, stranger) == (accounts[1], accounts[2])
    com.buy_pass(cid, holder)
    assert not chain.call("hasTicket", movie, holder)  # no MovieMinter ticket: the pass is what counts

    app = app_for()
    info = app.get(f"/api/v1/movies/{movie}/ticket", params={"address": holder}).json()
    assert info["has_ticket"] is True
    info = app.get(f"/api/v1/movies/{movie}/ticket", params={"address": stranger}).json()
    assert info["has_ticket"] is False
    _sign_in(app, holder_key)
    watch = app.get(f"/api/v1/movies/{movie}/watch")
    # Past the ticket check (this test movie's manifest is not pinned, so the route stops after it).
    assert watch.status_code != 402 and watch.json()["detail"]["error"] != "NoTicket", watch.text

    other = app_for()
    _sign_in(other, stranger_key)
    refused = other.get(f"/api/v1/movies/{movie}/watch")
    assert refused.status_code == 402 and refused.json()["detail"]["error"] == "NoTicket"

    # Without a Community contract configured the app knows only MovieMinter tickets.
    plain = app_for(with_community=False)
    assert plain.get(f"/api/v1/movies/{movie}/ticket", params={"address": holder}).json()["has_ticket"] is False


def test_revenue_view_lists_held_back_segments_apart_and_skips_rejected_ones(env, app_for):  # noqa: F811
    chain, com, accounts = env
    _, movie = season(chain, com, accounts, segments=3)
    director, minter = accounts[9], accounts[4]
    com.set_approval_window(movie, 3600, director)
    for seg in range(3):
        chain.transact("mintSegment", [movie, seg, digest(f"v{seg}"), digest(f"m{seg}")], minter)
        com.submit_segment(movie, seg, minter)
    chain.transact("buyTicket", [movie], accounts[1], value=10**15)
    com.review_segment(movie, 0, True, director)
    com.review_segment(movie, 1, False, director, "off model")  # burnt: no longer the minter's
    share = chain.movie(movie)["revenuePerSegment"]
    rev = app_for().get("/api/v1/revenue", params={"address": minter}).json()
    assert [(c["segment"], int(c["claimable_wei"])) for c in rev["segment_claims"]] == [(0, share)]
    assert [(c["segment"], c["review"]) for c in rev["segments_held_back"]] == [(2, "pending")]
    assert int(rev["total_wei"]) == share
    # What the page claims (segment_claims) goes through; the held-back token would revert.
    chain.transact("claimSegmentRevenue", [[int(c["token_id"]) for c in rev["segment_claims"]]], minter)
