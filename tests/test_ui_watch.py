"""The Watch page in Chromium with the injected test wallet, against anvil: before paying, the poster (the
first frame of the first minted segment's video, as the chain recorded it), the runtime (frames / fps from
the manifest), the director and the exact price; once the ticket is bought, chapter marks on the scrub bar
and the current chapter highlighted while playing. A 1,080-chapter movie keeps the list to the rows in view."""

from __future__ import annotations

import json
import re
import time

import pytest
from PIL import Image

from tests.fixtures_chain import create_movie
from tests.fixtures_ui import TEST_WALLET_JS, feature_manifest, shot
from tests.test_ui_modes import lighthouse
from tests.test_ui_theme import CLIPPED_JS, CONTRAST_JS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PRICE = 1_234_567_890_123_456_789  # 1.234567890123456789 ETH: any float would round it


def eth(wei: int) -> str:
    """The exact decimal the pages show (no float, trailing zeros dropped)."""
    whole, frac = divmod(int(wei), 10**18)
    return f"{whole}" + (f".{frac:018d}".rstrip("0") if frac else "") + " ETH"


def publish(stack, manifest: dict, **fields) -> int:
    from movieminter.app.director import pin_manifest

    pinned = pin_manifest(stack.ctx.store, manifest)
    return create_movie(
        stack.chain, manifest_digest=pinned["digest"], segment_count=len(manifest["segments"]), **fields
    )


def mint_red_segment(stack, manifest: dict, movie_id: int, index: int, tmp_path, minter: str, rgb=(220, 30, 30)) -> str:
    """Encode a segment of solid red (or `rgb`) frames in the movie's profile, pin it and mint it; its video CID."""
    from movieminter.ipfs.cid import cid_to_digest
    from movieminter.media.encode import encode_segment

    frames = tmp_path / f"frames{index}"
    frames.mkdir()
    w, h = manifest["movie"]["width"], manifest["movie"]["height"]
    for i in range(manifest["segments"][index]["frame_count"]):
        Image.new("RGB", (w, h), rgb).save(frames / f"{i:05d}.png")
    media = encode_segment(frames, manifest, index, tmp_path / f"seg{index}.mp4", poster=False, preview=False)
    store = stack.ctx.store
    video = store.add_bytes(media.video.read_bytes())
    meta = store.add_bytes(json.dumps({"name": f"Segment {index}"}).encode())
    stack.chain.transact("claim", [movie_id, index], minter)
    stack.chain.transact("mintSegment", [movie_id, index, cid_to_digest(video), cid_to_digest(meta)], minter)
    return video


def watch_page(stack, browser, path: str, *, account: int = 5, width: int = 1280):
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
    page.goto(stack.url + path)
    page.wait_for_function("document.querySelector('.mm-page[data-ready]')", timeout=60_000)
    return page


# the poster's pixel at its centre, read back through a canvas
CENTRE_PIXEL_JS = """(img) => { const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0); return Array.from(g.getImageData(c.width / 2, c.height / 2, 1, 1).data); }"""


