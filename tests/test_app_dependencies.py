"""The app when what it depends on is missing, as inside A1111 with default settings: no chain
answers at the RPC URL (no anvil running) and no contract address is set. Every route answers a
JSON error saying what is missing and where to set it (503), never a 500, and every page loads:
the pages' own assets (gradio's static files too) resolve, and the API calls they make at load
answer with that explanation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from movieminter.app import server
from movieminter.app.context import AppContext
from movieminter.config import Settings
from tests.conftest import free_port
from tests.fixtures_app import CONTRACT, WALLET

TX_HASH = "0x" + "1" * 64
SETTINGS_SECTION = "Settings > Movie Minter"


def client_for(tmp_path, *, ui: bool = False, **settings) -> TestClient:
    ctx = AppContext(Settings(data_dir=tmp_path / "data", **settings))
    return TestClient(server.create_app(ctx, ui=ui, run_jobs=False), raise_server_exceptions=False)


def dead_rpc() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def assert_explains(r, message: str, *setting_names: str) -> None:
    """A 503 whose JSON says what is missing, and whose hint says where to set it."""
    assert r.status_code == 503, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert detail["error"] == "ChainUnavailable" and message in detail["message"], detail
    assert SETTINGS_SECTION in detail["hint"], detail
    for name in setting_names:
        assert name in detail["hint"], detail


# Each route the Minter tab, the Director studio and the Watch page call, with what it needs.
CHAIN_ROUTES = [
    ("GET", "/api/v1/auth/config", None),
    ("GET", f"/api/v1/auth/nonce?address={WALLET}", None),
    ("GET", "/api/v1/movies/open?ref=1", None),
    ("GET", "/api/v1/movies/1", None),
    ("GET", "/api/v1/movies/1/segments", None),
    ("GET", "/api/v1/movies/1/segments/0", None),
    ("GET", "/api/v1/movies/1/segments/0/thumb", None),
    ("GET", f"/api/v1/movies/1/receipt/{TX_HASH}", None),
    ("GET", f"/api/v1/movies/1/my-assignments?address={WALLET}", None),
    ("POST", "/api/v1/jobs", {"movie_id": 1, "segment": 0, "wallet": WALLET}),
    ("GET", f"/api/v1/movies/1/ticket?address={WALLET}", None),
    ("POST", "/api/v1/movies/1/ticket/tx", {"sender": WALLET}),
    ("GET", "/api/v1/movies/1/chapters.vtt", None),
    ("GET", f"/api/v1/revenue?address={WALLET}", None),
    ("POST", "/api/v1/revenue/withdraw/tx", {"sender": WALLET}),
    ("GET", f"/api/v1/tx/{TX_HASH}", None),
    ("GET", "/api/v1/director/movies/1/lottery", None),
    ("GET", "/api/v1/director/movies/1/activity", None),
    ("POST", "/api/v1/director/movies/1/lottery/close/tx", {"sender": WALLET}),
]


def call(c: TestClient, method: str, path: str, body):
    if method == "GET":
        return c.get(path)
    return c.request(method, path, json=body, headers={"X-CSRF-Token": c.cookies["mm_csrf"]})


def test_auth_config_without_a_reachable_chain_says_which_setting(tmp_path):
    rpc = dead_rpc()
    with client_for(tmp_path, chain=rpc) as c:
        r = c.get("/api/v1/auth/config")
    assert_explains(
        r, f"cannot reach the chain at {rpc}", "MOVIEMINTER_CHAIN", "MOVIEMINTER_RPC_URL", "movieminter chain anvil"
    )


def test_every_chain_route_answers_503_when_the_rpc_is_down(tmp_path):
    with client_for(tmp_path, chain=dead_rpc(), contract_address=CONTRACT) as c:
        c.get("/healthz")
        for method, path, body in CHAIN_ROUTES:
            assert_explains(call(c, method, path, body), "cannot reach the chain", "RPC URL")
        # What does not need the chain still works.
        assert c.get("/api/v1/movies/recent").json() == {"movies": []}
        assert c.get("/api/v1/auth/me").json()["authenticated"] is False
        assert c.get("/api/v1/jobs").status_code == 200


def test_no_contract_address_is_explained_even_with_the_chain_up(tmp_path, anvil):
    with client_for(tmp_path, chain=anvil.url) as c:
        c.get("/healthz")
        assert c.get("/api/v1/auth/config").json()["chain_id"] == 31337  # the wallet can still connect
        for method, path, body in CHAIN_ROUTES:
            if path.startswith(("/api/v1/auth/", "/api/v1/tx/", "/api/v1/movies/1/receipt/")):
                continue  # these need no contract
            assert_explains(
                call(c, method, path, body),
                "no MovieMinter contract address is configured",
                "MOVIEMINTER_CONTRACT_ADDRESS",
            )


def test_an_invalid_contract_address_is_explained(tmp_path):
    with client_for(tmp_path, chain=dead_rpc(), contract_address="0x1234") as c:
        assert_explains(c.get("/api/v1/movies/1"), "'0x1234' is not an address", "MOVIEMINTER_CONTRACT_ADDRESS")


def test_no_route_answers_500_with_the_chain_down(tmp_path):
    """Every route of the REST API, with plausible arguments, for both missing pieces."""
    fill = {
        "movie_id": "1",
        "index": "0",
        "job_id": "1",
        "k": "0",
        "tx_hash": TX_HASH,
        "action": "close",
        "key": "abc",
        "segment": "0",
        "name": "x.png",
        "collective_id": "1",
        "ballot_id": "1",
    }
    body = {
        "sender": WALLET,
        "movie_id": 1,
        "segment": 0,
        "wallet": WALLET,
        "action": "enter",
        "tx_hash": TX_HASH,
        "token_ids": ["1"],
        "message": "x",
        "signature": "0x",
        "csv": f"{WALLET},0",
    }
    for settings in ({"chain": dead_rpc(), "contract_address": CONTRACT}, {"chain": dead_rpc()}):
        with client_for(tmp_path, **settings) as c:
            c.get("/healthz")
            paths = c.get("/api/v1/openapi.json").json()["paths"]
            assert len(paths) > 30
            for template, ops in paths.items():
                path = re.sub(r"\{(\w+)\}", lambda m: fill[m.group(1)], template)
                for method in ops:
                    params = {"address": WALLET, "ref": "1", "job": 1}
                    r = c.request(
                        method.upper(),
                        path,
                        params=params,
                        json=None if method == "get" else body,
                        headers={"X-CSRF-Token": c.cookies["mm_csrf"]},
                    )
                    assert r.status_code != 500, (method, path, r.text)
                    if r.status_code >= 500:
                        assert_explains(r, "")


# -- pages -------------------------------------------------------------------------------------
# The API calls each page makes while it loads (static/minter.js mount, wallet.js restore,
# studio.js / watch.js with ?movie=).
PAGES = {
    "/": ["/api/v1/auth/config", "/api/v1/movies/recent", "/api/v1/auth/me", "/api/v1/ux/catalog"],
    "/studio/": ["/api/v1/auth/me"],
    "/studio/?movie=1": ["/api/v1/auth/me", "/api/v1/director/movies/1/activity", "/api/v1/director/movies/1/lottery"],
    "/watch/?movie=1": ["/api/v1/auth/me", "/api/v1/movies/1/ticket"],
    "/jobs/": [],
}


def page_assets(c: TestClient, page: str, html: str) -> set[str]:
    """What a browser fetches for a gradio page besides the API: the page's links and scripts, the
    theme (with its fonts) and gradio's iframeResizer, resolved like a browser resolves them."""
    from urllib.parse import urljoin

    base = urljoin("http://testserver" + page, re.search(r'<base href="([^"]*)"', html).group(1))
    root = re.search(r'"root":\s*"([^"]*)"', html).group(1).rstrip("/")
    urls = {urljoin(base, u) for u in re.findall(r'<(?:link|script)[^>]+(?:href|src)="([^"#]+)"', html)}
    urls.add(root + "/static/js/iframeResizer.contentWindow.min.js")  # added by index.html's inline script
    theme = root + "/theme.css"
    urls.add(theme)
    css = c.get(theme.removeprefix("http://testserver")).text
    urls |= {urljoin(theme, u) for u in re.findall(r"url\('([^']+)'\)", css) if not u.startswith("data:")}
    return {u.removeprefix("http://testserver") for u in urls if u.startswith("http://testserver")}


