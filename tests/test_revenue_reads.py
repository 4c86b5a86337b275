"""A wallet's revenue reads stay a few round trips however many segment tokens it holds: held tokens come from
its Transfer logs (to and from it), their shares and approvals from one JSON-RPC batch each; a token sent away
is not listed, one sent back is."""

from __future__ import annotations

import pytest

from movieminter.app import revenue_views
from tests.test_ui_community import _mint, community_stack, season  # noqa: F401
from tests.test_ui_tab_lists import rpc_round_trips

pytestmark = [pytest.mark.slow]


def test_held_tokens_from_logs_and_batched_reads(community_stack, monkeypatch):  # noqa: F811
    stack, chain = community_stack, community_stack.chain
    acc = chain.w3.eth.accounts
    _, movie = season(stack)
    for segment in range(5):
        _mint(stack, movie, segment, acc[1])
    token = [chain.token_id(movie, s) for s in range(5)]
    chain.transact("transferFrom", [acc[1], acc[2], token[1]], acc[1])  # sent away: not its share any more
    chain.transact("transferFrom", [acc[1], acc[2], token[3]], acc[1])
    chain.transact("transferFrom", [acc[2], acc[1], token[3]], acc[2])  # ... and back: its share again
    chain.transact("buyTicket", [movie], acc[5], value=10**15)

    seen = rpc_round_trips(monkeypatch)
    r = revenue_views.revenue(stack.ctx, acc[1])
    reads = [m for m in seen if m != "eth_chainId"]
    assert [c["segment"] for c in r["segment_claims"]] == [0, 2, 3, 4]
    for c in r["segment_claims"]:
        assert int(c["claimable_wei"]) == chain.call("claimableSegmentRevenue", int(c["token_id"])) > 0
    # its credits, then two log reads per event scan and two batches: no call per token
    assert reads.count("eth_call") == 1 and reads.count("batch") == 2, reads
    assert [c["segment"] for c in revenue_views.revenue(stack.ctx, acc[2])["segment_claims"]] == [1]
