"""The Director studio in Chromium, against the app and anvil: the segment table editor (kept in sync with the
JSON both ways, rows added / removed / reordered), a Deforum settings file imported in the page, problems shown
beside the field they concern, countdowns to the entry deadline and the draw block in chain time, what each
wallet can still collect from a movie (exact decimals from wei), and a 1,080-segment movie paged 50 rows at a
time. Dark mode at 420 px: nothing clipped, every input readable."""

from __future__ import annotations

import json
import re

import pytest

from tests.fixtures_chain import chain_now, mine
from tests.fixtures_ui import feature_manifest, shot
from tests.test_ui_modes import lighthouse
from tests.test_ui_theme import CLIPPED_JS, CONTRAST_JS
from tests.test_ui_watch import eth, mint_red_segment, publish, watch_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def studio(stack, browser, *, query: str = "", width: int = 1280, account: int = 0):
    page = watch_page(stack, browser, "/studio/" + query, account=account, width=width)
    page.wait_for_selector("#mm-movie-id", timeout=30_000)
    return page


def manifest_json(page) -> dict:
    return json.loads(page.input_value("#mm-manifest"))


def row(page, i: int):
    return page.locator(f"#mm-seg-table tbody tr[data-i='{i}']")


def set_field(page, i: int, field: str, value: str):
    el = row(page, i).locator(f"[data-f='{field}']")
    el.fill(value)
    el.dispatch_event("change")


def wait_json(page, predicate_js: str):
    page.wait_for_function(
        f"(() => {{ const m = JSON.parse(document.querySelector('#mm-manifest').value); return {predicate_js}; }})()"
    )


