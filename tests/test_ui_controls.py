"""Controls that apply, messages where they belong: the Studio's Close entries / Draw / Pre-pay only when
they apply, Collect and Claim disabled at 0, allowlist CSV problems under the file field, a new action
clears the last banner; the tab and the Studio record a readable draw (Draw: record the seed)."""

from __future__ import annotations

import json

import pytest

from movieminter.chain.client import MovieConfig
from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_chain import chain_now, digest, mine
from tests.fixtures_ui import TEST_WALLET_JS, shot
from tests.test_ui_modes import connect, lighthouse, open_movie

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def studio_page(stack, browser, theme: str, account: int = 0):
    cfg = {
        "rpcUrl": stack.anvil.url,
        "accounts": [stack.chain.w3.eth.accounts[account]],
        "chainId": 31337,
        "startChainId": 31337,
        "knownChains": [31337],
    }
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(script=f"window.__MM_TEST_WALLET__ = {json.dumps(cfg)};")
    context.add_init_script(path=str(TEST_WALLET_JS))
    page = context.new_page()
    page.goto(stack.url + "/studio/" + theme)
    page.wait_for_function("document.querySelector('.mm-page[data-ready]')", timeout=60_000)
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    return page


def create(stack, mode: str, *, director: str, segments: int = 3, deadline: int = 0) -> int:
    acc = stack.chain.w3.eth.accounts
    config = MovieConfig(
        manifest_digest=digest("manifest"),
        segment_count=segments,
        creator=acc[8],
        director=director,
        mint_mode=mode,
        ticket_price=10**15,
        claim_window=3600,
        entry_deadline=deadline,
    )
    return stack.chain.movie_id_from_receipt(stack.chain.transact("createMovie", [config.as_tuple()], acc[0]))


def load(page, movie_id: int):
    page.fill("#mm-movie-id", str(movie_id))
    page.click("#mm-load")
    page.wait_for_selector(f"#mm-lottery[data-movie='{movie_id}']", state="attached", timeout=30_000)


def enabled(page) -> dict:
    return {b: page.locator(f"#mm-{b}").is_enabled() for b in ("close", "draw", "prepare")}


@pytest.mark.parametrize("theme", ["", "?__theme=dark"])
def test_studio_buttons_apply_only_when_they_can_and_messages_sit_where_they_belong(minter_stack, chromium, theme):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    page = studio_page(stack, chromium, theme)
    assert enabled(page) == {"close": False, "draw": False, "prepare": False}  # no movie yet

    # A stale banner goes away with the next action.
    page.click("#mm-load")
    page.wait_for_selector(".mm-notice[data-kind=error]")
    assert "Which movie?" in page.inner_text(".mm-notice")
    open_id = create(stack, "open", director=acc[0])
    load(page, open_id)
    assert page.inner_text(".mm-notice").strip() == ""
    assert enabled(page) == {"close": False, "draw": False, "prepare": True}  # open movie: no lottery

    # Allowlist CSV problems appear under the file field, not in the banner at the top.
    page.fill("#mm-manifest", EXAMPLE_MANIFEST.read_text())
    page.select_option("#mm-mode", "allowlist")
    page.set_input_files(
        "#mm-allowlist-file", files=[{"name": "a.csv", "mimeType": "text/csv", "buffer": f"{acc[2]},99\n".encode()}]
    )
    msg = page.locator("#mm-allowlist-check")
    page.wait_for_function("document.querySelector('#mm-allowlist-check').textContent.length > 0", timeout=30_000)
    assert "99" in msg.inner_text() and "mm-bad" in msg.get_attribute("class")
    # Both boxes in one frame: the segment editor above may still be filling in.
    gap = page.evaluate(
        "() => document.querySelector('#mm-allowlist-check').getBoundingClientRect().top"
        " - document.querySelector('#mm-allowlist-file').getBoundingClientRect().bottom"
    )
    assert 0 <= gap < 40  # right under the field
    assert page.inner_text(".mm-notice").strip() == ""
    page.click("#mm-create-btn")  # creating with the bad CSV: the field says why, again
    page.wait_for_timeout(500)
    assert "99" in msg.inner_text() and page.inner_text(".mm-notice").strip() == ""
    page.set_input_files(
        "#mm-allowlist-file", files=[{"name": "a.csv", "mimeType": "text/csv", "buffer": f"{acc[2]},1\n".encode()}]
    )
    page.wait_for_function("document.querySelector('#mm-allowlist-check').className.includes('mm-good')")
    assert "1 allowlisted address" in msg.inner_text()
    shot(page, f"studio-controls{theme.replace('?__theme=', '-')}.png")

    # A lottery: Close once the deadline passed, Draw once the draw block exists, neither after the draw.
    lottery_id = create(stack, "lottery", director=acc[0], deadline=chain_now(chain) + 60)
    chain.transact("enter", [lottery_id], acc[3])
    load(page, lottery_id)
    assert enabled(page) == {"close": False, "draw": False, "prepare": True}  # entries open
    mine(chain, 1, seconds=61)
    load(page, lottery_id)
    assert enabled(page)["close"] and not enabled(page)["draw"]
    page.click("#mm-close")
    page.wait_for_selector("text=the draw uses block", timeout=60_000)
    assert enabled(page) == {"close": False, "draw": False, "prepare": True}  # the draw block is not mined
    mine(chain, 5)
    page.wait_for_function("!document.querySelector('#mm-draw').disabled", timeout=30_000)  # it looks again
    page.click("#mm-draw")
    page.wait_for_selector(".mm-notice[data-kind=ok]", timeout=60_000)
    page.wait_for_selector(f"#mm-lottery[data-movie='{lottery_id}'] .mm-good", timeout=60_000)
    page.wait_for_selector("#mm-winners:not([hidden])")
    assert chain.movie(lottery_id)["seedRecorded"]
    assert enabled(page) == {"close": False, "draw": False, "prepare": True}


