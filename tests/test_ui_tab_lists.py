"""The Minter tab's lists, end to end through anvil in Chromium with the injected test wallet: the movies
to mint in (from the chain's logs, paged, one JSON-RPC batch a page), "my segments and jobs" across
movies (a lottery win with its deadline, a declined signature still flagged after a reload) and the
minter's revenue share (claim it, withdraw it: the wallet gains exactly the amount shown). At 420 px
and in dark mode, nothing in the lists is clipped."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
import requests

from tests.fixtures_chain import chain_now, digest, mine
from tests.fixtures_ui import TEST_WALLET_JS, shot
from tests.test_ui_controls import create
from tests.test_ui_modes import COST, UNIX_TIME, connect, lighthouse, page_errors

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COUNTDOWN = re.compile(r"^in (\d+ d \d+ h|\d+ h \d+ min|\d+ min \d+ s|\d+ s)$")

# Every visible control and row of the lists' cards lies inside its card, and no card scrolls sideways.
CLIPPED_JS = """
() => {
  const out = [];
  for (const card of document.querySelectorAll('#mm-catalog, #mm-mine, #mm-share')) {
    if (card.hidden) continue;
    const box = card.getBoundingClientRect();
    if (card.scrollWidth > card.clientWidth + 1) out.push(card.id + ' scrolls sideways');
    for (const el of card.querySelectorAll('button, .mm-row span, input, label')) {
      const r = el.getBoundingClientRect();
      if (!r.width) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1) out.push(card.id + ': ' + (el.textContent || el.tagName).trim().slice(0, 40));
    }
  }
  return out;
}
"""


def tab(stack, browser, account: int, *, width: int = 1280, theme: str = ""):
    cfg = {
        "rpcUrl": stack.anvil.url,
        "accounts": [stack.chain.w3.eth.accounts[account]],
        "chainId": 31337,
        "startChainId": 31337,
        "knownChains": [31337],
    }
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(script=f"window.__MM_TEST_WALLET__ = {json.dumps(cfg)};")
    context.add_init_script(path=str(TEST_WALLET_JS))
    page = context.new_page()
    page.goto(stack.url + "/" + theme)
    page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    return page


def catalog_rows(page) -> dict[str, str]:
    rows = page.get_by_test_id("catalog-movie")
    return {rows.nth(i).get_attribute("data-movie"): rows.nth(i).inner_text() for i in range(rows.count())}


def rpc_round_trips(monkeypatch) -> list:
    """The JSON-RPC method of every HTTP request web3 sends from now on ("batch" for a batch)."""
    from web3._utils.http_session_manager import HTTPSessionManager

    seen = []
    post = HTTPSessionManager.make_post_request

    def counted(self, uri, data, **kwargs):
        body = json.loads(data)
        seen.append("batch" if isinstance(body, list) else body["method"])
        return post(self, uri, data, **kwargs)

    monkeypatch.setattr(HTTPSessionManager, "make_post_request", counted)
    return seen


def test_movies_to_mint_in_are_listed_paged_and_open_from_the_list(minter_stack, chromium, monkeypatch):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    film = lighthouse()
    open_id = stack.publish(film, mode="open")
    deadline = chain_now(chain) + 7200
    second = lighthouse()
    second["movie"]["title"] = "The Second Reel"
    lottery_id = stack.publish(second, mode="lottery", entry_deadline=deadline)
    done = create(stack, "open", director=acc[0], segments=1)  # fully minted: not listed by default
    chain.transact("claim", [done, 0], acc[2])
    chain.transact("mintSegment", [done, 0, digest("v"), digest("m")], acc[2])
    chain.transact("claim", [open_id, 1], acc[2])
    chain.transact("mintSegment", [open_id, 1, digest("v1"), digest("m1")], acc[2])

    page = tab(stack, chromium, 1, width=420, theme="?__theme=dark")
    errors = page_errors(page)
    page.get_by_test_id("catalog-movie").first.wait_for(timeout=30_000)
    rows = catalog_rows(page)
    assert set(rows) == {str(open_id), str(lottery_id)}, rows  # newest first, the finished one left out
    assert list(rows) == [str(lottery_id), str(open_id)]
    total = len(film["segments"])
    assert film["movie"]["title"] in rows[str(open_id)] and f"1 / {total} minted" in rows[str(open_id)]
    assert "open" in rows[str(open_id)] and "Open to anyone" in rows[str(open_id)]
    lottery_row = rows[str(lottery_id)]
    assert "The Second Reel" in lottery_row and f"0 / {total} minted" in lottery_row
    assert "Lottery entries open" in lottery_row and "0 entrants" in lottery_row
    assert not UNIX_TIME.search(lottery_row)
    left = page.get_by_test_id("catalog-movie").first.get_by_test_id("countdown").inner_text()
    assert COUNTDOWN.match(left), left
    hours = int(re.match(r"in (\d+) h", left).group(1))
    assert hours == 1 or left.startswith("in 2 h 0 min"), left  # the chain's 2 hours, not the browser's clock

    page.get_by_label("Show finished movies too").check()
    page.wait_for_function(f"document.querySelector('[data-testid=catalog-movie][data-movie=\"{done}\"]')")
    assert (
        "1 / 1 minted" in catalog_rows(page)[str(done)] and "Every segment is minted" in catalog_rows(page)[str(done)]
    )
    assert page.evaluate(CLIPPED_JS) == []
    shot(page, "tab-movie-list-dark-420.png", page.locator("#mm-catalog"))
    page.get_by_label("Show finished movies too").uncheck()
    page.wait_for_function(f"!document.querySelector('[data-testid=catalog-movie][data-movie=\"{done}\"]')")

    # Paged: one movie a page, Next shows the other one.
    assert (
        requests.get(stack.url + "/api/v1/ux/catalog?per_page=1&page=2", timeout=30).json()["movies"][0]["movie_id"]
        == open_id
    )

    page.get_by_role("button", name=re.compile(f"^Open movie {open_id}:")).click()
    page.wait_for_function(
        f"document.querySelector('#mm-movie-title')?.textContent === {json.dumps(film['movie']['title'])}"
    )
    page.get_by_role("grid", name="Segment timeline").locator(".mm-cell").nth(total - 1).wait_for()
    assert "minted" in page.get_by_role("gridcell").nth(1).get_attribute("aria-label")
    assert page.evaluate("location.hash") == f"#movie={open_id}"
    assert errors == []

    # No round trip per movie: a page of five movies costs what a page of one does (one batch of movie()).
    for _ in range(3):
        stack.publish(film, mode="open")
    seen = rpc_round_trips(monkeypatch)
    requests.get(stack.url + "/api/v1/ux/catalog", timeout=30).raise_for_status()  # scans the new blocks
    seen.clear()
    five = requests.get(stack.url + "/api/v1/ux/catalog", timeout=30).json()
    with_five = list(seen)
    assert len(five["movies"]) == 5  # the finished one stays out
    seen.clear()
    one = requests.get(stack.url + "/api/v1/ux/catalog?per_page=1", timeout=30).json()
    assert len(one["movies"]) == 1 and one["pages"] == 5
    assert len(with_five) == len(seen) and with_five.count("eth_call") == 0 and "batch" in with_five, with_five


def test_my_segments_list_a_lottery_win_with_its_deadline_and_a_declined_signature_after_a_reload(
    minter_stack, chromium
):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    film = lighthouse()
    segments = len(film["segments"])
    lottery_id = stack.publish(film, mode="lottery", entry_deadline=chain_now(chain) + 60, claim_window=86_400)
    chain.transact("enter", [lottery_id], acc[1])
    mine(chain, 1, seconds=61)
    commit = chain.events(chain.transact("closeEntries", [lottery_id], acc[3]))[0]["args"]["commitBlock"]
    mine(chain, blocks=commit - chain.w3.eth.block_number + 1)
    chain.transact("draw", [lottery_id], acc[3])
    won = [i for i, w in enumerate(chain.call("winnersOf", lottery_id, 0, segments)) if w == acc[1]]
    assert len(won) == 1
    claim_deadline = chain.movie(lottery_id)["claimDeadline"]

    page = tab(stack, chromium, 1)
    errors = page_errors(page)
    mine_card = page.get_by_test_id("my-work")
    assert mine_card.is_hidden()  # not signed in: nothing of "mine" to show
    connect(page)
    row = mine_card.get_by_test_id("work-render")
    row.wait_for(timeout=30_000)
    assert row.count() == 1
    text = row.inner_text()
    assert f"segment {won[0]}" in text and "You won it in the lottery" in text and film["movie"]["title"] in text
    assert not UNIX_TIME.search(text)
    left = row.get_by_test_id("countdown").inner_text()
    assert COUNTDOWN.match(left), left
    assert left.startswith("in 23 h") or left.startswith("in 1 d 0 h"), left  # a day's claim window, chain time
    assert claim_deadline > chain_now(chain) + 23 * 3600
    assert "1 needs your action" in mine_card.inner_text()

    # The row opens the movie and the scene, ready to Render & Mint; declining the signature ...
    stack.double.frame_delay = 0.01
    row.click()
    page.wait_for_function(f"document.querySelector('#mm-scene-title').textContent.startsWith('Segment {won[0]}')")
    page.evaluate("window.__mmTestWallet.rejectNext('eth_sendTransaction')")
    page.get_by_role("button", name="Render & Mint").click()
    page.get_by_role("button", name="Sign to mint").wait_for(timeout=120_000)

    # ... a reload later, "my segments" says the job needs the signature, and the row takes me to it.
    page.reload()
    page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    connect(page)  # the test wallet, unlike MetaMask, forgets the site's permission on a reload
    sign = page.get_by_test_id("my-work").get_by_test_id("work-sign")
    sign.wait_for(timeout=30_000)
    assert "Needs your signature" in sign.inner_text() and f"segment {won[0]}" in sign.inner_text()
    assert page.get_by_test_id("work-render").count() == 0  # the same segment, not listed twice
    shot(page, "tab-my-work-needs-signature.png", page.get_by_test_id("my-work"))
    sign.click()
    page.get_by_test_id("minted").wait_for(timeout=120_000)  # the wallet signs this time
    assert chain.call("ownerOf", chain.token_id(lottery_id, won[0])) == acc[1]
    page.locator("#mm-scene-close").click()
    done = page.get_by_test_id("my-work").get_by_test_id("work-minted")
    done.wait_for(timeout=30_000)
    assert f"segment {won[0]}" in done.inner_text()
    assert page.get_by_test_id("work-sign").count() == 0
    assert errors == []


def test_a_minter_claims_and_withdraws_its_share_and_gains_exactly_the_amount_shown(minter_stack, chromium):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    movie_id = create(stack, "open", director=acc[0], segments=3)
    chain.transact("claim", [movie_id, 2], acc[1])
    chain.transact("mintSegment", [movie_id, 2, digest("video"), digest("meta")], acc[1])

    page = tab(stack, chromium, 1, width=420, theme="?__theme=dark")
    errors = page_errors(page)
    connect(page)
    share = page.get_by_test_id("revenue-share")
    share.get_by_test_id("share-withdrawable").wait_for(timeout=30_000)
    claim, withdraw = share.get_by_role("button", name="Collect my share"), share.get_by_role("button", name="Withdraw")
    assert claim.is_disabled() and withdraw.is_disabled()  # nothing sold yet: nothing to click
    assert share.get_by_test_id("share-claimable").inner_text() == "0 ETH"
    assert share.get_by_test_id("pass-share").count() == 0  # no Community contract here: no season passes

    for buyer in (5, 6, 7):  # three viewers buy tickets: 3 × 0.001 ETH × 50 % for the pool / 3 segments
        chain.transact("buyTicket", [movie_id], acc[buyer], value=10**15)
    expected = chain.call("claimableSegmentRevenue", chain.token_id(movie_id, 2))
    assert 0 < expected <= 3 * 10**15 * 5000 // 10_000 // 3  # the contract rounds each ticket's split down
    share.get_by_role("button", name="Refresh").click()
    page.wait_for_function("!document.querySelector('[data-act=share-claim]').disabled")
    shown = share.get_by_test_id("share-claimable").inner_text()
    assert re.fullmatch(r"0\.\d+ ETH", shown), shown  # every wei, no float noise, no exponent
    assert Decimal(shown.removesuffix(" ETH")) * 10**18 == expected

    claim.click()
    share.get_by_test_id("share-done").wait_for(timeout=60_000)
    assert COST.match(share.get_by_test_id("tx-cost").inner_text())
    page.wait_for_function("!document.querySelector('[data-act=share-withdraw]').disabled", timeout=30_000)
    shown = share.get_by_test_id("share-withdrawable").inner_text()
    assert Decimal(shown.removesuffix(" ETH")) * 10**18 == expected == chain.call("credits", acc[1])
    assert share.get_by_role("button", name="Collect my share").is_disabled()
    assert page.evaluate(CLIPPED_JS) == []
    shot(page, "tab-revenue-share-dark-420.png", share)

    before = chain.w3.eth.get_balance(acc[1])
    block = chain.w3.eth.block_number
    share.get_by_role("button", name="Withdraw").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=share-done]')?.closest('#mm-share-msg')?.textContent.startsWith('Withdrew')",
        timeout=60_000,
    )
    assert share.get_by_test_id("share-done").inner_text() == shown
    logs = chain.contract.events.Withdrawn.get_logs(from_block=block + 1, argument_filters={"account": acc[1]})
    assert [log["args"]["amount"] for log in logs] == [expected]
    receipt = chain.w3.eth.get_transaction_receipt(logs[0]["transactionHash"])
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert chain.w3.eth.get_balance(acc[1]) - before + fee == expected  # exactly the amount shown, gas aside
    page.wait_for_function(
        "document.querySelector('[data-testid=share-withdrawable]').textContent === '0 ETH'", timeout=30_000
    )
    assert share.get_by_role("button", name="Withdraw").is_disabled()  # nothing left: nothing to click
    assert errors == []


def test_a_failed_job_is_listed_to_resume_and_its_row_reopens_it(minter_stack, chromium):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    film = lighthouse()
    movie_id = stack.publish(film, mode="open", claim_window=3 * 3600)
    chain.transact("claim", [movie_id, 1], acc[1])

    page = tab(stack, chromium, 1, width=420, theme="?__theme=dark")
    errors = page_errors(page)
    connect(page)
    row = page.get_by_test_id("my-work").get_by_test_id("work-render")
    row.wait_for(timeout=30_000)
    assert "You claimed it" in row.inner_text() and "segment 1" in row.inner_text()
    assert COUNTDOWN.match(row.get_by_test_id("countdown").inner_text())
    assert page.evaluate(CLIPPED_JS) == []
    shot(page, "tab-my-work-dark-420.png", page.get_by_test_id("my-work"))

    stack.double.faults.fail_jobs = [("terminal", 0)]  # Deforum refuses the settings: the job fails
    row.click()
    page.wait_for_function("document.querySelector('#mm-scene-title').textContent.startsWith('Segment 1')")
    page.get_by_role("button", name="Render & Mint").click()
    page.get_by_role("button", name="Resume job").wait_for(timeout=120_000)

    page.reload()
    page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    connect(page)
    failed = page.get_by_test_id("my-work").get_by_test_id("work-retry")
    failed.wait_for(timeout=30_000)
    assert "Failed" in failed.inner_text() and "Resume job" in failed.inner_text()
    assert page.get_by_test_id("work-render").count() == 0
    assert "1 needs your action" in page.get_by_test_id("my-work").inner_text()
    failed.click()  # the scene opens with the job's error and Resume job
    page.locator("#mm-job .mm-alert-error").wait_for(timeout=30_000)
    page.get_by_role("button", name="Resume job").click()
    page.get_by_test_id("minted").wait_for(timeout=120_000)
    assert chain.call("ownerOf", chain.token_id(movie_id, 1)) == acc[1]
    page.locator("#mm-scene-close").click()
    page.get_by_test_id("my-work").get_by_test_id("work-minted").wait_for(timeout=30_000)
    assert page.get_by_test_id("work-retry").count() == 0
    assert errors == []


def test_allowlisted_segments_are_listed_as_mine_without_a_claim(minter_stack, chromium):
    from movieminter.app.director import build_allowlist, parse_allowlist_csv

    stack = minter_stack
    acc = stack.chain.w3.eth.accounts
    manifest = lighthouse()
    allow = build_allowlist(
        stack.ctx.store, parse_allowlist_csv(f"address,segment\n{acc[1]},2;4\n{acc[2]},0\n", len(manifest["segments"]))
    )
    manifest["allowlist"] = {"cid": allow["proofs_cid"]}
    movie_id = stack.publish(manifest, mode="allowlist", allowlist_root=allow["root"], claim_window=7200)

    page = tab(stack, chromium, 1)
    connect(page)
    rows = page.get_by_test_id("my-work").get_by_test_id("work-render")
    rows.first.wait_for(timeout=30_000)
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert [re.search(r"segment (\d+)", t).group(1) for t in texts] == ["2", "4"], texts  # not acc[2]'s segment 0
    assert all("The allowlist gives it to you" in t for t in texts), texts
    assert "Reserved for the allowlist" in catalog_rows(page)[str(movie_id)]
    rows.nth(1).click()
    page.wait_for_function("document.querySelector('#mm-scene-title').textContent.startsWith('Segment 4')")
    page.get_by_role("button", name="Render & Mint").wait_for(timeout=30_000)
