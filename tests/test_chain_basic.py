"""MovieMinter on anvil: the happy path of each mint mode through ChainClient."""

from __future__ import annotations

import pytest

from movieminter.chain.client import ChainError, MovieConfig
from tests.fixtures_chain import chain_now, create_movie, digest, mine


def test_open_claim_mint_and_read_back(deployed):
    c = deployed
    alice = c.w3.eth.accounts[1]
    movie_id = create_movie(c, mint_mode="open", segment_count=3, claim_window=600)
    info = c.movie(movie_id)
    assert info["mintMode"] == "open" and info["segmentCount"] == 3
    receipt = c.transact("claim", [movie_id, 1], alice)
    assert [e["event"] for e in c.events(receipt)] == ["SegmentClaimed"]
    segs = c.segments(movie_id)
    assert [s["status"] for s in segs] == ["open", "claimed", "open"]
    assert segs[1]["account"] == alice and segs[1]["deadline"] > chain_now(c)

    c.transact("mintSegment", [movie_id, 1, digest("video"), digest("meta")], alice)
    seg = c.segments(movie_id, 1, 1)[0]
    assert seg["status"] == "minted" and seg["account"] == alice
    assert seg["contentDigest"] == "0x" + digest("video").hex()
    token = c.token_id(movie_id, 1)
    assert c.call("ownerOf", token) == alice
    assert c.call("tokenURI", token).startswith("ipfs://bafybei")

    with pytest.raises(ChainError) as err:
        c.build_tx("mintSegment", [movie_id, 1, digest("video"), digest("meta")], alice)
    assert err.value.error == "AlreadyMinted" and "already minted" in str(err.value)


def test_lottery_round_trip(deployed):
    c = deployed
    people = c.w3.eth.accounts[1:5]
    movie_id = create_movie(c, segment_count=6, claim_window=3600)
    for p in people:
        c.transact("enter", [movie_id], p)
    mine(c, seconds=3601)
    c.transact("closeEntries", [movie_id], people[0])
    mine(c, blocks=5)
    c.transact("draw", [movie_id], people[0])
    segs = c.segments(movie_id)
    winners = [s["account"] for s in segs if s["status"] == "won"]
    assert sorted(winners) == sorted(people)  # 4 entrants, 6 segments: everyone wins exactly one
    assert [s["status"] for s in segs[4:]] == ["open", "open"]
    first = segs[0]["account"]
    c.transact("mintSegment", [movie_id, 0, digest("v0"), digest("m0")], first)
    seg = c.segments(movie_id, 0, 1)[0]
    assert (seg["status"], seg["account"]) == ("minted", first)


def test_build_tx_is_unsigned_and_estimated(deployed):
    c = deployed
    movie_id = create_movie(c, mint_mode="open")
    tx = c.build_tx("buyTicket", [movie_id], c.w3.eth.accounts[2], value=10**15)
    assert set(tx) == {"from", "to", "data", "value", "gas", "chainId"}
    assert int(tx["chainId"], 16) == 31337 and int(tx["gas"], 16) > 21_000
    assert tx["value"] == hex(10**15)


def test_config_rejects_a_short_digest():
    with pytest.raises(Exception) as err:
        MovieConfig(
            manifest_digest=b"x", segment_count=1, creator="0x" + "11" * 20, director="0x" + "22" * 20
        ).as_tuple()
    assert "32-byte" in str(err.value)


def test_cli_runs_a_local_chain_until_interrupted():
    import signal
    import subprocess
    import sys

    import httpx

    from tests.conftest import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "movieminter", "chain", "anvil", "--port", str(port), "--deploy"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}" in text and "MovieMinter deployed at 0x" in text
        assert "0xac0974bec39a17e36ba4a6b4d238ff944bacb478" not in text  # addresses only, never keys
        reply = httpx.post(f"http://127.0.0.1:{port}", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
        assert reply.json()["result"] == hex(31337)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    import pytest

    with pytest.raises(httpx.HTTPError):  # anvil stopped with it
        httpx.post(f"http://127.0.0.1:{port}", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2)


def test_presets_and_settings():
    from movieminter.chain.client import ChainClient
    from movieminter.chain.presets import PRESETS, get_preset, preset_for_chain_id, resolve_rpc_url
    from movieminter.config import Settings
    from movieminter.errors import MovieMinterError

    assert {n: p.chain_id for n, p in PRESETS.items()} == {
        "local": 31337,
        "sepolia": 11155111,
        "base-sepolia": 84532,
        "base": 8453,
        "optimism": 10,
        "polygon": 137,
    }
    assert get_preset("base").tx_url("0xab") == "https://basescan.org/tx/0xab"
    assert get_preset("polygon").currency == "POL" and get_preset("local").tx_url("0x1") is None
    assert preset_for_chain_id(84532).name == "base-sepolia"
    assert resolve_rpc_url("optimism") == "https://mainnet.optimism.io"
    assert resolve_rpc_url("https://example.invalid/rpc") == "https://example.invalid/rpc"
    assert resolve_rpc_url("base", "http://mine:8545") == "http://mine:8545"
    client = ChainClient.from_settings(Settings(chain="sepolia", contract_address="0x" + "ab" * 20))
    assert client.rpc_url == PRESETS["sepolia"].rpc_url and client.contract_address.lower() == "0x" + "ab" * 20
    with pytest.raises(MovieMinterError, match="unknown chain preset"):
        ChainClient.from_settings(Settings(chain="mainnet-of-nowhere"))


def test_clear_errors_without_a_chain_or_a_contract():
    from movieminter.chain.client import ChainClient
    from movieminter.errors import MovieMinterError
    from tests.conftest import free_port

    with pytest.raises(MovieMinterError, match="no MovieMinter contract address"):
        ChainClient("http://127.0.0.1:1").movie(1)
    with pytest.raises(MovieMinterError, match="cannot reach the chain") as err:
        ChainClient(f"http://127.0.0.1:{free_port()}", "0x" + "11" * 20).movie(1)
    assert "movieminter chain anvil" in err.value.hint


def test_content_digests_come_from_the_mint_events_even_after_a_revert(deployed):
    """The contract stores the metadata digest only; ChainClient.segments() reads the video's digest from the
    SegmentMinted logs, and notices a chain that changed under its cache (here evm_revert; a reorg alike)."""
    c = deployed
    alice = c.w3.eth.accounts[1]
    movie_id = create_movie(c, mint_mode="open", segment_count=2)
    snapshot = c.w3.provider.make_request("evm_snapshot", [])["result"]
    c.transact("mintSegment", [movie_id, 0, digest("video one"), digest("meta")], alice)
    assert c.segments(movie_id)[0]["contentDigest"] == "0x" + digest("video one").hex()
    assert c.segments(movie_id)[1]["contentDigest"] is None  # not minted
    c.w3.provider.make_request("evm_revert", [snapshot])
    c.transact("mintSegment", [movie_id, 0, digest("video two"), digest("meta")], alice)
    c.transact("mintSegment", [movie_id, 1, digest("video three"), digest("meta 1")], alice)
    assert [s["contentDigest"] for s in c.segments(movie_id)] == [
        "0x" + digest("video two").hex(),
        "0x" + digest("video three").hex(),
    ]
    assert c.content_digests(movie_id) == {0: "0x" + digest("video two").hex(), 1: "0x" + digest("video three").hex()}
