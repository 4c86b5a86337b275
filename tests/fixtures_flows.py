"""Fixtures for the director / viewer flows and the demo.

`demo_world` runs the real `movieminter demo --no-serve` command once per test
module, against an anvil the fixture owns (so the chain can be inspected after
the command exits), then serves the app on the demo's data folder. Tests that
use it see exactly what a newcomer's `./mm demo` leaves behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class DemoWorld:
    anvil: object
    chain: object
    summary: dict
    output: str
    data_dir: Path
    ctx: object = None
    server: object = None

    @property
    def url(self) -> str:
        return self.server.url

    def open_page(self, browser, path: str, account: int):
        """A fresh browser profile on `path` with the injected test wallet for anvil account `account`."""
        from tests.fixtures_ui import TEST_WALLET_JS

        cfg = {
            "rpcUrl": self.anvil.url,
            "accounts": [self.chain.w3.eth.accounts[account]],
            "chainId": 31337,
            "startChainId": 31337,
            "knownChains": [31337],
        }
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.add_init_script(script=f"window.__MM_TEST_WALLET__ = {json.dumps(cfg)};")
        context.add_init_script(path=str(TEST_WALLET_JS))
        page = context.new_page()
        page.goto(self.url + path)
        page.wait_for_function("document.querySelector('.mm-page[data-ready]')", timeout=60_000)
        return page


def run_demo_command(data_dir: Path, anvil_url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "movieminter",
            "demo",
            "--no-serve",
            "--data-dir",
            str(data_dir),
            "--anvil-url",
            anvil_url,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory):
    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.chain.anvil import Anvil
    from movieminter.chain.client import ChainClient
    from movieminter.config import Settings
    from tests.fixtures_app import ServerThread

    data_dir = tmp_path_factory.mktemp("demo") / "data"
    with Anvil() as anvil:
        proc = run_demo_command(data_dir, anvil.url)
        assert proc.returncode == 0, f"demo failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        summary = json.loads((data_dir / "demo-summary.json").read_text())
        chain = ChainClient(anvil.url, summary["contract"])
        world = DemoWorld(anvil, chain, summary, proc.stdout + proc.stderr, data_dir)
        ctx = AppContext(
            Settings(data_dir=data_dir, chain="local", rpc_url=anvil.url, contract_address=summary["contract"])
        )
        ctx.chain_id = 31337
        world.ctx = ctx
        from movieminter.app.demo_cast import with_gateway

        world.server = ServerThread(with_gateway(create_app(ctx, run_jobs=False), ctx.store)).start()
        try:
            yield world
        finally:
            world.server.stop()
