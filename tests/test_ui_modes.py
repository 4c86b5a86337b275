"""The Minter tab in each mint mode, in Chromium with the injected test wallet: allowlist (the proof is
handled without the user seeing it), lottery entry from the movie card, and lottery leftovers (after the
draw, segments nobody won are claimed like in an open movie)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_chain import chain_now, mine
from tests.fixtures_ui import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNIX_TIME = re.compile(r"\b1\d{9}\b")
COST = re.compile(r"^\d+(\.\d+)? ETH \+ up to \d+(\.\d+)? ETH gas$")  # exact decimals, never 1e-5 or wei


def lighthouse() -> dict:
    return json.loads(EXAMPLE_MANIFEST.read_text())


def connect(page):
    page.get_by_role("button", name="Connect wallet").first.click()
    page.get_by_role("menuitem", name="Test Wallet (anvil)").click()
    page.wait_for_selector("[data-testid=wallet-address]", timeout=20_000)


def open_movie(page, movie_id: int):
    page.get_by_label("Movie id or manifest CID").fill(str(movie_id))
    page.get_by_role("button", name="Open", exact=True).click()
    page.get_by_role("grid", name="Segment timeline").locator(".mm-cell").first.wait_for()


def cell_label(page, index: int) -> str:
    return page.get_by_role("gridcell").nth(index).get_attribute("aria-label")


def open_scene(page, index: int):
    page.get_by_role("grid", name="Segment timeline").get_by_role("gridcell").nth(index).click()
    page.wait_for_function(f"document.querySelector('#mm-scene-title').textContent.startsWith('Segment {index}')")
    page.locator("#mm-actions").wait_for()


def page_errors(page) -> list:
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_an_allowlisted_wallet_sees_its_segment_as_yours_and_mints_it(minter_stack, chromium):
    from movieminter.app.director import build_allowlist, parse_allowlist_csv

    stack = minter_stack
    acc = stack.chain.w3.eth.accounts
    manifest = lighthouse()
    allow = build_allowlist(
        stack.ctx.store, parse_allowlist_csv(f"address,segment\n{acc[1]},2\n{acc[2]},0;3\n", len(manifest["segments"]))
    )
    manifest["allowlist"] = {"cid": allow["proofs_cid"]}
    movie_id = stack.publish(manifest, mode="allowlist", allowlist_root=allow["root"])

    page = stack.open_page(chromium, account=1)
    errors = page_errors(page)
    connect(page)
    open_movie(page, movie_id)
    page.wait_for_function(
        "document.querySelector('.mm-cell[data-i=\"2\"]').getAttribute('aria-label').includes('yours')"
    )
    assert "yours to mint (allowlist)" in cell_label(page, 2)
    assert "assigned to someone else" in cell_label(page, 0)
    assert page.get_by_test_id("yours").inner_text().startswith("The allowlist gives you segment 2")

    open_scene(page, 0)  # someone else's: explained, nothing to click
    assert "reserves this segment for other wallets" in page.locator("#mm-actions").inner_text()
    assert page.get_by_role("button", name="Render & Mint").count() == 0
    assert not UNIX_TIME.search(page.locator("#mm-scene").inner_text())

    open_scene(page, 2)
    render = page.get_by_role("button", name="Render & Mint")
    render.wait_for(timeout=10_000)
    assert page.get_by_role("button", name=re.compile("^Claim")).count() == 0  # the proof replaces the claim
    shot(page, "modes-allowlist-yours.png")
    render.click()
    page.get_by_test_id("minted").wait_for(timeout=120_000)
    assert COST.match(page.locator("#mm-job [data-testid=tx-cost]").inner_text())  # shown before signing, kept after
    assert stack.chain.call("ownerOf", stack.chain.token_id(movie_id, 2)) == acc[1]
    assert errors == []


def test_lottery_entry_from_the_card_then_leftovers_are_claimable_after_the_draw(minter_stack, chromium):
    stack = minter_stack
    chain = stack.chain
    acc = chain.w3.eth.accounts
    movie_id = stack.publish(lighthouse(), mode="lottery", entry_deadline=chain_now(chain) + 600)
    segments = len(lighthouse()["segments"])

    page = stack.open_page(chromium, account=1)
    errors = page_errors(page)
    connect(page)
    open_movie(page, movie_id)
    card = page.get_by_test_id("lottery")
    card.get_by_role("button", name="Enter lottery").click()
    page.get_by_test_id("lottery-entered").wait_for(timeout=30_000)
    assert errors == []  # no "Cannot set properties of null"
    assert COST.match(
        page.locator("#mm-lottery-msg [data-testid=tx-cost]").inner_text().removeprefix("Cost: ").rstrip(".")
    )
    assert card.get_by_role("button", name="Enter lottery").count() == 0
    assert chain.call("hasEntered", movie_id, acc[1])
    assert not UNIX_TIME.search(page.locator("#mm-movie").inner_text())

    open_scene(page, 0)  # entered: the scene does not offer a second entry
    assert page.get_by_role("button", name="Enter lottery").count() == 0
    assert "You are entered" in page.locator("#mm-actions").inner_text()

    # Entries close, the draw block is mined and the draw recorded: one entrant wins one segment.
    mine(chain, seconds=601)
    commit = chain.events(chain.transact("closeEntries", [movie_id], acc[3]))[0]["args"]["commitBlock"]
    mine(chain, blocks=commit - chain.w3.eth.block_number + 1)
    chain.transact("draw", [movie_id], acc[3])
    won = [i for i, w in enumerate(chain.call("winnersOf", movie_id, 0, segments)) if w == acc[1]]
    assert len(won) == 1

    page.locator("#mm-scene-close").click()
    open_movie(page, movie_id)  # opened again: the timeline and the card read the chain afresh
    page.wait_for_function("document.querySelector('[data-testid=lottery]').textContent.includes('draw is done')")
    assert page.get_by_role("button", name="Enter lottery").count() == 0
    page.wait_for_function(
        f"document.querySelector('.mm-cell[data-i=\"{won[0]}\"]').getAttribute('aria-label').includes('yours')"
    )
    assert "yours to mint (won in the lottery)" in cell_label(page, won[0])
    leftover = next(i for i in range(segments) if i not in won)
    assert "open" in cell_label(page, leftover)

    open_scene(page, leftover)
    assert page.get_by_role("button", name="Enter lottery").count() == 0
    page.get_by_role("button", name=f"Claim segment {leftover}").click()
    page.get_by_role("button", name="Render & Mint").wait_for(timeout=30_000)
    page.wait_for_function(
        f"document.querySelector('.mm-cell[data-i=\"{leftover}\"]').getAttribute('aria-label').includes('yours')"
    )
    assert chain.segments(movie_id, leftover, 1)[0]["account"] == acc[1]
    assert not UNIX_TIME.search(page.locator("#mm-movie").inner_text() + page.locator("#mm-scene").inner_text())
    shot(page, "modes-lottery-leftover.png")
    assert errors == []


def test_amounts_are_exact_decimals_from_wei(minter_stack, chromium):
    page = minter_stack.open_page(chromium, account=1)
    fmt = "([w, d]) => window.MMWallet.formatEth(w, d)"
    assert page.evaluate(fmt, ["4000000000000000", None]) == "0.004 ETH"
    assert page.evaluate(fmt, ["1234567890123456789", None]) == "1.234567890123456789 ETH"
    assert page.evaluate(fmt, ["0", None]) == "0 ETH"
    assert page.evaluate(fmt, ["123456789012345", 3]) == "0.000123 ETH"  # gas: 3 significant digits, truncated
    assert page.evaluate(fmt, [str(10**30 + 1), None]) == "1000000000000.000000000000000001 ETH"  # beyond 2**53


OBSERVE_JOB_JS = """
() => {
  window.__mmJobSeen = [];
  const note = () => {
    const ph = document.querySelector('[data-testid=job-phase]'), fr = document.querySelector('[data-testid=job-frames]');
    window.__mmJobSeen.push([ph ? ph.textContent : '', fr ? fr.textContent : '']);
  };
  new MutationObserver(note).observe(document.querySelector('#mm-scene-body'), { childList: true, subtree: true });
}
"""


def test_progress_speaks_plainly_and_a_waiting_signature_is_flagged(minter_stack, chromium):
    stack = minter_stack
    movie_id = stack.publish(lighthouse(), mode="open")
    page = stack.open_page(chromium, account=1)
    connect(page)
    open_movie(page, movie_id)
    open_scene(page, 0)
    page.get_by_role("button", name="Claim segment 0").click()
    render = page.get_by_role("button", name="Render & Mint")
    render.wait_for(timeout=30_000)
    stack.double.frame_delay = 0.03
    page.evaluate(OBSERVE_JOB_JS)
    page.evaluate("window.__mmTestWallet.rejectNext('eth_sendTransaction')")
    render.click()
    page.get_by_role("button", name="Sign to mint").wait_for(timeout=90_000)
    assert page.locator("#mm-job").evaluate("(el) => el.getBoundingClientRect().top < innerHeight")  # scrolled to

    seen = page.evaluate("window.__mmJobSeen")
    phases = {p for p, _ in seen if p}
    raw = [p for p in phases if re.search(r"[A-Z]{5,}|_", p) or p == "awaiting signature"]
    assert phases and raw == [], phases  # no GENERATING / POST_PROCESSING / "awaiting signature"
    assert "generating frames" in phases or "rendering" in phases
    full = [i for i, (_, f) in enumerate(seen) if re.match(r"^(\d+) / \1 frames$", f)]
    assert full, seen
    later = [f for _, f in seen[full[0] :] if f]
    assert not any(f.startswith("0 / ") for f in later), later  # encoding never resets the counter

    # Leave and come back (a reload, a new scene): the segment says it needs the signature.
    page.locator("#mm-scene-close").click()
    open_movie(page, movie_id)
    page.wait_for_function(
        "document.querySelector('.mm-cell[data-i=\"0\"]').getAttribute('aria-label').includes('needs your signature')"
    )
    assert "Segment 0 needs your signature" in page.get_by_test_id("needs-signature").inner_text()
    shot(page, "progress-needs-signature.png")
