"""The community routes over HTTP on anvil (a SIWE session per wallet): what they prepare for the wallet, and
what they refuse before the wallet is asked (no vote left, a rejection without a reason, not the director)."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from tests import test_community
from tests.fixtures_chain import chain_now, digest, mine
from tests.test_community import EARLY, PRICE, season

community_session, env = test_community.community_session, test_community.env  # fixtures

BASE = "http://127.0.0.1"


@pytest.fixture
def app_for(env, anvil, tmp_path):
    """app_for(account index or None, community=True) -> a TestClient signed in as that anvil account."""
    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.config import Settings

    chain, com, _ = env
    clients = []

    def make(index: int | None, community: bool = True) -> TestClient:
        settings = Settings(
            data_dir=tmp_path / f"app{len(clients)}",
            rpc_url=chain.rpc_url,
            contract_address=chain.contract_address,
            community_address=com.contract_address if community else "",
        )
        client = TestClient(create_app(AppContext(settings, chain_id=31337), run_jobs=False, ui=False), base_url=BASE)
        client.__enter__()
        clients.append(client)
        client.get("/healthz")
        if index is not None:
            key = anvil.private_keys[index]
            address = Account.from_key(key).address
            query = {"address": address, "chain_id": 31337, "domain": "127.0.0.1", "uri": BASE + "/"}
            message = client.get("/api/v1/auth/nonce", params=query).json()["message"]
            signature = "0x" + Account.sign_message(encode_defunct(text=message), key).signature.hex().removeprefix(
                "0x"
            )
            r = client.post(
                "/api/v1/auth/verify",
                json={"message": message, "signature": signature},
                headers={"X-CSRF-Token": client.cookies.get("mm_csrf", ""), "Origin": BASE},
            )
            assert r.status_code == 200, r.text
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def post(client, path, body=None):
    return client.post(
        path, json=body or {}, headers={"X-CSRF-Token": client.cookies.get("mm_csrf", ""), "Origin": BASE}
    )


def send(chain, tx: dict) -> dict:
    """What the browser wallet does with a prepared transaction (anvil's unlocked account signs)."""
    h = chain.w3.eth.send_transaction({k: tx[k] for k in ("from", "to", "data", "value", "gas")})
    return chain.wait(h)


def test_without_a_community_contract_the_pages_show_nothing(app_for, env):
    chain, com, accounts = env
    _, movie = season(chain, com, accounts)
    client = app_for(1, community=False)
    assert client.get(f"/api/v1/community/movies/{movie}").json() == {"movie": movie, "community": False}
    assert client.get("/api/v1/community/mine").json() == {"movies": []}
    # the Studio's ballots section and the tab's takes box stay hidden, with no error
    assert client.get(f"/api/v1/takes/movies/{movie}/ballots").json()["community"] is False
    assert client.get(f"/api/v1/takes/movies/{movie}/segments/0").json() == {"ballot": None}
    r = post(client, "/api/v1/community/collectives/1/pass/tx")
    assert r.status_code == 404 and r.json()["detail"]["error"] == "NoCommunityHere"


def test_an_unknown_ballot_collective_or_movie_is_a_404_that_names_it(app_for, env):
    anyone = app_for(None)
    ballot = anyone.get("/api/v1/community/ballots/99").json()["detail"]
    assert ballot["error"] == "NotFound" and ballot["message"] == "Ballot 99 does not exist."
    collective = anyone.get("/api/v1/community/collectives/99/pass")  # the revert's own explanation
    assert collective.status_code == 404 and collective.json()["detail"]["message"] == "collective 99 does not exist"
    credits = anyone.get("/api/v1/movies/99/credits")
    assert credits.status_code == 404 and credits.json()["detail"]["message"] == "movie 99 does not exist"


def test_pass_offer_and_the_prepared_purchase_are_exact(app_for, env):
    chain, com, accounts = env
    collective, movie = season(chain, com, accounts, early_cap=1)
    anyone = app_for(None)
    offer = anyone.get(f"/api/v1/community/collectives/{collective}/pass").json()
    assert offer["price_wei"] == str(PRICE) and offer["early_price_wei"] == str(EARLY)
    assert (offer["early_left"], offer["next_price_wei"], offer["next_early"]) == (1, str(EARLY), True)
    assert post(anyone, f"/api/v1/community/collectives/{collective}/pass/tx").status_code == 401  # not signed in
    assert anyone.get("/api/v1/community/collectives/99/pass").status_code == 404
    fan = app_for(1)
    prepared = post(fan, f"/api/v1/community/collectives/{collective}/pass/tx").json()
    assert int(prepared["tx"]["value"], 16) == EARLY and prepared["tx"]["from"] == accounts[1]
    send(chain, prepared["tx"])
    after = fan.get(f"/api/v1/community/collectives/{collective}/pass").json()
    assert after["passes"] == [str(collective << 32)] and after["next_price_wei"] == str(PRICE)
    assert after["early_left"] == 0
    assert fan.get("/api/v1/community/mine").json()["movies"][0]["movie_id"] == movie


def test_a_vote_uses_each_pass_once_then_the_ticket_is_refused(app_for, env):
    chain, com, accounts = env
    collective, movie = season(chain, com, accounts)
    com.buy_pass(collective, accounts[1])
    chain.transact("buyTicket", [movie], accounts[1], value=10**15)  # a pass holder's ticket does not vote
    now = chain_now(chain)
    ballot = com.open_ballot(movie, accounts[9], takes=False, options=2, start=now + 100, end=now + 1000)
    fan = app_for(1)
    r = post(fan, f"/api/v1/community/ballots/{ballot}/vote/tx", {"option": 0})
    assert r.status_code == 409 and "not taking votes" in r.json()["detail"]["message"]
    mine(chain, seconds=200)
    r = post(fan, f"/api/v1/community/ballots/{ballot}/vote/tx", {"option": 5})
    assert r.status_code == 400 and r.json()["detail"]["message"] == f"Ballot {ballot} has no option 6."
    assert post(fan, f"/api/v1/community/ballots/{ballot}/vote/tx", {"option": 8}).status_code == 422  # > 8 options
    prepared = post(fan, f"/api/v1/community/ballots/{ballot}/vote/tx", {"option": 1}).json()
    assert prepared["pass_id"] == str(collective << 32)
    send(chain, prepared["tx"])
    view = app_for(None).get(f"/api/v1/community/ballots/{ballot}").json()
    assert [o["votes"] for o in view["options"]] == [0, 1] and view["phase"] == "voting"
    r = post(fan, f"/api/v1/community/ballots/{ballot}/vote/tx", {"option": 0})
    assert r.status_code == 409 and r.json()["detail"]["message"] == "You have no vote left in this ballot."
    assert com.call("passVoted", ballot, collective << 32) and not com.call("ticketVoted", ballot, accounts[1])


def test_review_refusals_happen_before_the_wallet(app_for, env):
    chain, com, accounts = env
    _, movie = season(chain, com, accounts)
    chain.transact("claim", [movie, 0], accounts[2])
    chain.transact("mintSegment", [movie, 0, digest("v"), digest("m")], accounts[2])
    minter, director = app_for(2), app_for(9)
    path = f"/api/v1/community/movies/{movie}/segments/0"
    r = post(minter, path + "/submit/tx")
    assert r.status_code == 409 and "does not require approval" in r.json()["detail"]["message"]
    send(chain, post(director, f"/api/v1/community/movies/{movie}/approval/tx", {"hours": 24}).json()["tx"])
    assert com.call("approvalWindow", movie) == 86_400
    r = post(director, path + "/review/tx", {"approve": True})
    assert r.status_code == 409 and "not waiting for review" in r.json()["detail"]["message"]
    send(chain, post(minter, path + "/submit/tx").json()["tx"])
    r = post(minter, path + "/review/tx", {"approve": True})
    assert r.status_code == 409 and "neither" in r.json()["detail"]["message"]
    r = post(director, path + "/review/tx", {"approve": False, "reason": "   "})
    assert r.status_code == 400 and r.json()["detail"]["message"] == "Say why you reject the segment."
    send(chain, post(director, path + "/review/tx", {"approve": False, "reason": "off  model"}).json()["tx"])
    rows = director.get(f"/api/v1/community/movies/{movie}/reviews").json()
    # The rejected version is burnt and the segment open again; the reason stays readable.
    assert rows["can_review"] and rows["segments"][0]["state"] == "reopened"
    assert rows["segments"][0]["holder"] is None and chain.segments(movie, 0, 1)[0]["status"] == "open"
    assert rows["segments"][0]["rejected_because"] == "off model"  # whitespace tidied, as stored on chain
    assert not minter.get(f"/api/v1/community/movies/{movie}/reviews").json()["can_review"]
