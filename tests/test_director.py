"""The director's flow in Chromium with the injected test wallet: validate a manifest (errors and
previews), pin it and create a lottery movie, then close the entries, draw, and read the verified
results; the activity table and the minters' "you won segment N" API follow the chain."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import EXAMPLE_MANIFEST

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def studio_world(tmp_path_factory):
    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.chain.anvil import Anvil
    from movieminter.chain.client import ChainClient
    from movieminter.config import Settings
    from movieminter.testing.a1111_double import install_fake_models, start_double
    from tests.fixtures_app import ServerThread
    from tests.fixtures_flows import DemoWorld

    root = tmp_path_factory.mktemp("studio")
    install_fake_models(root / "a1111")
    _double, a1111_url, stop_double = start_double(root / "a1111", frame_delay=0.0)
    with Anvil() as anvil:
        chain = ChainClient(anvil.url)
        chain = ChainClient(anvil.url, chain.deploy())
        ctx = AppContext(
            Settings(
                data_dir=root / "data",
                a1111_url=a1111_url,
                chain="local",
                rpc_url=anvil.url,
                contract_address=chain.contract_address,
            )
        )
        ctx.chain_id = 31337
        world = DemoWorld(
            anvil, chain, {}, "", root / "data", ctx, ServerThread(create_app(ctx, run_jobs=False)).start()
        )
        try:
            yield world
        finally:
            world.server.stop()
            stop_double()


def _rpc(chain, method, params):
    assert "error" not in chain.w3.provider.make_request(method, params)


def test_director_creates_and_draws_a_lottery(studio_world, chromium):
    from tests.fixtures_ui import shot

    chain = studio_world.chain
    director = chain.w3.eth.accounts[0]
    page = studio_world.open_page(chromium, "/studio/", account=0)
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_selector("text=Signed in as", timeout=30_000)

    # a broken manifest: every problem, with where and how to fix it
    broken = json.loads(EXAMPLE_MANIFEST.read_text())
    broken["movie"]["fps"] = -3
    page.fill("#mm-manifest", json.dumps(broken))
    page.click("#mm-validate")
    page.wait_for_selector("#mm-validation .mm-bad", timeout=30_000)
    assert "/movie/fps" in page.inner_text("#mm-validation")

    page.fill("#mm-manifest", EXAMPLE_MANIFEST.read_text())
    page.click("#mm-validate")
    page.wait_for_selector("#mm-validation .mm-good", timeout=30_000)
    assert "6 segments" in page.inner_text("#mm-validation")
    page.click("#mm-preview")  # keyframe stills through A1111 (the double)
    page.wait_for_selector("#mm-previews img", timeout=60_000)
    assert page.locator("#mm-previews img").count() >= 1
    assert page.evaluate("document.querySelector('#mm-previews img').naturalWidth") > 0

    page.select_option("#mm-mode", "lottery")
    page.fill("#mm-price", "0.002")
    page.fill("#mm-entry-hours", "0.5")
    shot(page, "studio-1-create.png")
    page.click("#mm-create-btn")
    page.wait_for_selector(".mm-new-movie-id", timeout=60_000)
    movie_id = int(page.inner_text(".mm-new-movie-id"))
    movie = chain.movie(movie_id)
    assert movie["mintMode"] == "lottery" and movie["ticketPrice"] == 2 * 10**15
    assert movie["director"] == director and movie["creatorBps"] == 3000 and movie["mintersBps"] == 5000

    # three minters enter from their tab (here: directly on chain), then the deadline passes
    entrants = chain.w3.eth.accounts[2:5]
    for who in entrants:
        chain.transact("enter", [movie_id], who)
    _rpc(chain, "evm_increaseTime", [1801])
    _rpc(chain, "evm_mine", [])

    page.click("#mm-load")
    page.wait_for_selector("text=3 entrant(s)", timeout=30_000)
    page.click("#mm-close")
    page.wait_for_selector("text=the draw uses block", timeout=60_000)
    _rpc(chain, "anvil_mine", ["0x5"])  # the committed block now exists
    page.click("#mm-draw")
    page.wait_for_selector(".mm-winners", timeout=60_000)
    assert "Verified" in page.inner_text("#mm-lottery")
    page.locator("#mm-lottery summary").click()
    assert "swap-or-not" in page.inner_text(".mm-explain")
    winners = [chain.call("winnerOf", movie_id, s) for s in range(6)]
    table = page.inner_text(".mm-winners")
    for w in winners[:3]:
        assert w in table and w in entrants
    rows = page.locator("#mm-segments tbody tr")
    assert rows.count() == 6
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('#mm-segments tbody tr'))
        .map(r => r.dataset.status).join() === 'won,won,won,open,open,open'""",
        timeout=30_000,
    )
    assert "entries closed with 3 entrants" in page.inner_text("#mm-events")
    shot(page, "studio-2-lottery-drawn.png")

    # optional: the director pre-pays the minters' storage gas (one transaction for 6 segments)
    block = chain.w3.eth.block_number
    page.click("#mm-prepare")
    page.wait_for_selector("text=Storage pre-paid for all 6 segments", timeout=60_000)
    txs = [
        tx
        for b in range(block + 1, chain.w3.eth.block_number + 1)
        for tx in chain.w3.eth.get_block(b, full_transactions=True)["transactions"]
    ]
    assert len(txs) == 1 and txs[0]["from"] == director
    assert chain.contract.decode_function_input(txs[0]["input"])[0].fn_name == "prepareSegments"

    # the minter tab's API: "you won segment N, mint before DATE"
    seg = winners.index(entrants[0])
    r = httpx.get(f"{studio_world.url}/api/v1/movies/{movie_id}/my-assignments", params={"address": entrants[0]}).json()
    [a] = r["assignments"]
    assert a["segment"] == seg and a["message"].startswith(f"You won segment {seg}: mint before ")
    assert a["deadline"] == chain.movie(movie_id)["claimDeadline"]
    page.context.close()


