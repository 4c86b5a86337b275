"""Issue 17: event logs are read from the contracts' deployment blocks (settings, recorded by `deploy`), not from
block 0, which public RPC providers refuse or serve slowly; the answers are the same."""

from __future__ import annotations

import pytest

from movieminter.chain import client as client_module
from movieminter.chain.client import ChainClient, _Provider
from movieminter.chain.community import CommunityClient
from tests.fixtures_chain import digest, mine
from tests.test_community import season

EMPTY_BLOCKS = 300  # mined before the contracts are deployed


@pytest.fixture
def deployed_late(anvil):
    """MovieMinter and Community deployed after EMPTY_BLOCKS blocks; a movie that requires approval, with an
    approved, a rejected and a pending segment, and a ticket sold. Rolled back after the test."""
    w3 = ChainClient(anvil.url).w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        chain = ChainClient(anvil.url)
        mine(chain, EMPTY_BLOCKS)
        chain.deploy()
        com = CommunityClient.for_chain(chain)
        com.deploy(minter_address=chain.contract_address)
        assert com.deploy_block > chain.deploy_block > EMPTY_BLOCKS  # recorded by deploy()
        acc = w3.eth.accounts
        _, movie = season(chain, com, acc, segments=3)
        director, minter = acc[9], acc[4]
        com.set_approval_window(movie, 3600, director)
        for seg in range(3):
            chain.transact("mintSegment", [movie, seg, digest(f"v{seg}"), digest(f"m{seg}")], minter)
            com.submit_segment(movie, seg, minter)
        chain.transact("buyTicket", [movie], acc[1], value=10**15)
        com.review_segment(movie, 0, True, director)
        com.review_segment(movie, 1, False, director, "off model")
        yield chain, com, movie, acc
    finally:
        w3.provider.make_request("evm_revert", [snapshot])


def test_logs_are_read_from_the_deployment_blocks(deployed_late, tmp_path, monkeypatch):
    from movieminter.app import activity, revenue_views, review_views
    from movieminter.app.context import AppContext
    from movieminter.config import Settings

    chain, com, movie, acc = deployed_late
    requested: list[tuple[str, int]] = []  # (contract address, fromBlock) of every eth_getLogs
    original = _Provider.make_request

    def spy(self, method, params):
        if method == "eth_getLogs":
            (address,) = params[0]["address"]
            requested.append((address.lower(), int(params[0]["fromBlock"], 16)))
        return original(self, method, params)

    monkeypatch.setattr(_Provider, "make_request", spy)

    def reads(deploy_blocks: bool) -> tuple[dict, list]:
        settings = Settings(
            data_dir=tmp_path / str(deploy_blocks),
            chain="local",
            rpc_url=chain.rpc_url,
            contract_address=chain.contract_address,
            community_address=com.contract_address,
            contract_deploy_block=chain.deploy_block if deploy_blocks else 0,
            community_deploy_block=com.deploy_block if deploy_blocks else 0,
        )
        ctx = AppContext(settings, chain_id=31337)
        monkeypatch.setattr(client_module, "_MINTED_LOGS", {})  # scan the SegmentMinted logs again: count them
        requested.clear()
        out = {
            "rejections": ctx.community.rejections(movie),
            "reviews": review_views.reviews_view(ctx, movie, None, "/ipfs/"),
            "minter": revenue_views.revenue(ctx, acc[4]),
            "director": revenue_views.revenue(ctx, acc[9]),
            "movie": revenue_views.movie_revenue(ctx, movie),
            "activity": activity.activity(ctx.chain, movie)["events"],  # from the movie's creation block
        }
        return out, list(requested)

    unbounded, from_genesis = reads(deploy_blocks=False)
    bounded, ranges = reads(deploy_blocks=True)
    assert bounded == unbounded  # the same answers
    assert bounded["rejections"] == [{"segment": 1, "director": acc[9], "reason": "off model"}]
    assert [c["segment"] for c in bounded["minter"]["segment_claims"]] == [0]
    assert [c["segment"] for c in bounded["minter"]["segments_held_back"]] == [2]
    assert [m["movie_id"] for m in bounded["director"]["movies"]] == [movie]
    assert [e["event"] for e in bounded["activity"]].count("SegmentMinted") == 3
    # Unconfigured, the reads start at genesis; configured, no log before a contract's deployment is asked for.
    assert any(start == 0 for _, start in from_genesis)
    first = {chain.contract_address.lower(): chain.deploy_block, com.contract_address.lower(): com.deploy_block}
    assert len(ranges) == len(from_genesis) and {a for a, _ in ranges} == set(first)  # the same reads
    assert all(start >= first[address] for address, start in ranges), ranges
