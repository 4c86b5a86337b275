"""Takes ballots in the browser (Playwright + anvil + the injected test wallet + the A1111 stand-in): the director
opens takes and idea ballots in the Studio, settles a takes ballot and releases a segment whose winner did not
mint it; a pass holder renders a take in the tab (the job pins it, the wallet signs recordTake), holders vote,
and the winning take's author mints it from the tab with the take's own files, while a loser cannot."""

from __future__ import annotations

import json

import pytest

from movieminter.chain.client import ChainError
from movieminter.ipfs.cid import cid_to_digest, digest_to_cid
from tests.fixtures_chain import chain_now, mine
from tests.fixtures_ui import shot
from tests.test_ui_community import TICKET, assert_nothing_clipped, community_stack, season, tab_page  # noqa: F401
from tests.test_ui_controls import studio_page
from tests.test_ui_modes import connect, open_movie, open_scene  # noqa: F401 - the tab test below

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def load_movie(page, movie: int):
    """Loads the movie in the Studio; waits for the ballots panel's fresh content (not the last load's)."""
    page.evaluate("() => document.querySelectorAll('.mm-ballots-body').forEach((b) => { b.innerHTML = ''; })")
    page.fill("#mm-movie-id", str(movie))
    page.click("#mm-load")
    panel = page.get_by_test_id("ballots")
    panel.locator(".mm-ballots-body > *").first.wait_for(timeout=30_000)
    return panel


def opened(com, movie: int) -> list[dict]:
    return [dict(e["args"]) for e in com.logs(com.contract.events.BallotOpened, {"movieId": movie})]


def wait_text(page, testid: str, text: str, timeout: int = 60_000):
    page.wait_for_function(
        "([id, t]) => (document.querySelector(`[data-testid='${id}']`)?.textContent || '').includes(t)",
        arg=[testid, text],
        timeout=timeout,
    )


@pytest.mark.parametrize("theme,width", [("", 1280), ("?__theme=dark", 420)])
def test_the_director_opens_settles_and_releases_ballots_in_the_studio(community_stack, chromium, theme, width):  # noqa: F811
    stack, com, chain = community_stack, community_stack.com, community_stack.chain
    acc = chain.w3.eth.accounts
    collective, movie = season(stack)
    passes = {i: com.buy_pass(collective, acc[i]) for i in (1, 2)}
    for i in (2, 3, 4):  # tickets: accounts 3 and 4 vote with theirs, 2 with its pass
        chain.transact("buyTicket", [movie], acc[i], value=TICKET)

    # A pass holder is not the director: no form, and the server refuses to prepare the transaction.
    member = studio_page(stack, chromium, theme, account=1)
    assert f"{acc[1]} is neither movie {movie}'s director" in load_movie(member, movie).inner_text()
    refused = member.evaluate(
        "(m) => window.MMWallet.api(`api/v1/takes/movies/${m}/ballots/tx`, {method: 'POST', body: {kind: 'takes'}})"
        ".then(() => 'prepared', (e) => e.message)",
        movie,
    )
    assert "neither movie" in refused

    page = studio_page(stack, chromium, theme, account=9)
    page.set_viewport_size({"width": width, "height": 900})
    panel = load_movie(page, movie)
    assert panel.inner_text().count("No ballot yet") == 1
    before = chain_now(chain)
    panel.get_by_role("spinbutton", name="Segment").fill("1")
    panel.get_by_label("Minutes until voting starts").fill("10")
    panel.get_by_label("Voting minutes").fill("60")
    panel.get_by_role("button", name="Open ballot").click()
    panel.locator("[data-testid^=studio-ballot-]").first.wait_for(timeout=60_000)
    (b,) = opened(com, movie)
    takes = int(b["ballotId"])
    assert b["takes"] and b["segment"] == 1 and b["options"] == 0
    assert 600 <= b["start"] - before <= 660 and b["end"] - b["start"] == 3600  # chain time, as the CLI counts
    assert "taking takes" in panel.get_by_test_id(f"ballot-state-{takes}").inner_text()

    # An idea: its labels are pinned, and its digest is the ballot's.
    panel.locator("#mm-ballot-kind").select_option("idea")
    panel.get_by_label("Options, one per line (2 to 8)").fill("Dawn\nStorm\n\nNight")
    panel.get_by_role("button", name="Open ballot").click()
    page.get_by_test_id(f"studio-ballot-{takes + 1}").wait_for(timeout=60_000)
    idea = opened(com, movie)[1]
    assert not idea["takes"] and idea["options"] == 3
    labels = json.loads(stack.ctx.store.cat(digest_to_cid(bytes(idea["optionsDigest"]))))
    assert labels == {"options": ["Dawn", "Storm", "Night"]}
    assert "Idea: Dawn / Storm / Night" in page.get_by_test_id(f"studio-ballot-{takes + 1}").inner_text()
    assert_nothing_clipped(page, [".mm-ballots-panel", ".mm-ballot-form button", ".mm-ballots"])
    shot(page, f"studio-ballots{'-dark-420' if theme else ''}.png")

    # The ticket holders' first votes are prepared (one word serves the nearby idea ballot too).
    assert page.get_by_test_id(f"prepare-votes-{takes}").inner_text() == "Prepare votes (2)"
    assert "about 63,000 gas" in page.get_by_test_id("prepare-votes-hint").inner_text()
    page.get_by_role("button", name=f"Prepare 2 ticket votes of ballot {takes}").click()
    page.get_by_test_id(f"prepare-votes-{takes}").wait_for(state="detached", timeout=60_000)
    assert page.get_by_test_id(f"prepare-votes-{takes + 1}").count() == 0
    assert page.get_by_test_id("prepare-votes-hint").count() == 0
    assert [com.call("ticketVotePrepared", takes, acc[i]) for i in (2, 3, 4)] == [False, True, True]

    # Two takes, votes; Settle appears only once the vote is over and names the take most passes voted for.
    for k, i in enumerate((1, 2)):
        video = stack.ctx.store.add_bytes(f"take {k}".encode())
        com.record_take(takes, passes[i], cid_to_digest(video), cid_to_digest(video), acc[i])
    mine(chain, seconds=700)
    com.vote(takes, 1, acc[1], passes[1])
    com.vote(takes, 1, acc[2], passes[2])
    ticket_vote = com.vote(takes, 0, acc[3])  # a prepared ticket vote stays under the 50,000 gas goal
    assert ticket_vote["gasUsed"] <= 50_000
    panel = load_movie(page, movie)
    assert panel.get_by_role("button", name="Settle").count() == 0
    assert "2 votes" in panel.get_by_test_id(f"ballot-tallies-{takes}").inner_text()
    assert "1 vote" in panel.get_by_test_id(f"ballot-tallies-{takes}").inner_text()
    mine(chain, seconds=3600)
    panel = load_movie(page, movie)
    panel.get_by_role("button", name="Settle").click()
    wait_text(page, f"ballot-state-{takes}", f"Take 2 by {acc[2][:6]}")
    assert com.winning_take(takes)["taker"] == acc[2]
    with pytest.raises(ChainError, match="NotAllowed|not allowed|may not"):  # only the winner's take mints
        chain.build_tx("mintSegment", [movie, 1, b"\1" * 32, b"\1" * 32], acc[1])

    # The winner does not mint within the claim window: Release opens the segment again.
    assert panel.get_by_role("button", name="Release").count() == 0
    mine(chain, seconds=3600)
    panel = load_movie(page, movie)
    panel.get_by_role("button", name="Release").click()
    wait_text(page, f"ballot-state-{takes}", "Released")
    assert com.logs(com.contract.events.TakesReleased, {"ballotId": takes})