def test_segment_table_editor_deforum_import_and_inline_problems(minter_stack, chromium, tmp_path):
    from movieminter.manifest.deforum import export_deforum

    stack = minter_stack
    base = lighthouse()
    page = studio(stack, chromium)
    page.fill("#mm-manifest", json.dumps(base))
    page.wait_for_selector("#mm-seg-table tbody tr", timeout=10_000)
    assert row(page, 0).count() == 1 and page.locator("#mm-seg-table tbody tr").count() == 6
    assert row(page, 1).locator("[data-f='title']").input_value() == base["segments"][1]["title"]
    assert (
        row(page, 0).locator("[data-f='prompts']").input_value().splitlines()[1]
        == "24: " + base["segments"][0]["prompts"]["24"]
    )
    assert (
        row(page, 0).locator("[data-f='camera']").input_value() == "zoom: 0: (1.0), 47: (1.04)\ntranslation_z: 0: (0.5)"
    )

    # table -> JSON: a title, the frames (the following start frames move), the cadence, prompts, camera
    set_field(page, 2, "title", "Ships in a bigger storm")
    wait_json(page, "m.segments[2].title === 'Ships in a bigger storm'")
    set_field(page, 0, "frame_count", "60")
    wait_json(
        page,
        "m.segments[0].frame_count === 60 && m.segments[1].start_frame === 60 && m.segments[5].start_frame === 252",
    )
    set_field(page, 1, "diffusion_cadence", "3")
    wait_json(page, "m.segments[1].diffusion_cadence === 3")
    set_field(page, 1, "prompts", "0: a keeper on the stairs\n12: the lamp room")
    wait_json(
        page,
        "JSON.stringify(m.segments[1].prompts) === JSON.stringify({'0': 'a keeper on the stairs', '12': 'the lamp room'})",
    )
    set_field(page, 3, "camera", "zoom: 0: (1.02)\nangle: 0: (0.5)")
    wait_json(page, "m.segments[3].camera.zoom === '0: (1.02)' && m.segments[3].camera.angle === '0: (0.5)'")
    # a line that is not "frame: prompt" is refused where it was typed; the JSON keeps the last good prompts
    before = manifest_json(page)["segments"][1]["prompts"]
    set_field(page, 1, "prompts", "a keeper with no keyframe")
    assert "line 1" in row(page, 1).locator("[data-msg='prompts']").inner_text()
    assert row(page, 1).locator("[data-f='prompts']").get_attribute("aria-invalid") == "true"
    assert manifest_json(page)["segments"][1]["prompts"] == before
    set_field(page, 1, "prompts", "0: a keeper on the stairs")

    # inline validation (the server's /director/validate): each problem beside its field and row
    set_field(page, 4, "prompts", "0: the lamp again <lora:nope:1>")
    set_field(page, 5, "camera", "zoom: 0: (1.0")
    page.wait_for_function(
        "document.querySelector(\"tr[data-i='5'] [data-msg='camera']\").textContent.includes('unbalanced')",
        timeout=30_000,
    )
    assert "nope" in row(page, 4).locator("[data-msg='prompts']").inner_text()
    assert "mm-row-bad" in row(page, 4).get_attribute("class") and "mm-row-bad" in row(page, 5).get_attribute("class")
    assert row(page, 0).locator("[data-msg='prompts']").inner_text() == ""
    assert "2 segment(s) have problems" in page.inner_text("#mm-editor-msg")
    shot(page, "studio-editor-problems.png")
    set_field(page, 4, "prompts", "0: the lamp again")
    set_field(page, 5, "camera", "zoom: 0: (1.0)")
    page.wait_for_function("!document.querySelector('#mm-seg-table tr.mm-row-bad')", timeout=30_000)

    # JSON -> table: typing in the JSON rebuilds the rows; a start frame typed wrong is flagged in its row
    m = manifest_json(page)
    m["segments"][2]["start_frame"] = 5
    m["segments"][2]["title"] = "Typed in the JSON"
    page.fill("#mm-manifest", json.dumps(m, indent=2))
    page.wait_for_function(
        "document.querySelector(\"tr[data-i='2'] [data-f='title']\").value === 'Typed in the JSON'", timeout=10_000
    )
    page.wait_for_function(
        "document.querySelector(\"tr[data-i='2'] [data-msg='frames']\").textContent.includes('start')", timeout=30_000
    )
    page.fill("#mm-manifest", json.dumps(m)[:-5])  # broken JSON: the table waits, disabled
    page.wait_for_function("document.querySelector('#mm-seg-fieldset').disabled", timeout=10_000)
    assert "does not parse" in page.inner_text("#mm-editor-msg")
    page.fill("#mm-manifest", json.dumps(m, indent=2))
    page.wait_for_function("!document.querySelector('#mm-seg-fieldset').disabled", timeout=10_000)

    # reorder, remove, add: indexes and start frames follow, the JSON too
    titles = [s["title"] for s in m["segments"]]
    row(page, 1).get_by_role("button", name="Move segment 1 up").click()
    wait_json(
        page, f"m.segments[0].title === {json.dumps(titles[1])} && m.segments[1].title === {json.dumps(titles[0])}"
    )
    got = manifest_json(page)["segments"]
    assert [s["index"] for s in got] == list(range(6))
    assert [s["start_frame"] for s in got] == [sum(x["frame_count"] for x in got[:i]) for i in range(6)]
    row(page, 5).get_by_role("button", name="Remove segment 5").click()
    wait_json(page, "m.segments.length === 5")
    page.get_by_role("button", name="Add segment").click()
    wait_json(page, "m.segments.length === 6 && m.segments[5].index === 5")
    assert page.locator("#mm-seg-table tbody tr").count() == 6
    assert row(page, 5).locator("[data-f='prompts']").evaluate("(t) => t === document.activeElement")

    # Deforum import needs a valid movie to go into: the new segment's empty prompt is named
    settings = tmp_path / "deforum_settings.txt"
    settings.write_text(json.dumps(export_deforum(base, 3)["deforum_settings"], indent=2))
    page.set_input_files("#mm-deforum-file", str(settings))
    page.wait_for_selector("#mm-import-msg.mm-bad", timeout=30_000)
    assert "/segments/5/prompts" in page.inner_text("#mm-import-msg")
    set_field(page, 5, "prompts", "0: dawn over a calm sea")

    # Deforum import: the settings of the example's segment 3, as Deforum saves them, become segment 6
    page.set_input_files("#mm-deforum-file", str(settings))
    page.wait_for_selector("#mm-import-msg.mm-good", timeout=30_000)
    assert "as segment 6" in page.inner_text("#mm-import-msg")
    got = manifest_json(page)["segments"]
    assert len(got) == 7 and got[6]["prompts"] == base["segments"][3]["prompts"]
    assert got[6]["camera"] == base["segments"][3]["camera"] and got[6]["seed"] == base["segments"][3]["seed"]
    assert got[6]["start_frame"] == sum(s["frame_count"] for s in got[:6])
    assert row(page, 6).locator("[data-f='title']").input_value() == got[6]["title"]
    # ...or replaces a segment; a file that is not Deforum settings says why, beside the file field
    page.fill("#mm-import-at", "0")
    page.set_input_files("#mm-deforum-file", str(settings))
    wait_json(
        page,
        f"JSON.stringify(m.segments[0].prompts) === {json.dumps(json.dumps(base['segments'][3]['prompts'], separators=(',', ':')))}",
    )
    assert len(manifest_json(page)["segments"]) == 7
    bad = tmp_path / "notes.txt"
    bad.write_text("these are my notes, not settings")
    page.set_input_files("#mm-deforum-file", str(bad))
    page.wait_for_selector("#mm-import-msg.mm-bad", timeout=30_000)
    assert "not valid JSON" in page.inner_text("#mm-import-msg")

    page.click("#mm-validate")
    page.wait_for_selector("#mm-validation .mm-good", timeout=30_000)
    assert "7 segments" in page.inner_text("#mm-validation")
    shot(page, "studio-editor.png")
    page.context.close()


