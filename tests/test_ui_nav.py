"""The tab links the Studio and the Watch page (the open movie's), and its camera plot gives zoom its own
y-axis, so a zoom from 1.0 to 1.04 is a visible slope next to translations, not a flat line."""

from __future__ import annotations

import pytest

from tests.fixtures_ui import shot
from tests.test_ui_modes import lighthouse, open_movie, open_scene

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPAN_JS = """
(axis) => Array.from(document.querySelectorAll(`[data-testid=camera-plot] polyline[data-axis=${axis}]`)).map((p) => {
  const ys = p.getAttribute("points").trim().split(" ").map((xy) => Number(xy.split(",")[1]));
  return Math.max(...ys) - Math.min(...ys);
})
"""


@pytest.mark.parametrize("theme,width", [("", 1280), ("?__theme=dark", 420)])
def test_tab_links_studio_and_watch_and_plots_zoom_on_its_own_axis(minter_stack, chromium, theme, width):
    stack = minter_stack
    manifest = lighthouse()
    manifest["segments"][0].setdefault("camera", {})["translation_x"] = "0: (0), 47: (30)"  # pixels next to zoom
    movie_id = stack.publish(manifest, mode="open")
    page = stack.open_page(chromium, account=1)
    page.set_viewport_size({"width": width, "height": 900})
    if theme:
        page.goto(stack.url + "/" + theme)
        page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    nav = page.get_by_role("navigation", name="Movie Minter pages")
    studio, watch = nav.get_by_role("link", name="Studio"), nav.get_by_role("link", name="Watch")
    assert studio.is_visible() and watch.is_visible()
    for link in (studio, watch):
        href = link.evaluate("(a) => a.href")
        assert page.evaluate("(u) => fetch(u).then((r) => r.status)", href) == 200, href
    assert studio.evaluate("(a) => a.href") == stack.url + "/studio/"
    open_movie(page, movie_id)
    assert watch.evaluate("(a) => a.href") == f"{stack.url}/watch/?movie={movie_id}"

    open_scene(page, 0)
    page.get_by_test_id("zoom-axis").wait_for(state="attached", timeout=30_000)
    zoom, others = page.evaluate(SPAN_JS, "right"), page.evaluate(SPAN_JS, "left")
    assert len(zoom) == 1 and zoom[0] > 60, zoom  # 1.0 -> 1.04 spans the plot's height (146 px)
    assert others and max(others) > 60, others
    assert "(right axis)" in page.get_by_test_id("camera-plot").locator("..").inner_text()
    shot(page, f"nav-camera{'-dark-420' if theme else ''}.png", page.locator(".mm-plot"))