def test_pages_load_with_the_chain_down_and_their_calls_explain_it(tmp_path):
    with client_for(tmp_path, ui=True, chain=dead_rpc()) as c:
        for page, calls in PAGES.items():
            r = c.get(page)
            assert r.status_code == 200 and "gradio_config" in r.text, (page, r.status_code)
            assets = page_assets(c, page, r.text)
            assert any("iframeResizer" in a for a in assets) and any(a.endswith(".woff2") for a in assets)
            assert any(a.endswith("/manifest.json") for a in assets)
            for asset in sorted(assets):
                assert c.get(asset).status_code == 200, (page, asset)
            for path in calls:
                r = c.get(path)
                assert r.status_code < 500 or r.status_code == 503, (page, path, r.status_code, r.text)
                if r.status_code >= 400:
                    assert_explains(r, "")


def test_no_route_answers_500_with_ipfs_and_a1111_down(tmp_path, deployed):
    """The chain answers and a movie is published, but the IPFS endpoint (a Kubo nobody runs) and the
    A1111 API are down: every route explains (4xx, or 502/503 with a hint), none answers 500."""
    from movieminter.chain.client import MovieConfig

    acc = deployed.w3.eth.accounts
    deployed.transact(
        "createMovie",
        [
            MovieConfig(
                manifest_digest="0x" + "22" * 32,
                segment_count=6,
                creator=acc[8],
                director=acc[9],
                mint_mode="open",
                claim_window=3600,
            ).as_tuple()
        ],
        acc[0],
    )
    fill = {
        "movie_id": "1",
        "index": "0",
        "job_id": "1",
        "k": "0",
        "tx_hash": TX_HASH,
        "action": "close",
        "key": "abc",
        "segment": "0",
        "name": "x.png",
        "collective_id": "1",
        "ballot_id": "1",
    }
    body = {
        "sender": WALLET,
        "movie_id": 1,
        "segment": 0,
        "wallet": WALLET,
        "action": "enter",
        "tx_hash": TX_HASH,
        "token_ids": ["1"],
        "message": "x",
        "signature": "0x",
        "csv": f"{WALLET},0",
    }
    explained = []
    with client_for(
        tmp_path,
        chain=deployed.rpc_url,
        contract_address=deployed.contract_address,
        ipfs_backend="kubo",
        ipfs_endpoint=dead_rpc(),
        a1111_url=dead_rpc(),
    ) as c:
        c.get("/healthz")
        for template, ops in c.get("/api/v1/openapi.json").json()["paths"].items():
            path = re.sub(r"\{(\w+)\}", lambda m: fill[m.group(1)], template)
            for method in ops:
                r = c.request(
                    method.upper(),
                    path,
                    params={"address": WALLET, "ref": "1", "job": 1},
                    json=None if method == "get" else body,
                    headers={"X-CSRF-Token": c.cookies["mm_csrf"]},
                )
                assert r.status_code != 500, (method, path, r.text)
                if r.status_code >= 500:
                    detail = r.json()["detail"]
                    assert detail["message"] and detail["hint"], (method, path, detail)
                    explained.append((path, detail["message"], detail["hint"]))
    movie = [e for e in explained if e[0] == "/api/v1/movies/1"]
    assert movie and "not available from IPFS" in movie[0][1] and "MOVIEMINTER_IPFS_ENDPOINT" in movie[0][2], explained
