"""Fixtures for the minter tab, SIWE and the headless mint CLI.

`api_client` is a real app (movieminter.app.server.create_app when it exists,
else just the wallet/movies routers) driven over HTTP with a cookie jar.
"""

from __future__ import annotations

import json as _json
import os as _os
import shutil as _shutil
from pathlib import Path as _Path

import pytest

# anvil's standard test mnemonic ("test test ... junk"), accounts 0..3. Test wallets only.
TEST_KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
]


def build_test_app(ctx):
    """The app as served."""
    from movieminter.app.server import create_app

    return create_app(ctx)


@pytest.fixture
def ui_context(tmp_path):
    from movieminter.app.context import AppContext
    from movieminter.config import Settings

    ctx = AppContext(Settings(data_dir=tmp_path / "data"))
    ctx.chain_id = 31337
    return ctx


@pytest.fixture
def api_client_factory(ui_context):
    from fastapi.testclient import TestClient

    app = build_test_app(ui_context)
    clients = []

    class Client(TestClient):
        def csrf_headers(self) -> dict:
            token = self.cookies.get("mm_csrf")
            return {"X-CSRF-Token": token} if token else {}

    def make():
        c = Client(app, base_url="http://testserver")
        c.__enter__()
        c.get("/api/v1/auth/me")  # picks up whatever cookies the app hands a new browser
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def api_client(api_client_factory):
    return api_client_factory()


# -- the whole stack for browser tests: anvil + contract, A1111 double, local IPFS, the app -----

ROOT = _Path(__file__).resolve().parent.parent
TEST_WALLET_JS = ROOT / "movieminter" / "testing" / "wallet.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"


def feature_manifest(base: dict, segments: int) -> dict:
    """The example film stretched to `segments` segments (a feature: 1,080)."""
    out = _json.loads(_json.dumps(base))
    proto = base["segments"]
    out["segments"] = []
    start = 0
    for i in range(segments):
        seg = _json.loads(_json.dumps(proto[i % len(proto)]))
        seg.update(index=i, start_frame=start, title=f"{seg.get('title', 'Scene')} ({i})")
        start += seg["frame_count"]
        out["segments"].append(seg)
    return out


class MinterStack:
    """A running app (uvicorn thread) on a fresh contract, with helpers for tests."""

    def __init__(self, anvil, chain, ctx, server, double):
        self.anvil, self.chain, self.ctx, self.server, self.double = anvil, chain, ctx, server, double
        self.url = server.url

    def publish(
        self,
        manifest: dict,
        *,
        mode: str = "open",
        claim_window: int = 3600,
        entry_deadline: int = 0,
        allowlist_root: bytes = b"\x00" * 32,
    ) -> int:
        from movieminter.app.director import pin_manifest
        from movieminter.chain.client import MovieConfig

        pinned = pin_manifest(self.ctx.store, manifest)
        acc = self.chain.w3.eth.accounts
        receipt = self.chain.transact(
            "createMovie",
            [
                MovieConfig(
                    manifest_digest=pinned["digest"],
                    segment_count=len(manifest["segments"]),
                    creator=acc[8],
                    director=acc[9],
                    mint_mode=mode,
                    claim_window=claim_window,
                    entry_deadline=entry_deadline,
                    allowlist_root=allowlist_root,
                ).as_tuple()
            ],
            acc[0],
        )
        self.manifest_cid = pinned["cid"]
        return self.chain.movie_id_from_receipt(receipt)

    def open_page(self, browser, account: int = 1, *, start_chain: int | None = None, known: list | None = None):
        """A new browser profile with the test wallet (anvil account `account`) announced via EIP-6963."""
        cfg = {
            "rpcUrl": self.anvil.url,
            "accounts": [self.chain.w3.eth.accounts[account]],
            "chainId": 31337,
            "startChainId": start_chain or 31337,
            "knownChains": known or [start_chain or 31337],
        }
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(script=f"window.__MM_TEST_WALLET__ = {_json.dumps(cfg)};")
        context.add_init_script(path=str(TEST_WALLET_JS))
        page = context.new_page()
        page.goto(self.url + "/")
        page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
        return page


def shot(page, name: str, locator=None) -> _Path:
    """Save a screenshot as a test artifact (tests/artifacts/). With
    MM_UPDATE_SCREENSHOTS=1 it also refreshes docs/screenshots/, which the
    guides link; a normal test run leaves the committed images alone."""
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    out = artifacts / name
    page.wait_for_timeout(150)  # let transitions settle
    (locator or page).screenshot(path=str(out), **({} if locator else {"full_page": True}))
    if _os.environ.get("MM_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        _shutil.copy(out, SCREENSHOTS / name)
    return out


@pytest.fixture
def minter_stack(tmp_path, anvil, a1111, serve_app):
    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.chain.client import ChainClient
    from movieminter.config import Settings

    double, a1111_url = a1111
    chain = ChainClient(anvil.url)
    address = chain.deploy()
    chain = ChainClient(anvil.url, address)
    ctx = AppContext(
        Settings(
            data_dir=tmp_path / "app", a1111_url=a1111_url, chain="local", rpc_url=anvil.url, contract_address=address
        )
    )
    ctx.chain_id = 31337
    ctx.sse_heartbeat = 0.5
    server = serve_app(create_app(ctx))
    return MinterStack(anvil, chain, ctx, server, double)
