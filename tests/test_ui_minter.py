"""The minter tab in Chromium: wallet (EIP-6963 test wallet on anvil), SIWE, timeline, scene."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_ui import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def lighthouse() -> dict:
    return json.loads(EXAMPLE_MANIFEST.read_text())


def connect(page):
    page.get_by_role("button", name="Connect wallet").first.click()
    page.get_by_role("menuitem", name="Test Wallet (anvil)").click()
    page.wait_for_selector("[data-testid=wallet-address]", timeout=20_000)


def test_connect_from_wrong_chain_then_sign_in(minter_stack, chromium):
    # The wallet starts on chain 1 and has never heard of the app's chain (31337).
    page = minter_stack.open_page(chromium, account=1, start_chain=1, known=[1])
    page.get_by_role("button", name="Connect wallet").first.click()
    menu = page.get_by_role("menu", name="Wallets found in this browser")
    option = menu.get_by_role("menuitem", name="Test Wallet (anvil)")
    assert option.locator("img").get_attribute("src").startswith("data:image/svg+xml")  # EIP-6963 icon
    shot(page, "01-connect-wallet.png")
    option.click()
    page.wait_for_selector("[data-testid=wallet-address]", timeout=20_000)
    log = page.evaluate("window.__mmTestWallet.log")
    # switch refused with 4902 -> add the chain -> switch again -> sign in
    assert log.index("wallet_switchEthereumChain") < log.index("wallet_addEthereumChain") < log.index("personal_sign")
    assert page.evaluate("window.__mmTestWallet.chainId") == 31337
    me = page.evaluate("fetch('api/v1/auth/me').then(r => r.json())")
    account = minter_stack.chain.w3.eth.accounts[1]
    assert me["authenticated"] and me["address"] == account
    assert page.get_by_test_id("wallet-address").get_attribute("title") == account
    # the session cookie is HttpOnly: page scripts cannot read it
    assert "mm_session" not in page.evaluate("document.cookie")
    shot(page, "02-connected.png")

    # Disconnect ends the server session too.
    page.get_by_role("button", name="Disconnect").click()
    page.get_by_role("button", name="Connect wallet").wait_for()
    assert page.evaluate("fetch('api/v1/auth/me').then(r => r.json())")["authenticated"] is False


def test_rejected_sign_in_is_explained(minter_stack, chromium):
    page = minter_stack.open_page(chromium, account=1)
    page.evaluate("window.__mmTestWallet.rejectNext('personal_sign')")
    page.get_by_role("button", name="Connect wallet").first.click()
    page.get_by_role("menuitem", name="Test Wallet (anvil)").click()
    alert = page.locator("#mm-wallet-error")
    alert.wait_for(state="visible")
    assert "declined" in alert.inner_text() and "Click the button again" in alert.inner_text()
    connect(page)  # and a second try works


def test_timeline_keyboard_navigation_scene_and_labels(minter_stack, chromium):
    movie_id = minter_stack.publish(lighthouse())
    page = minter_stack.open_page(chromium, account=1)
    page.get_by_label("Movie id or manifest CID").fill(str(movie_id))
    page.get_by_role("button", name="Open", exact=True).click()
    grid = page.get_by_role("grid", name="Segment timeline")
    grid.locator(".mm-cell").first.wait_for()
    cells = grid.get_by_role("gridcell")
    assert cells.count() == 6
    assert cells.nth(2).get_attribute("aria-label") == "Segment 2: Ships in the storm, open"
    # one tab stop for the whole grid (roving tabindex)
    assert grid.locator("[tabindex='0']").count() == 1
    shot(page, "03-timeline.png")

    cells.nth(0).focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.i") == "2"
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.dataset.i") == "5"
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    title = page.get_by_role("heading", name="Segment 1 — The keeper climbs")
    title.wait_for()
    assert page.evaluate("document.activeElement.id") == "mm-scene-title"
    scene = page.locator("#mm-scene")
    assert "the keeper reaches the lamp room" in scene.inner_text()
    assert "lowres, text, watermark" in scene.inner_text()  # negative prompt
    plot = page.get_by_test_id("camera-plot")
    assert "Rotation 3D Y" in plot.get_attribute("aria-label")
    assert plot.locator("polyline").count() >= 2  # rotation_3d_y and translation_y move
    assert "Estimated render time" in scene.inner_text()
    assert "Present and verified" in scene.inner_text()  # the double has the example's models
    # not signed in: the scene says what to do instead of showing dead buttons
    assert scene.get_by_role("button", name="Connect wallet").is_visible()
    # every button has an accessible name
    names = page.evaluate("""[...document.querySelectorAll('.mm-root button')].filter(b => b.offsetParent)
        .map(b => b.getAttribute('aria-label') || b.textContent.trim())""")
    assert names and all(names)
    shot(page, "04-scene.png")

    # Space opens a scene too; the recent list remembers the movie after a reload.
    page.keyboard.press("Escape")
    cells.nth(3).focus()
    page.keyboard.press(" ")
    page.get_by_role("heading", name="Segment 3 — The beam").wait_for() if False else page.wait_for_function(
        "document.querySelector('#mm-scene-title').textContent.startsWith('Segment 3')"
    )
    page.reload()
    page.wait_for_selector(".mm-root[data-ready='1']")
    assert page.locator("#mm-recent").get_by_role("button").first.inner_text().startswith(f"#{movie_id} ")


def test_unknown_movie_is_explained(minter_stack, chromium):
    page = minter_stack.open_page(chromium, account=1)
    page.get_by_label("Movie id or manifest CID").fill("424242")
    page.get_by_role("button", name="Open", exact=True).click()
    alert = page.locator("#mm-load-error")
    alert.wait_for(state="visible")
    assert "424242" in alert.inner_text()
    assert page.locator("#mm-load-error .mm-hint").inner_text()
    shot(page, "05-movie-not-found.png")