def takes_ballot(stack) -> tuple[int, dict, int]:
    """A season movie whose segment 1 takes takes for 15 minutes, then a one-hour vote; accounts 1 and 2 hold
    passes. Returns (movie, {account: pass}, ballot)."""
    com, acc = stack.com, stack.chain.w3.eth.accounts
    collective, movie = season(stack)
    passes = {i: com.buy_pass(collective, acc[i]) for i in (1, 2)}
    now = chain_now(stack.chain)
    return movie, passes, com.open_ballot(movie, acc[9], segment=1, start=now + 900, end=now + 900 + 3600)


def takes_box(page):
    box = page.get_by_test_id("takes")
    box.get_by_test_id("takes-message").wait_for(timeout=30_000)
    return box


def scene_takes(stack, chromium, account: int, movie: int):
    """The tab as `account`, signed in, on segment 1's scene: (page, its takes box)."""
    page = tab_page(stack, chromium, account)
    connect(page)
    open_movie(page, movie)
    open_scene(page, 1)
    return page, takes_box(page)


def test_a_pass_holder_records_a_take_in_the_tab_and_the_winner_mints_it(community_stack, chromium):  # noqa: F811
    stack, com, chain = community_stack, community_stack.com, community_stack.chain
    acc = chain.w3.eth.accounts
    movie, passes, ballot = takes_ballot(stack)

    # Not a pass holder: told why, no Render take (and no Claim: the ballot holds the segment).
    outsider, box = scene_takes(stack, chromium, 3, movie)
    assert "Only holders of collective" in box.get_by_test_id("takes-message").inner_text()
    assert outsider.locator("#mm-actions button").count() == 0

    # A pass holder renders a take: the job renders, encodes and pins, then the wallet signs recordTake.
    page, box = scene_takes(stack, chromium, 1, movie)
    box.get_by_role("button", name="Render take").click()
    page.get_by_test_id("take-recorded").wait_for(timeout=180_000)
    (job,) = [j for j in stack.ctx.journal.list() if j.wallet.lower() == acc[1].lower()]
    pinned = job.data["pinned"]
    (take,) = com.takes(ballot)
    assert take["taker"] == acc[1]
    assert "0x" + take["content_digest"].hex() == pinned["content_digest"]
    assert "0x" + take["metadata_digest"].hex() == pinned["metadata_digest"]
    assert stack.ctx.store.cat(pinned["video_cid"])[4:8] == b"ftyp"  # the rendered MP4 is pinned
    assert chain.segments(movie, 1, 1)[0]["status"] == "open"  # a take mints nothing
    box = takes_box(page)
    assert box.get_by_test_id("your-take").inner_text() == "Your take: Take 1 (recorded)."
    assert box.get_by_role("button", name="Render take").count() == 0  # one take job per wallet and segment

    # A second member's take; holders vote (the existing Community card) for Take 1; the director settles.
    video = stack.ctx.store.add_bytes(b"another take")
    com.record_take(ballot, passes[2], cid_to_digest(video), cid_to_digest(video), acc[2])
    mine(chain, seconds=1000)
    loser = tab_page(stack, chromium, 2)
    connect(loser)
    open_movie(loser, movie)
    card = loser.get_by_test_id(f"ballot-{ballot}")
    card.get_by_role("button", name="Vote for Take 1").click()
    wait_text(loser, "votes-0", "1 vote")
    mine(chain, seconds=3600)
    director = studio_page(stack, chromium, "", account=9)
    load_movie(director, movie).get_by_role("button", name="Settle").click()
    wait_text(director, f"ballot-state-{ballot}", "Take 1 by")

    # The loser sees who won, and cannot mint it (nor mint the winner's job).
    loser.reload()
    loser.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    connect(loser)
    open_movie(loser, movie)
    open_scene(loser, 1)
    box = takes_box(loser)
    assert f"Take 1 by {acc[1]} won the vote" in box.get_by_test_id("takes-message").inner_text()
    assert box.get_by_role("button").count() == 0
    refused = loser.evaluate(
        "(id) => window.MMWallet.api(`api/v1/takes/jobs/${id}/mint`, {method: 'POST'}).then(() => 'ok', (e) => e.message)",
        job.id,
    )
    assert refused == f"Job {job.id} is not your take."

    # The winner mints the winning take: the same job, its pinned files, no second render.
    page.reload()
    page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    connect(page)
    won = page.get_by_test_id("my-work").get_by_test_id("work-take_won")  # the list says what to do
    won.wait_for(timeout=30_000)
    assert f"Take 1 won ballot {ballot}: open it and click Mint winning take." in won.inner_text()
    open_movie(page, movie)
    open_scene(page, 1)
    takes_box(page).get_by_role("button", name="Mint winning take").click()
    page.get_by_test_id("minted").wait_for(timeout=120_000)
    seg = chain.segments(movie, 1, 1)[0]
    assert seg["status"] == "minted" and seg["account"] == acc[1]
    assert seg["metadataDigest"] == pinned["metadata_digest"]
    states = [t["to"] for t in stack.ctx.journal.transitions(job.id)]
    assert states.count("rendering") == 1 and states[-4:] == ["take_recorded", "pinned", "awaiting_signature", "minted"]
    shot(page, "tab-winning-take.png")