def test_a_1080_segment_manifest_is_paged_and_its_problems_found(minter_stack, chromium):
    stack = minter_stack
    m = feature_manifest(lighthouse(), 1080)
    m["segments"][700]["frame_count"] = 0  # one problem, far down the table
    page = studio(stack, chromium)
    page.locator("#mm-manifest").evaluate(
        "(t, v) => { t.value = v; t.dispatchEvent(new Event('input')); }", json.dumps(m)
    )
    page.wait_for_selector("#mm-seg-table tbody tr", timeout=10_000)
    assert page.locator("#mm-seg-table tbody tr").count() == 50
    assert "Rows 1–50 of 1080" in page.inner_text("#mm-seg-pager")
    page.locator("#mm-seg-pager").get_by_role("button", name="Next").click()
    assert page.locator("#mm-seg-table tbody tr").first.get_attribute("data-i") == "50"
    page.get_by_role("button", name="Show the next problem").wait_for(timeout=60_000)
    page.get_by_role("button", name="Show the next problem").click()
    page.wait_for_selector("#mm-seg-table tr[data-i='700']", timeout=10_000)
    assert page.locator("#mm-seg-table tbody tr").count() == 50
    assert row(page, 700).locator("[data-msg='frames']").inner_text() != ""
    assert page.evaluate("document.activeElement.closest('tr')?.dataset.i") == "700"
    # an edit on page 15 reaches the JSON and clears the problem
    set_field(page, 700, "frame_count", "48")
    page.wait_for_function("!document.querySelector('#mm-seg-table tr.mm-row-bad')", timeout=60_000)
    assert manifest_json(page)["segments"][700]["frame_count"] == 48
    page.context.close()


def test_countdowns_to_the_entry_deadline_and_the_draw_block(minter_stack, chromium):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    deadline = chain_now(chain) + 2 * 3600 + 125
    movie_id = publish(stack, lighthouse(), mint_mode="lottery", entry_deadline=deadline)
    page = studio(stack, chromium, query=f"?movie={movie_id}")
    entry = page.locator(".mm-countdown[data-kind='entry']")
    entry.wait_for(timeout=30_000)
    left = re.search(r"(\d\d):(\d\d):(\d\d)", entry.inner_text()).groups()
    seconds = int(left[0]) * 3600 + int(left[1]) * 60 + int(left[2])
    assert abs(seconds - (deadline - chain_now(chain))) <= 5, (seconds, entry.inner_text())
    first = entry.inner_text()
    page.wait_for_timeout(1500)
    assert entry.inner_text() != first  # it ticks
    shot(page, "studio-countdown-entries.png")

    # the deadline passes and entries close: the draw block is counted down in blocks and time
    for who in acc[2:4]:
        chain.transact("enter", [movie_id], who)
    mine(chain, 1, seconds=2 * 3600 + 200)
    chain.transact("closeEntries", [movie_id], acc[0])
    page.click("#mm-load")
    draw = page.locator(".mm-countdown[data-kind='draw']")
    draw.wait_for(timeout=30_000)
    info = chain.movie(movie_id)
    head = chain.w3.eth.block_number
    assert draw.get_attribute("data-block") == str(info["drawBlock"])
    assert int(draw.get_attribute("data-blocks-left")) == info["drawBlock"] - head > 0
    assert re.search(r"about \d\d:\d\d:\d\d", draw.inner_text()) and "block(s) away" in draw.inner_text()
    assert page.locator(".mm-countdown[data-kind='entry']").count() == 0
    mine(chain, info["drawBlock"] - head)
    page.wait_for_function(
        "document.querySelector(\".mm-countdown[data-kind='draw']\")?.dataset.blocksLeft === '0'", timeout=30_000
    )
    page.context.close()


