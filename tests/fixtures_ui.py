"""Fixtures for the minter tab, SIWE and the headless mint CLI.

`api_client` is a real app (movieminter.app.server.create_app when it exists,
else just the wallet/movies routers) driven over HTTP with a cookie jar.
"""

from __future__ import annotations

import pytest

# anvil's standard test mnemonic ("test test ... junk"), accounts 0..3. Test wallets only.
TEST_KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
]


def build_test_app(ctx):
    """The app as served, or (before the server lands) a FastAPI with our routers."""
    try:
        from movieminter.app.server import create_app
    except ModuleNotFoundError:
        from fastapi import FastAPI

        from movieminter.app import routes_movies, routes_wallet

        app = FastAPI()
        app.include_router(routes_wallet.build_router(ctx), prefix="/api/v1")
        app.include_router(routes_movies.build_router(ctx), prefix="/api/v1")
        return app
    return create_app(ctx)


@pytest.fixture
def ui_context(tmp_path):
    from movieminter.app.context import AppContext
    from movieminter.config import Settings

    ctx = AppContext(Settings(data_dir=tmp_path / "data"))
    ctx.extras["chain_id"] = 31337
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