def test_a_take_recorded_from_the_terminal_is_minted_from_the_tab(community_stack, chromium):  # noqa: F811
    """No job here pinned the take: the tab mints the files the settled ballot names, with no render."""
    stack, com, chain = community_stack, community_stack.com, community_stack.chain
    acc = chain.w3.eth.accounts
    movie, passes, ballot = takes_ballot(stack)
    video, metadata = stack.ctx.store.add_bytes(b"a take from the terminal"), stack.ctx.store.add_bytes(b"{}")
    com.record_take(ballot, passes[2], cid_to_digest(video), cid_to_digest(metadata), acc[2])  # `ballot take`
    mine(chain, seconds=1000)
    com.vote(ballot, 0, acc[1], passes[1])
    mine(chain, seconds=3600)
    com.settle_takes(ballot, acc[9])

    page, box = scene_takes(stack, chromium, 2, movie)
    assert "with the files the ballot names" in box.get_by_test_id("takes-message").inner_text()
    box.get_by_role("button", name="Mint winning take").click()
    page.get_by_test_id("minted").wait_for(timeout=120_000)
    seg = chain.segments(movie, 1, 1)[0]
    assert seg["status"] == "minted" and seg["account"] == acc[2]
    assert seg["contentDigest"] == "0x" + cid_to_digest(video).hex()
    (job,) = [j for j in stack.ctx.journal.list() if j.wallet.lower() == acc[2].lower()]
    assert "rendering" not in [t["to"] for t in stack.ctx.journal.transitions(job.id)]