def test_collect_and_claim_are_disabled_at_zero_and_enabled_with_money(minter_stack, chromium):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    movie_id = create(stack, "open", director=acc[0])
    chain.transact("claim", [movie_id, 1], acc[0])
    chain.transact("mintSegment", [movie_id, 1, digest("video"), digest("meta")], acc[0])
    page = studio_page(stack, chromium, "")
    page.click(".mm-revenue-refresh")
    collect, claim = page.locator(f".mm-collect[data-movie='{movie_id}']"), page.locator(".mm-claim[data-seg='1']")
    claim.wait_for(timeout=30_000)
    assert collect.is_disabled() and claim.is_disabled() and page.locator(".mm-withdraw").is_disabled()

    chain.transact("buyTicket", [movie_id], acc[5], value=10**15)  # a viewer pays: shares to collect and claim
    page.click(".mm-revenue-refresh")
    page.wait_for_function(f"!document.querySelector(\".mm-collect[data-movie='{movie_id}']\").disabled")
    assert claim.is_enabled()
    claim.click()
    page.wait_for_selector(".mm-notice[data-kind=ok]", timeout=60_000)
    page.wait_for_function("document.querySelector(\".mm-claim[data-seg='1']\").disabled", timeout=30_000)


@pytest.mark.parametrize("theme", ["", "?__theme=dark"])
def test_the_tab_records_a_readable_draw(minter_stack, chromium, theme):
    stack = minter_stack
    chain = stack.chain
    movie_id = stack.publish(lighthouse(), mode="lottery", entry_deadline=chain_now(chain) + 60)
    entrant = chain.w3.eth.accounts[1]
    chain.transact("enter", [movie_id], entrant)
    mine(chain, 1, seconds=61)
    chain.transact("closeEntries", [movie_id], chain.w3.eth.accounts[0])
    page = stack.open_page(chromium, account=1)
    if theme:
        page.goto(stack.url + "/" + theme)
        page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    connect(page)
    open_movie(page, movie_id)
    page.get_by_test_id("lottery").get_by_text("waiting for the draw").wait_for(timeout=30_000)
    draw = page.get_by_role("button", name="Draw (record the seed)")
    assert draw.count() == 0  # the draw block is not mined yet
    mine(chain, 5)
    draw.wait_for(timeout=30_000)  # the card looks again by itself
    assert chain.draw_status(movie_id)["state"] == "readable"
    draw.click()
    page.locator("#mm-lottery-msg").get_by_text("The draw is recorded").wait_for(timeout=60_000)
    assert chain.movie(movie_id)["seedRecorded"]
    draw.wait_for(state="detached", timeout=30_000)  # recorded: nothing left to draw
    shot(page, f"tab-draw-recorded{theme.replace('?__theme=', '-')}.png")
    # A new action (opening a scene) clears the last action's message.
    page.get_by_role("gridcell").nth(0).click()
    page.wait_for_function("document.querySelector('#mm-scene-title').textContent.startsWith('Segment 0')")
    assert page.locator("#mm-lottery-msg").is_hidden()