@pytest.mark.parametrize("theme,width", [("", 1280), ("&__theme=dark", 420)])
def test_revenue_by_wallet_in_exact_amounts(minter_stack, chromium, tmp_path, theme, width):
    stack = minter_stack
    chain, acc = stack.chain, stack.chain.w3.eth.accounts
    manifest = lighthouse()
    price = 1_000_000_000_000_000_007  # leaves odd remainders in every share
    movie_id = publish(stack, manifest, mint_mode="open", ticket_price=price)
    mint_red_segment(stack, manifest, movie_id, 0, tmp_path, acc[2])
    mint_red_segment(stack, manifest, movie_id, 3, tmp_path, acc[3])
    for buyer in acc[5:8]:
        chain.transact("buyTicket", [movie_id], buyer, price)
    token0, token3 = chain.token_id(movie_id, 0), chain.token_id(movie_id, 3)
    chain.transact("claimSegmentRevenue", [[token0]], acc[2])  # wallet 2 claimed, then a 4th sale
    chain.transact("buyTicket", [movie_id], acc[4], price)
    chain.transact("transferFrom", [acc[3], acc[6], token3], acc[3])  # unclaimed revenue travels with the token

    page = studio(stack, chromium, query=f"?movie={movie_id}{theme}", width=width)
    table = page.locator("#mm-rev-wallets")
    table.wait_for(timeout=30_000)
    to_creator, to_director = chain.call("collectable", movie_id)
    expected = {
        acc[8]: (to_creator, 0),
        acc[9]: (to_director, 0),
        acc[2]: (0, chain.call("claimableSegmentRevenue", token0)),
        acc[6]: (0, chain.call("claimableSegmentRevenue", token3)),
    }
    rows = table.locator("tbody tr")
    assert rows.count() == len(expected), table.inner_html()
    for address, (shares, pool) in expected.items():
        r = table.locator(f"tbody tr[data-address='{address}']")
        cells = r.locator("td").all_inner_texts()
        assert cells[2] == eth(shares) and cells[4] == eth(pool) and cells[5] == eth(shares + pool), (address, cells)
        assert r.locator(".mm-total-cell").get_attribute("data-wei") == str(shares + pool)
    assert expected[acc[2]][1] < expected[acc[6]][1]  # wallet 2 claimed three sales' worth already
    assert "minter" in table.locator(f"tbody tr[data-address='{acc[6]}'] td").nth(1).inner_text()
    assert acc[3] not in table.inner_html()  # it sold its token: nothing to collect
    summary = page.inner_text("#mm-rev-summary")
    assert f"4 ticket(s) sold for {eth(4 * price)}" in summary and "4 unminted segment(s)" in summary
    assert not re.search(r"\d\.\d*0 ETH|e-\d", summary + table.inner_text())  # no float noise, no trailing zeros

    out = page.evaluate(CLIPPED_JS, [".mm-card", ".mm-table-box", "#mm-rev-summary", ".mm-row", ".mm-pager"])
    assert out["bad"] == [] and out["pageWidth"] <= out["W"] + 1, out
    unreadable = [c for c in page.evaluate(CONTRAST_JS) if c["ratio"] < 4.5]
    assert unreadable == [], unreadable
    shot(page, f"studio-revenue-by-wallet{'-dark-420' if theme else ''}.png")
    page.context.close()


def test_deforum_import_takes_settings_text_only(api_client):
    """The settings are the file's text: a JSON string is refused, never opened as a path on the server."""
    for text in ['"/etc/hostname"', "7", "[1, 2]", "not json"]:
        r = api_client.post(
            "/api/v1/director/deforum-import", json={"settings": text}, headers=api_client.csrf_headers()
        )
        assert r.status_code == 400, (text, r.status_code, r.text)
        problems = r.json()["detail"]["details"]["problems"]
        assert any("JSON" in p["message"] for p in problems), problems


def test_chain_clock_and_no_poster_before_a_mint(minter_stack):
    import httpx

    stack = minter_stack
    movie_id = publish(stack, lighthouse(), mint_mode="open")
    mine(stack.chain, 3, seconds=30)
    with httpx.Client(base_url=stack.url) as c:
        clock = c.get("/api/v1/director/chain-clock").json()
        head = stack.chain.w3.eth.get_block("latest")
        assert (clock["block"], clock["timestamp"]) == (head["number"], head["timestamp"])
        assert clock["block_seconds"] > 0
        r = c.get(f"/api/v1/movies/{movie_id}/poster.jpg")
        assert r.status_code == 404 and "no poster" in r.json()["detail"]["message"]
        t = c.get(f"/api/v1/movies/{movie_id}/ticket").json()
        assert t["poster_url"] is None and t["runtime_seconds"] == 24.0 and t["minted_count"] == 0
