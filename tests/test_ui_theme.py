"""Dark mode and narrow screens: every input in the tab, the Studio and the Watch page is readable
(WCAG contrast of its text on its effective background), and at 420 px nothing is clipped: wide
content (terms grid, tables, the prompts table, the camera chart) reflows or scrolls in its own box."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_ui import TEST_WALLET_JS, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# For each visible form control: its text colour and the first non-transparent background behind it,
# as WCAG 2 contrast ratio.
CONTRAST_JS = """
() => {
  const rgb = (s) => { const m = s.match(/[\\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; }
    return { r: 255, g: 255, b: 255, a: 1 }; };
  const out = [];
  for (const el of document.querySelectorAll("input:not([type=file]):not([type=hidden]), select, textarea")) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") continue;
    const fg = rgb(getComputedStyle(el).color), bg = bgOf(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({ id: el.id || el.name || el.tagName, ratio: (a + 0.05) / (b + 0.05), fg: getComputedStyle(el).color,
      bg: JSON.stringify(bg), own: getComputedStyle(el).backgroundColor, dark: document.body.className + "|" + document.documentElement.className });
  }
  return out;
}
"""

# Elements wider than the viewport that are not inside a box that scrolls horizontally.
CLIPPED_JS = """
(selectors) => {
  const W = document.documentElement.clientWidth;
  const scrolls = (el) => { for (let e = el.parentElement; e; e = e.parentElement) {
    const ox = getComputedStyle(e).overflowX; if ((ox === "auto" || ox === "scroll") && e.getBoundingClientRect().right <= W + 1) return true; }
    return false; };
  const bad = [];
  for (const sel of selectors) for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    if ((r.right > W + 1 || r.left < -1) && !scrolls(el)) bad.push(sel + " right=" + Math.round(r.right));
  }
  return { bad, pageWidth: document.documentElement.scrollWidth, W };
}
"""


def new_page(browser, url: str, width: int, cfg: dict | None = None):
    context = browser.new_context(viewport={"width": width, "height": 900})
    if cfg:
        context.add_init_script(script=f"window.__MM_TEST_WALLET__ = {json.dumps(cfg)};")
        context.add_init_script(path=str(TEST_WALLET_JS))
    page = context.new_page()
    page.goto(url)
    return page


@pytest.mark.parametrize("path", ["/studio/?__theme=dark", "/watch/?__theme=dark", "/studio/", "/watch/"])
def test_studio_and_watch_inputs_are_readable_in_light_and_dark(minter_stack, chromium, path):
    page = new_page(chromium, minter_stack.url + path, 1280)
    page.wait_for_selector("#mm-movie-id", timeout=30_000)
    page.wait_for_timeout(300)
    name = path.replace("/", "").replace("?__theme=", "-")
    shot(page, f"theme-{name}.png")
    controls = page.evaluate(CONTRAST_JS)
    assert controls, "no inputs found"
    unreadable = [c for c in controls if c["ratio"] < 4.5]
    assert unreadable == [], unreadable


@pytest.mark.parametrize("theme", ["", "?__theme=dark"])
def test_at_420px_nothing_is_clipped(minter_stack, chromium, theme):
    stack = minter_stack
    movie_id = stack.publish(json.loads(EXAMPLE_MANIFEST.read_text()), mode="open")
    studio = new_page(chromium, stack.url + "/studio/" + theme, 420)
    studio.wait_for_selector("#mm-movie-id", timeout=30_000)
    studio.fill("#mm-manage #mm-movie-id", str(movie_id))
    studio.wait_for_timeout(300)
    out = studio.evaluate(CLIPPED_JS, [".mm-grid", ".mm-grid label", ".mm-table", ".mm-card", "textarea"])
    assert out["bad"] == [] and out["pageWidth"] <= out["W"] + 1, out
    shot(studio, f"narrow-studio{theme.replace('?__theme=', '-')}.png")

    tab = new_page(chromium, stack.url + "/" + theme, 420)
    tab.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    tab.get_by_label("Movie id or manifest CID").fill(str(movie_id))
    tab.get_by_role("button", name="Open", exact=True).click()
    tab.get_by_role("gridcell").first.click()
    tab.get_by_test_id("camera-plot").wait_for(timeout=30_000)
    out = tab.evaluate(CLIPPED_JS, [".mm-prompts", ".mm-plot", ".mm-plot svg", ".mm-card", ".mm-cols > *", "code"])
    assert out["bad"] == [] and out["pageWidth"] <= out["W"] + 1, out
    shot(tab, f"narrow-tab{theme.replace('?__theme=', '-')}.png")


# What makes the pages look like one product: the primary button, the brand mark, card and button shapes, the nav.
LOOK_JS = """
(primary) => {
  const cs = (sel) => { const el = document.querySelector(sel); return el ? getComputedStyle(el) : null; };
  const p = cs(primary), card = cs(".mm-card"), logo = document.querySelector(".mm-logo");
  const nav = [...document.querySelectorAll(".mm-nav a")];
  return { primaryBg: p && p.backgroundColor, primaryInk: p && p.color, primaryRadius: p && p.borderRadius,
    primaryWeight: p && p.fontWeight, cardRadius: card && card.borderRadius,
    logo: !!logo && logo.getBoundingClientRect().width > 0 && getComputedStyle(logo).backgroundColor,
    nav: nav.map((a) => a.textContent.trim()), navWeight: nav.length ? getComputedStyle(nav[0]).fontWeight : null,
    current: nav.filter((a) => getComputedStyle(a).borderBottomColor === (p && p.backgroundColor)).map((a) => a.textContent.trim()) };
}
"""


@pytest.mark.parametrize("theme", ["", "?__theme=dark"])
def test_studio_and_watch_wear_the_tabs_look(minter_stack, chromium, theme):
    tab = new_page(chromium, minter_stack.url + "/" + theme, 1280)
    tab.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    ref = tab.evaluate(LOOK_JS, "#mm-open")
    assert ref["primaryBg"] == "rgb(245, 158, 11)" and ref["logo"] == ref["primaryBg"], ref
    for path, current in (("/studio/", "Studio"), ("/watch/", "Watch")):
        page = new_page(chromium, minter_stack.url + path + theme, 1280)
        page.wait_for_selector(".mm-connect", timeout=30_000)
        page.wait_for_function("getComputedStyle(document.querySelector('.mm-logo')).width === '30px'")  # CSS loaded
        look = page.evaluate(LOOK_JS, ".mm-connect")  # "Connect wallet" is the call to action, as in the tab
        for key in ("primaryBg", "primaryInk", "primaryRadius", "primaryWeight", "cardRadius", "logo", "navWeight"):
            assert look[key] == ref[key], (path, key, look[key], ref[key])
        assert look["nav"] == ["Minter tab", "Studio", "Watch"] and look["current"] == [current], look
        page.context.close()
    tab.context.close()
