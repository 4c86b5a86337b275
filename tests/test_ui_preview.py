"""The live frame preview while rendering: the tab shows the newest frame Deforum has written, it
changes as frames arrive, and only the job's own wallet may see it."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures_ui import shot
from tests.test_ui_modes import connect, lighthouse, open_movie, open_scene

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Each image the preview shows: its frame number and a digest of its bytes.
WATCH_FRAMES_JS = """
() => {
  window.__mmFrames = [];
  const seen = new WeakSet();
  const hook = (img) => {
    if (seen.has(img)) return;
    seen.add(img);
    img.addEventListener("load", async () => {
      // recorded in load order (the digest is filled in asynchronously)
      const entry = [Number(img.dataset.frame), null, img.naturalWidth, img.naturalHeight];
      window.__mmFrames.push(entry);
      const buf = await (await fetch(img.src)).arrayBuffer();
      entry[1] = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", buf))).map((b) => b.toString(16)).join("");
    });
  };
  new MutationObserver(() => { const i = document.querySelector("[data-testid=live-frame]"); if (i) hook(i); })
    .observe(document.body, { childList: true, subtree: true });
}
"""


@pytest.mark.parametrize("theme,width", [("", 1280), ("?__theme=dark", 420)])
def test_the_newest_frame_shows_while_rendering_and_only_to_its_wallet(minter_stack, chromium, theme, width):
    stack = minter_stack
    movie_id = stack.publish(lighthouse(), mode="open")
    page = stack.open_page(chromium, account=1)
    page.set_viewport_size({"width": width, "height": 900})
    if theme:
        page.goto(stack.url + "/" + theme)
        page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    connect(page)
    open_movie(page, movie_id)
    open_scene(page, 0)
    page.get_by_role("button", name="Claim segment 0").click()
    render = page.get_by_role("button", name="Render & Mint")
    render.wait_for(timeout=30_000)

    stack.double.frame_delay = 0.25  # frames arrive one by one
    page.evaluate(WATCH_FRAMES_JS)
    page.evaluate("window.__mmTestWallet.rejectNext('eth_sendTransaction')")  # stop before the mint
    render.click()
    preview = page.get_by_test_id("live-frame")
    preview.wait_for(timeout=60_000)
    page.wait_for_function("window.__mmFrames.length >= 3", timeout=60_000)
    box = preview.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width  # fits a narrow screen
    shot(page, f"live-preview{'-dark-420' if theme else ''}.png")

    # Someone else's session, and no session, are refused.
    job = stack.ctx.journal.list()[0]
    assert httpx.get(f"{stack.url}/api/v1/ux/jobs/{job.id}/frame").status_code == 401
    other = stack.open_page(chromium, account=2)
    connect(other)
    assert other.evaluate(f"fetch('api/v1/ux/jobs/{job.id}/frame').then((r) => r.status)") == 403

    page.get_by_role("button", name="Sign to mint").wait_for(timeout=120_000)
    assert preview.count() == 0  # the encoded video replaces it
    assert page.locator("video.mm-player").count() == 1

    frames = page.evaluate("window.__mmFrames")
    numbers = [f[0] for f in frames]
    assert numbers == sorted(numbers) and len(set(numbers)) >= 3, frames  # newer frames, in order
    assert len({f[1] for f in frames if f[1]}) >= 3, frames  # the picture itself changes
    assert all(max(w, h) <= 384 for _, _, w, h in frames), frames  # downscaled
