"""Render & Mint in Chromium, end to end: test wallet -> app -> A1111 double -> ffmpeg -> local IPFS -> anvil."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_ui import feature_manifest, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def lighthouse() -> dict:
    return json.loads(EXAMPLE_MANIFEST.read_text())


def connect_and_open(page, movie_id: int):
    page.get_by_role("button", name="Connect wallet").first.click()
    page.get_by_role("menuitem", name="Test Wallet (anvil)").click()
    page.wait_for_selector("[data-testid=wallet-address]", timeout=20_000)
    page.get_by_label("Movie id or manifest CID").fill(str(movie_id))
    page.get_by_role("button", name="Open", exact=True).click()
    page.get_by_role("grid", name="Segment timeline").locator(".mm-cell").first.wait_for()


def open_scene(page, index: int):
    page.get_by_role("grid", name="Segment timeline").get_by_role("gridcell").nth(index).click()
    page.wait_for_function(f"document.querySelector('#mm-scene-title').textContent.startsWith('Segment {index}')")
    page.locator("#mm-actions").wait_for()


def test_render_and_mint_with_a_rejected_signature_then_retry(minter_stack, chromium):
    stack = minter_stack
    movie_id = stack.publish(lighthouse(), mode="open")
    wallet = stack.chain.w3.eth.accounts[1]
    page = stack.open_page(chromium, account=1)
    connect_and_open(page, movie_id)
    open_scene(page, 0)

    page.get_by_role("button", name="Claim segment 0").click()
    render = page.get_by_role("button", name="Render & Mint")
    render.wait_for(timeout=30_000)
    assert "yours to claim" in page.get_by_role("gridcell").nth(0).get_attribute("aria-label")
    yours = page.get_by_test_id("yours").inner_text()
    assert yours.startswith("You claimed segment 0") and "mint before" in yours

    stack.double.frame_delay = 0.05  # slow enough to see the progress bar
    page.evaluate("window.__mmTestWallet.rejectNext('eth_sendTransaction')")  # the user will say no
    render.click()
    page.get_by_test_id("job-frames").wait_for(timeout=30_000)
    bar = page.get_by_role("progressbar", name="Render and mint progress")
    assert bar.is_visible()
    shot(page, "06-rendering.png")

    sign = page.get_by_role("button", name="Sign to mint")
    sign.wait_for(timeout=90_000)
    alert = page.locator("#mm-job [role=alert]")
    assert "declined" in alert.inner_text() and "nothing will be rendered again" in alert.inner_text()
    assert page.get_by_test_id("job-state").inner_text() == "Waiting for your signature"
    assert page.locator("video.mm-player").count() == 1  # the pinned video plays already
    jobs = stack.ctx.journal.list()
    assert len(jobs) == 1 and jobs[0].state == "awaiting_signature"
    assert stack.double.jobs_submitted == 1
    shot(page, "07-signature-rejected.png")

    sign.click()
    page.get_by_test_id("minted").wait_for(timeout=60_000)
    tx_link = page.get_by_test_id("mint-tx")
    assert tx_link.inner_text().startswith("0x") and len(tx_link.inner_text()) == 66
    # The open scene follows the chain too: minted, and no second Render & Mint offered.
    page.wait_for_function(
        "document.querySelector('#mm-scene-status').textContent.includes('minted by you')", timeout=30_000
    )
    assert page.get_by_role("button", name="Render & Mint").count() == 0
    shot(page, "08-minted.png")

    # On chain: minted to the wallet, with the digests of what was pinned.
    job = stack.ctx.journal.get(jobs[0].id)
    assert job.state == "minted"
    seg = stack.chain.segments(movie_id, 0, 1)[0]
    assert seg["status"] == "minted" and seg["account"] == wallet
    assert seg["contentDigest"] == job.data["pinned"]["content_digest"]
    assert seg["metadataDigest"] == job.data["pinned"]["metadata_digest"]
    assert stack.chain.call("ownerOf", stack.chain.token_id(movie_id, 0)) == wallet
    assert stack.double.jobs_submitted == 1  # the retry signed; it did not re-render
    cell = page.get_by_role("gridcell").nth(0)
    page.wait_for_function(
        "document.querySelector('.mm-cell[data-i=\"0\"]').getAttribute('aria-label').includes('minted')"
    )
    assert "minted by" in cell.get_attribute("aria-label")


def test_two_browsers_race_for_one_open_segment(minter_stack, chromium):
    stack = minter_stack
    movie_id = stack.publish(lighthouse(), mode="open")
    alice = stack.open_page(chromium, account=1)
    bob = stack.open_page(chromium, account=2)
    for page in (alice, bob):
        connect_and_open(page, movie_id)
        open_scene(page, 2)
    # Both see segment 2 open; Alice's claim lands first.
    alice.get_by_role("button", name="Claim segment 2").click()
    alice.get_by_role("button", name="Render & Mint").wait_for(timeout=30_000)
    bob.get_by_role("button", name="Claim segment 2").click()
    alert = bob.locator("#mm-action-error")
    alert.wait_for(state="visible")
    bob.wait_for_function("document.querySelector('#mm-action-error').classList.contains('mm-alert-error')")
    text = alert.inner_text()
    alice_address = stack.chain.w3.eth.accounts[1]
    assert f"segment 2 of movie {movie_id} is reserved for {alice_address}" in text.lower().replace(
        alice_address.lower(), alice_address
    )
    assert "pick another segment" in text  # the hint says what to do
    bob.wait_for_function(
        "document.querySelector('.mm-cell[data-i=\"2\"]').getAttribute('aria-label').includes('assigned')"
    )
    assert bob.get_by_role("button", name="Render & Mint").count() == 0
    shot(bob, "09-race-lost.png")
    seg = stack.chain.segments(movie_id, 2, 1)[0]
    assert seg["status"] == "claimed" and seg["account"] == stack.chain.w3.eth.accounts[1]


def test_feature_film_timeline_draws_from_one_eth_call(minter_stack, chromium):
    stack = minter_stack
    movie_id = stack.publish(feature_manifest(lighthouse(), 1080), mode="open")
    selector = stack.chain.contract.functions.segments(movie_id, 0, 1080)._encode_transaction_data()[:10]
    calls = []
    provider = stack.ctx.chain.w3.provider
    original = provider.make_request

    def counting(method, params):
        if method == "eth_call" and str(params[0].get("data", "")).startswith(selector):
            calls.append(params)
        return original(method, params)

    provider.make_request = counting
    page = stack.open_page(chromium, account=1)
    page.get_by_label("Movie id or manifest CID").fill(str(movie_id))
    page.get_by_role("button", name="Open", exact=True).click()
    # the grid draws only the rows in view (tests/test_ui_scale.py): End reaches the last segment
    page.wait_for_function("document.querySelector('#mm-grid').dataset.count === '1080'", timeout=30_000)
    assert len(calls) == 1
    page.get_by_role("gridcell").first.focus()
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Segment 1079")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.dataset.i") == "1078"
    shot(page, "10-feature-timeline.png")