def test_allowlist_movie_from_the_studio(studio_world, chromium, tmp_path):
    """Allowlist mode: the CSV's Merkle root goes on chain with the movie; the proofs are pinned."""
    from movieminter.chain.merkle import StandardMerkleTree

    chain = studio_world.chain
    minter = chain.w3.eth.accounts[3]
    csv = tmp_path / "allow.csv"
    csv.write_text(f"address,segment\n{minter},0-1\n{chain.w3.eth.accounts[4]},5\n")
    page = studio_world.open_page(chromium, "/studio/", account=1)
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    page.fill("#mm-manifest", EXAMPLE_MANIFEST.read_text())
    page.select_option("#mm-mode", "allowlist")
    page.set_input_files("#mm-allowlist-file", str(csv))
    page.click("#mm-create-btn")
    page.wait_for_selector(".mm-new-movie-id", timeout=60_000)
    movie_id = int(page.inner_text(".mm-new-movie-id"))
    text = page.inner_text("#mm-create-out")
    assert "Allowlist of 3 addresses" in text
    proofs_cid = text.split("proofs at ")[1].split(".")[0].strip()
    dump = json.loads(studio_world.ctx.store.cat(proofs_cid))
    tree = StandardMerkleTree.load(dump)
    assert "0x" + tree.root.hex() == chain.movie(movie_id)["allowlistRoot"]
    proof = [bytes.fromhex(p[2:]) for p in dump["proofs"][f"{minter}:1"]]
    assert tree.verify([minter, 1], proof)
    # the contract accepts that proof for that minter and segment
    digest = "0x" + "11" * 32
    chain.transact("mintSegmentWithProof", [movie_id, 1, digest, digest, proof], minter)
    assert chain.segments(movie_id, 1, 1)[0]["status"] == "minted"
    page.context.close()
