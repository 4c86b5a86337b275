"""A minter's share of season-pass sales in the tab (Playwright + anvil + the injected test wallet): collect the
pass sales into the pool, claim the segment tokens' part (a segment awaiting the director's approval waits) and
withdraw it from Community; every amount is the contract's to the wei, in dark mode at 420 px."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.fixtures_ui import shot
from tests.test_ui_community import _mint, assert_nothing_clipped, community_stack, season, tab_page  # noqa: F401
from tests.test_ui_modes import COST, connect, page_errors

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wei(text: str) -> int:
    return int(Decimal(text.removesuffix(" ETH")) * 10**18)


def test_a_minter_collects_claims_and_withdraws_its_pass_share(community_stack, chromium):  # noqa: F811
    stack, com, chain = community_stack, community_stack.com, community_stack.chain
    acc = chain.w3.eth.accounts
    collective, movie = season(stack, minters_bps=4000)
    com.set_approval_window(movie, 3600, acc[9])  # a minted segment earns once the director approves it
    for segment in (0, 1):
        _mint(stack, movie, segment, acc[1])
    com.submit_segment(movie, 0, acc[1])
    com.review_segment(movie, 0, True, acc[9])  # segment 1 is not submitted: it waits
    for buyer in (3, 4):  # the early pass, then one at full price
        com.buy_pass(collective, acc[buyer])

    page = tab_page(stack, chromium, 1, theme="?__theme=dark", width=420)
    errors = page_errors(page)
    connect(page)
    share = page.get_by_test_id("pass-share")
    share.get_by_test_id("pass-withdrawable").wait_for(timeout=30_000)
    assert share.get_by_role("button", name="Claim my pass share").is_disabled()  # nothing in the pool yet
    pool = com.pass_pool(collective)
    per_segment = (com.collectable(collective)[2] + pool["waiting"]) // pool["segments"]
    assert per_segment > 0
    # Only the approved segment counts: claiming the one awaiting approval would revert.
    assert wei(share.get_by_test_id("pass-uncollected").inner_text()) == per_segment
    assert_nothing_clipped(page, ["#mm-share"])
    shot(page, "tab-pass-share-dark-420.png", page.get_by_test_id("revenue-share"))

    share.get_by_role("button", name="Collect pass sales").click()
    page.get_by_test_id("share-done").wait_for(timeout=60_000)
    assert COST.match(page.get_by_test_id("tx-cost").inner_text())
    assert com.collectable(collective) == (0, 0, 0)  # the wallet's transaction collected them
    page.wait_for_function("!document.querySelector('[data-act=pass-claim]').disabled", timeout=30_000)
    claimable = com.claimable_pass_revenue(movie, 0)
    assert claimable == per_segment == wei(share.get_by_test_id("pass-claimable").inner_text())
    assert com.claimable_pass_revenue(movie, 1) == per_segment  # accrued, but held back until approved
    assert share.get_by_test_id("pass-uncollected").count() == 0

    share.get_by_role("button", name="Claim my pass share").click()
    page.wait_for_function("!document.querySelector('[data-act=pass-withdraw]').disabled", timeout=60_000)
    assert com.credits_of(acc[1]) == claimable == wei(share.get_by_test_id("pass-withdrawable").inner_text())
    assert com.claimable_pass_revenue(movie, 0) == 0 and com.claimable_pass_revenue(movie, 1) == per_segment

    before, block = chain.w3.eth.get_balance(acc[1]), chain.w3.eth.block_number
    share.get_by_role("button", name="Withdraw pass revenue").click()
    page.wait_for_function(
        "document.querySelector('#mm-share-msg')?.textContent.startsWith('Withdrew')", timeout=60_000
    )
    logs = com.contract.events.Withdrawn.get_logs(from_block=block + 1, argument_filters={"account": acc[1]})
    assert [log["args"]["amount"] for log in logs] == [claimable]
    receipt = chain.w3.eth.get_transaction_receipt(logs[0]["transactionHash"])
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert chain.w3.eth.get_balance(acc[1]) - before + fee == claimable  # exactly the amount shown, gas aside
    page.wait_for_function(
        "document.querySelector('[data-testid=pass-withdrawable]').textContent === '0 ETH'", timeout=30_000
    )
    assert errors == []
