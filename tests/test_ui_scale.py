"""The minter tab with a feature film (1,080 segments): the timeline keeps only what is in view in the DOM,
yet scrolling, the keyboard, "Go to segment" and the counts span every segment."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_ui import feature_manifest
from tests.test_ui_minter import connect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FEATURE = 1080
CELLS_IN_DOM = "document.querySelectorAll('#mm-grid .mm-cell').length"


def in_view(page, i: int) -> bool:
    """Segment i's cell is in the DOM and inside the grid's visible box."""
    return page.evaluate(
        """(i) => {
        const grid = document.querySelector('#mm-grid'), cell = grid.querySelector(`[data-i="${i}"]`);
        if (!cell) return false;
        const g = grid.getBoundingClientRect(), c = cell.getBoundingClientRect();
        return c.top >= g.top - 1 && c.bottom <= g.bottom + 1 && c.height > 0;
    }""",
        i,
    )


def test_feature_film_opens_with_few_cells_and_reaches_segment_1000(minter_stack, chromium):
    stack = minter_stack
    manifest = feature_manifest(json.loads(EXAMPLE_MANIFEST.read_text()), FEATURE)
    movie_id = stack.publish(manifest, mode="open")
    account = stack.chain.w3.eth.accounts[1]
    # this wallet claimed segment 1000: "yours" and the legend count it while it is not drawn
    stack.chain.transact("claim", [movie_id, 1000], account)

    page = stack.open_page(chromium, account=1)
    connect(page)
    page.get_by_label("Movie id or manifest CID").fill(str(movie_id))
    page.get_by_role("button", name="Open", exact=True).click()
    grid = page.get_by_role("grid", name="Segment timeline")
    page.wait_for_function(f"document.querySelector('#mm-grid').dataset.count === '{FEATURE}'")
    grid.locator(".mm-cell").first.wait_for()

    drawn = page.evaluate(CELLS_IN_DOM)
    assert 0 < drawn < FEATURE / 3, drawn  # only the rows in view (and a margin)
    assert not in_view(page, 1000)
    assert grid.get_attribute("aria-colcount") == str(FEATURE)
    # the summary and the legend count every segment, drawn or not
    legend = " ".join(page.locator("#mm-legend").inner_text().split())
    assert "yours to claim 1" in legend and f"open {FEATURE - 1}" in legend
    assert "You claimed segment 1000" in page.get_by_test_id("yours").inner_text()
    # one tab stop however far the grid scrolls
    assert grid.locator("[tabindex='0']").count() == 1

    # scrolling to the end draws the last rows (and drops the first ones)
    grid.evaluate("g => { g.scrollTop = g.scrollHeight; }")
    page.wait_for_function("document.querySelector('#mm-grid [data-i=\"1079\"]') !== null")
    assert in_view(page, FEATURE - 1)
    assert page.locator("#mm-grid [data-i='0']").count() == 0
    assert page.evaluate(CELLS_IN_DOM) < FEATURE / 3

    # the keyboard walks the whole film: Home scrolls back to the first segment
    page.locator("#mm-grid .mm-cell").last.focus()
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.dataset.i") == "0"
    assert in_view(page, 0)
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.dataset.i") == str(FEATURE - 1)
    page.keyboard.press("ArrowUp")  # one row up, as the grid lays the cells out
    cols = page.evaluate(
        """() => { const cells = [...document.querySelectorAll('#mm-grid .mm-cell')];
        return cells.filter((c) => c.offsetTop === cells[0].offsetTop).length; }"""
    )
    assert 1 < cols < 40
    assert page.evaluate("document.activeElement.dataset.i") == str(FEATURE - 1 - cols)

    # "Go to segment 1000" shows it, focused, and Enter opens its scene
    page.get_by_label("Go to segment").fill("1000")
    page.get_by_label("Go to segment").press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.dataset.i === '1000'")
    assert in_view(page, 1000)
    cell = page.locator("#mm-grid [data-i='1000']")
    assert cell.get_attribute("aria-label").startswith(f"Segment 1000: {manifest['segments'][1000]['title']}, yours")
    assert page.evaluate(CELLS_IN_DOM) < FEATURE / 3
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=f"Segment 1000 — {manifest['segments'][1000]['title']}").wait_for()
    scene = page.locator("#mm-scene")
    assert manifest["segments"][1000]["prompts"]["0"].split("--neg")[0].strip()[:30] in scene.inner_text()
    assert scene.get_by_role("button", name="Render & Mint").is_visible()

    # closing the scene returns the focus to segment 1000, still drawn
    page.get_by_role("button", name="Close the scene").click()
    assert page.evaluate("document.activeElement.dataset.i") == "1000"

    # a click on a cell after scrolling by wheel opens that scene too
    grid.hover()
    page.mouse.wheel(0, -2000)
    page.wait_for_function("document.querySelector('#mm-grid').scrollTop < 100000")
    first = page.locator("#mm-grid .mm-cell").nth(8)
    first.wait_for()
    page.wait_for_timeout(100)  # the window redraws on the next animation frame
    target = page.evaluate(
        """() => {
        const grid = document.querySelector('#mm-grid'), g = grid.getBoundingClientRect();
        const c = [...grid.querySelectorAll('.mm-cell')].find((el) => el.getBoundingClientRect().top >= g.top + 2);
        return Number(c.dataset.i);
    }"""
    )
    page.locator(f"#mm-grid [data-i='{target}']").click()
    page.wait_for_function(f"document.querySelector('#mm-scene-title').textContent.startsWith('Segment {target} ')")


def test_invalid_manifest_is_refused_once_its_background_check_ends(minter_stack):
    """The timeline draws from the parsed manifest while the full validation runs in the background; the scene
    waits for it, and from then on every view of the movie refuses the manifest with its problems."""
    import httpx

    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    manifest["segments"][3]["camera"]["zoom"] = "0: (1.0), 99: (1.1)"  # keyframe outside the 48-frame segment
    movie_id = minter_stack.publish(manifest)
    good = minter_stack.publish(json.loads(EXAMPLE_MANIFEST.read_text()))
    with httpx.Client(base_url=minter_stack.url + "/api/v1/movies/", timeout=60) as api:
        r = api.get(f"{movie_id}/segments/3")
        assert r.status_code == 400, r.text
        problems = r.json()["detail"]["details"]["problems"]
        assert any(p["pointer"] == "/segments/3/camera/zoom" and "outside" in p["message"] for p in problems)
        for path in (f"open?ref={movie_id}", f"{movie_id}/segments", f"{movie_id}/segments/0"):
            r = api.get(path)
            assert r.status_code == 400 and r.json()["detail"]["details"]["problems"] == problems, path
        # a valid movie on the same app is unaffected, its scene served once validated
        assert api.get(f"open?ref={good}").json()["segment_count"] == 6
        assert api.get(f"{good}/segments/3").json()["title"] == manifest["segments"][3]["title"]


def test_the_tab_lists_an_invalid_manifests_problems(minter_stack, chromium):
    """The tab does not stop at "N problems": each one shows with its JSON pointer and how to fix it."""
    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    manifest["segments"][3]["camera"]["zoom"] = "0: (1.0), 99: (1.1)"  # keyframe outside the 48-frame segment
    movie_id = minter_stack.publish(manifest)
    page = minter_stack.open_page(chromium)
    page.get_by_label("Movie id or manifest CID").fill(str(movie_id))
    page.get_by_role("button", name="Open", exact=True).click()
    page.wait_for_function(
        "document.querySelector('[data-testid=manifest-problems]') || document.querySelectorAll('#mm-grid .mm-cell').length > 3",
        timeout=60_000,
    )
    problems = page.get_by_test_id("manifest-problems").first
    if not problems.count():  # the timeline may draw before the background check ends: open the scene
        page.get_by_role("grid", name="Segment timeline").get_by_role("gridcell").nth(3).click()
    problems.wait_for(timeout=60_000)
    item = problems.locator("li").filter(has_text="/segments/3/camera/zoom")
    assert "outside" in item.inner_text()
    assert item.locator("em").inner_text()  # how to fix it