def test_poster_runtime_and_price_before_paying_then_chapter_marks_and_the_current_chapter(
    minter_stack, chromium, tmp_path
):
    stack = minter_stack
    acc = stack.chain.w3.eth.accounts
    manifest = lighthouse()
    movie_id = publish(stack, manifest, mint_mode="open", ticket_price=PRICE)
    mint_red_segment(stack, manifest, movie_id, 2, tmp_path, acc[2])  # the first (and only) minted segment: 2

    page = watch_page(stack, chromium, f"/watch/?movie={movie_id}")
    poster = page.locator("#mm-poster")
    poster.wait_for(state="visible", timeout=60_000)
    assert poster.evaluate("(i) => [i.naturalWidth, i.naturalHeight]") == [512, 288]
    r, g, b, _ = poster.evaluate(CENTRE_PIXEL_JS)
    assert r > 180 and g < 80 and b < 80, (r, g, b)  # the minted red frames, not a stand-in image
    assert "segment 2" in page.inner_text("#mm-poster-note")
    fps, frames = manifest["movie"]["fps"], sum(s["frame_count"] for s in manifest["segments"])
    runtime = frames / fps
    assert float(page.get_attribute("#mm-runtime", "data-seconds")) == runtime
    assert page.inner_text("#mm-runtime") == f"{int(runtime) // 60}:{int(runtime) % 60:02d}"
    assert page.get_attribute("#mm-director", "title") == stack.chain.movie(movie_id)["director"]
    assert page.inner_text("#mm-price") == eth(PRICE) == "1.234567890123456789 ETH"
    assert eth(PRICE) in page.inner_text("#mm-ticket-status")
    assert page.inner_text("#mm-segcount") == "6 (1 minted)"
    shot(page, "watch-0-before-paying.png")

    # buy the ticket; the stitched movie plays with the chapter marks on its scrub bar
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    page.locator("#mm-buy").click()
    page.wait_for_function("document.querySelector('#mm-video').src.includes('stream.mp4')", timeout=120_000)
    page.wait_for_function("document.querySelector('#mm-video').readyState >= 1", timeout=120_000)
    assert stack.chain.call("hasTicket", movie_id, acc[5]) is True
    assert page.get_attribute("#mm-scrub", "data-chapters") == "6"
    starts = [sum(s["frame_count"] for s in manifest["segments"][:i]) / fps for i in range(6)]
    ticks = [float(x) for x in re.findall(r"M([\d.]+) 0V12", page.get_attribute(".mm-scrub-ticks", "d"))]
    assert ticks == pytest.approx([t / runtime * 1000 for t in starts[1:]], abs=0.01)  # a mark per chapter start
    minted = re.findall(r"M([\d.]+) 3H([\d.]+)", page.get_attribute(".mm-scrub-minted", "d"))
    assert [float(x) for pair in minted for x in pair] == pytest.approx(
        [starts[2] / runtime * 1000, starts[3] / runtime * 1000], abs=0.01
    )
    assert page.locator("#mm-scrub-range").evaluate("(r) => parseFloat(r.max)") == runtime

    def current() -> str | None:
        return page.evaluate("document.querySelector('#mm-chapters li.mm-current')?.dataset.index ?? null")

    # seeking (the scrub bar, a chapter button) and playing move the highlight to the chapter playing
    page.locator("#mm-scrub-range").evaluate(
        "(r, t) => { r.value = String(t); r.dispatchEvent(new Event('input')); }", starts[3] + 0.5
    )
    page.wait_for_function(
        "document.querySelector('#mm-chapters li.mm-current')?.dataset.index === '3'", timeout=30_000
    )
    assert page.get_attribute("#mm-chapters li.mm-current", "aria-current") == "true"
    assert manifest["segments"][3]["title"] in page.inner_text("#mm-now")
    page.locator("#mm-chapters .mm-chapter").nth(2).click()
    page.wait_for_function(
        "document.querySelector('#mm-chapters li.mm-current')?.dataset.index === '2'", timeout=30_000
    )
    assert "minted by" in page.inner_text("#mm-now")
    page.locator("#mm-video").evaluate(
        "(v) => { v.muted = true; v.currentTime = %f; return v.play(); }" % (starts[4] - 0.6)
    )
    page.wait_for_function(
        "document.querySelector('#mm-chapters li.mm-current')?.dataset.index === '4'", timeout=30_000
    )
    assert current() == "4" and page.locator("#mm-video").evaluate("(v) => v.currentTime") >= starts[4]
    shot(page, "watch-3-chapter-marks.png")
    page.context.close()


@pytest.mark.parametrize("theme,width", [("", 1280), ("&__theme=dark", 420)])
def test_a_1080_chapter_movie_renders_only_the_chapters_in_view(minter_stack, chromium, theme, width):
    stack = minter_stack
    manifest = feature_manifest(lighthouse(), 1080)
    movie_id = publish(stack, manifest, mint_mode="open", ticket_price=PRICE)
    page = watch_page(stack, chromium, f"/watch/?movie={movie_id}{theme}", width=width)
    t0 = time.monotonic()
    page.wait_for_selector("#mm-chapters li", timeout=60_000)
    opened = time.monotonic() - t0
    rows = page.locator("#mm-chapters li")
    assert 0 < rows.count() < 60  # not 1,080
    assert page.locator("#mm-chapters").evaluate("(ol) => ol.getBoundingClientRect().height") == 1080 * 34
    assert "No poster yet" in page.inner_text("#mm-poster-note") and not page.is_visible("#mm-poster")
    runtime = sum(s["frame_count"] for s in manifest["segments"]) / manifest["movie"]["fps"]
    assert float(page.get_attribute("#mm-runtime", "data-seconds")) == runtime
    assert (
        page.inner_text("#mm-runtime")
        == f"{int(runtime) // 3600}:{int(runtime) // 60 % 60:02d}:{int(runtime) % 60:02d}"
    )

    # scrolling to the end renders the last chapters (and drops the first)
    page.locator("#mm-chapters-box").evaluate("(b) => { b.scrollTop = b.scrollHeight; }")
    page.wait_for_selector("#mm-chapters li[data-index='1079']", timeout=10_000)
    assert page.locator("#mm-chapters li[data-index='0']").count() == 0
    assert page.locator("#mm-chapters li").count() < 60
    last = manifest["segments"][-1]["title"]
    assert page.locator("#mm-chapters li[data-index='1079'] .mm-chapter").get_attribute("title") == last

    out = page.evaluate(CLIPPED_JS, [".mm-card", ".mm-about", ".mm-facts", ".mm-chapters-box", ".mm-chapters li"])
    assert out["bad"] == [] and out["pageWidth"] <= out["W"] + 1, out
    unreadable = [c for c in page.evaluate(CONTRAST_JS) if c["ratio"] < 4.5]
    assert unreadable == [], unreadable
    shot(page, f"watch-1080{'-dark-420' if theme else ''}.png")
    assert opened < 30, opened
    page.context.close()
