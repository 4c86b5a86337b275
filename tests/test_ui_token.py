"""A minted segment's token view in the tab: token id, owner, the video (also for segments other wallets
minted), metadata and CIDs with working gateway links, no explorer link on a local chain, Watch and a
share link that opens the same scene."""

from __future__ import annotations

import json

import pytest

from movieminter.ipfs.cid import cid_to_digest
from tests.fixtures_ui import shot
from tests.test_ui_modes import connect, lighthouse, open_movie, open_scene
from tests.test_ui_theme import CLIPPED_JS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FETCH_JS = "(url) => fetch(url).then(async (r) => [r.status, await r.text()])"


@pytest.mark.parametrize("theme,width", [("", 1280), ("?__theme=dark", 420)])
def test_a_minted_segment_shows_its_token(minter_stack, chromium, theme, width):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    movie_id = stack.publish(lighthouse(), mode="open")
    store = stack.ctx.store
    video = store.add_bytes(b"segment two video bytes")
    poster = store.add_bytes(b"poster bytes")
    meta = store.add_bytes(json.dumps({"name": "Segment 2 token", "image": f"ipfs://{poster}"}).encode())
    minter = acc[2]  # another wallet than the page's
    chain.transact("claim", [movie_id, 2], minter)
    chain.transact("mintSegment", [movie_id, 2, cid_to_digest(video), cid_to_digest(meta)], minter)

    page = stack.open_page(chromium, account=1)
    page.set_viewport_size({"width": width, "height": 900})
    if theme:
        page.goto(stack.url + "/" + theme)
        page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    connect(page)
    open_movie(page, movie_id)
    open_scene(page, 2)
    page.get_by_test_id("token-id").wait_for(timeout=30_000)
    assert page.get_by_test_id("token-id").inner_text().startswith(f"#{chain.token_id(movie_id, 2)}")
    assert "Segment 2 token" in page.get_by_test_id("token-id").inner_text()
    assert page.get_by_test_id("token-owner").get_attribute("title") == minter
    # The links work: the gateway serves the video and the metadata by their CIDs.
    assert page.get_by_test_id("token-video-cid").inner_text() == video
    vsrc = page.get_by_test_id("token-video").evaluate("(v) => v.src")
    assert page.evaluate(FETCH_JS, vsrc) == [200, "segment two video bytes"]
    murl = page.get_by_test_id("token-metadata-cid").evaluate("(a) => a.href")
    status, body = page.evaluate(FETCH_JS, murl)
    assert status == 200 and json.loads(body)["name"] == "Segment 2 token"
    assert page.get_by_test_id("token-explorer").count() == 0  # anvil has no explorer
    assert page.get_by_test_id("token-watch").evaluate("(a) => a.href").endswith(f"/watch/?movie={movie_id}")
    share = page.get_by_test_id("token-share").evaluate("(a) => a.href")
    assert share.endswith(f"#movie={movie_id}&segment=2")
    out = page.evaluate(CLIPPED_JS, [".mm-token", ".mm-token-facts dd", ".mm-player"])
    assert out["bad"] == [] and out["pageWidth"] <= out["W"] + 1, out
    shot(page, f"token-view{'-dark-420' if theme else ''}.png")

    # The share link opens the movie at that scene, with its token.
    other = stack.open_page(chromium, account=3)
    other.goto(share)
    other.reload()
    other.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    other.wait_for_function(
        "(document.querySelector('#mm-scene-title')?.textContent || '').startsWith('Segment 2')", timeout=30_000
    )
    other.get_by_test_id("token-id").wait_for(timeout=30_000)
