"""The community in the browser (Playwright + anvil + the injected test wallet): buying a season pass in the tab
(exact prices, the early tier, the cost shown before the wallet signs), voting on takes and ideas (one vote per
pass or ticket, tallies for anyone), and the director's approval and rejection in the Studio; light and dark,
1280 and 420 px, with no control clipped."""

from __future__ import annotations

import json

import pytest

from movieminter.chain.community import CommunityClient
from movieminter.ipfs.cid import cid_to_digest
from tests.fixtures_chain import chain_now, mine
from tests.fixtures_ui import MinterStack, shot
from tests.test_ui_controls import studio_page
from tests.test_ui_modes import connect, lighthouse, open_movie
from tests.test_ui_theme import CLIPPED_JS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PRICE = 35 * 10**14  # 0.0035 ETH, the seed's example
EARLY = 25 * 10**14
TICKET = 10**15

# Records what the page says about the cost at the moment the wallet is asked to sign.
COST_SPY = """() => {
  const p = window.__mmTestWallet.provider, orig = p.request.bind(p);
  window.__costAtSign = [];
  p.request = (args) => {
    if (args.method === "eth_sendTransaction") {
      const el = document.querySelector(".mm-community-msg [data-testid=tx-cost]");
      window.__costAtSign.push(el ? el.textContent : null);
    }
    return orig(args);
  };
}"""


@pytest.fixture
def community_stack(tmp_path, anvil, a1111, serve_app):
    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.chain.client import ChainClient
    from movieminter.config import Settings

    double, a1111_url = a1111
    chain = ChainClient(anvil.url)
    address = chain.deploy()
    chain = ChainClient(anvil.url, address)
    com = CommunityClient(anvil.url)
    com.deploy(minter_address=address)
    settings = Settings(
        data_dir=tmp_path / "app",
        a1111_url=a1111_url,
        chain="local",
        rpc_url=anvil.url,
        contract_address=address,
        community_address=com.contract_address,
    )
    ctx = AppContext(settings)
    ctx.chain_id = 31337
    stack = MinterStack(anvil, chain, ctx, serve_app(create_app(ctx)), double)
    stack.com = com
    return stack


def season(stack, *, early_cap: int = 1, minters_bps: int = 0) -> tuple[int, int]:
    """The example film (open mode, tickets at 0.001 ETH, director accounts[9]) in a collective led by
    accounts[7], whose pass costs 0.0035 ETH, the first `early_cap` at 0.0025 ETH; the creator (accounts[8])
    gets 10 % of pass sales, the minters `minters_bps`."""
    from movieminter.app.director import pin_manifest
    from movieminter.chain.client import MovieConfig

    acc = stack.chain.w3.eth.accounts
    manifest = lighthouse()
    pinned = pin_manifest(stack.ctx.store, manifest)
    config = MovieConfig(
        manifest_digest=pinned["digest"],
        segment_count=len(manifest["segments"]),
        creator=acc[8],
        director=acc[9],
        mint_mode="open",
        claim_window=3600,
        ticket_price=TICKET,
    )
    movie = stack.chain.movie_id_from_receipt(stack.chain.transact("createMovie", [config.as_tuple()], acc[0]))
    collective = stack.com.create_collective(acc[7], PRICE, EARLY, early_cap, acc[8], 1000, minters_bps)
    stack.com.join_collective(movie, collective, acc[9])
    return collective, movie


def tab_page(stack, browser, account: int, theme: str = "", width: int = 1280):
    page = stack.open_page(browser, account=account)
    page.set_viewport_size({"width": width, "height": 900})
    if theme:
        page.goto(stack.url + "/" + theme)
        page.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    return page


def assert_nothing_clipped(page, selectors):
    out = page.evaluate(CLIPPED_JS, selectors)
    assert out["bad"] == [] and out["pageWidth"] <= out["W"] + 1, out


@pytest.mark.parametrize("theme,width", [("", 1280), ("?__theme=dark", 420)])
def test_a_member_buys_a_season_pass_in_the_tab(community_stack, chromium, theme, width):
    stack, com = community_stack, community_stack.com
    acc = stack.chain.w3.eth.accounts
    collective, movie = season(stack, early_cap=1)
    page = tab_page(stack, chromium, 1, theme, width)
    connect(page)
    open_movie(page, movie)
    card = page.get_by_test_id("community")
    card.get_by_test_id("pass-price").wait_for(timeout=30_000)
    assert "Price: 0.0035 ETH" in card.get_by_test_id("pass-price").inner_text()
    assert card.get_by_test_id("pass-early-left").inner_text() == "1"
    assert "Early tier: 1 of 1 pass left at 0.0025 ETH." in card.inner_text()  # exact, from wei
    buy = card.get_by_test_id("buy-pass")
    assert buy.inner_text() == "Buy a season pass for 0.0025 ETH (early tier)"
    assert page.get_by_test_id("collective-movies").is_hidden()  # not a member yet
    page.evaluate(COST_SPY)
    buy.click()
    card.get_by_test_id("pass-held").wait_for(timeout=60_000)
    # The page showed the exact price (and the gas bound) before the wallet was asked to sign.
    seen = page.evaluate("window.__costAtSign")
    assert len(seen) == 1 and seen[0].startswith("0.0025 ETH + up to "), seen
    assert "You hold 1 pass of this collective." in card.inner_text()
    assert card.get_by_test_id("pass-early-left").inner_text() == "0"
    assert card.get_by_test_id("buy-pass").inner_text() == "Buy a season pass for 0.0035 ETH"
    # On chain: the pass is the buyer's, the contract holds exactly the early price.
    assert com.call("ownerOf", collective << 32) == acc[1]
    assert com.w3.eth.get_balance(com.contract_address) == EARLY
    # Now a member: the collective's movies come first in the movie loader.
    mine = page.get_by_test_id("collective-movies")
    mine.get_by_role("button", name=f"#{movie} ").wait_for(timeout=30_000)
    assert page.locator("#mm-community-movies + #mm-recent").count() == 1  # above the recent movies
    assert_nothing_clipped(page, [".mm-community", ".mm-community button", ".mm-community p", "#mm-community-movies"])
    shot(page, f"community-pass{'-dark-420' if theme else ''}.png")


def test_members_and_ticket_holders_vote_once_and_anyone_reads_the_tally(community_stack, chromium):
    stack, com, chain = community_stack, community_stack.com, community_stack.chain
    acc = chain.w3.eth.accounts
    collective, movie = season(stack)
    passes = {i: com.buy_pass(collective, acc[i]) for i in (1, 2)}
    chain.transact("buyTicket", [movie], acc[3], value=TICKET)  # a ticket, no pass: one vote
    now = chain_now(chain)
    takes = com.open_ballot(movie, acc[9], segment=1, start=now + 300, end=now + 86_400)
    store = stack.ctx.store
    videos = [store.add_bytes(f"take {k} video".encode()) for k in range(3)]
    for taker, video in zip((1, 2, 2), videos, strict=True):
        com.record_take(takes, passes[taker], cid_to_digest(video), cid_to_digest(video), acc[taker])
    labels = store.add_bytes(json.dumps({"options": ["Dawn", "Storm", "Night"]}).encode())
    idea = com.open_ballot(
        movie, acc[7], takes=False, options=3, start=now + 300, end=now + 86_400, options_digest=cid_to_digest(labels)
    )
    mine(chain, seconds=400)

    page = tab_page(stack, chromium, 1)
    connect(page)
    open_movie(page, movie)
    ballot = page.get_by_test_id(f"ballot-{takes}")
    ballot.get_by_test_id("option-2").wait_for(timeout=30_000)
    assert "Takes for segment 1" in ballot.inner_text()
    assert ballot.get_by_test_id("your-votes").inner_text().startswith("You have 1 vote left")
    # Each take plays its pinned video.
    src = ballot.get_by_test_id("take-video-1").evaluate("(v) => v.src")
    assert page.evaluate("(u) => fetch(u).then((r) => r.text())", src) == "take 1 video"
    ballot.get_by_role("button", name="Vote for Take 2").click()
    ballot = page.get_by_test_id(f"ballot-{takes}")
    page.wait_for_function(
        f"document.querySelector('[data-testid=ballot-{takes}] [data-testid=votes-1]').textContent === '1 vote'",
        timeout=60_000,
    )
    assert ballot.get_by_test_id("your-votes").inner_text().startswith("You have no vote left")
    assert all(b.is_disabled() for b in ballot.get_by_role("button").all())  # one vote per pass
    # The idea ballot shows the director's pinned labels.
    ideas = page.get_by_test_id(f"ballot-{idea}")
    assert [ideas.get_by_test_id(f"option-{k}").locator("b").inner_text() for k in range(3)] == labels_of(store, labels)
    ideas.get_by_role("button", name="Vote for Storm").click()
    page.wait_for_function(
        f"document.querySelector('[data-testid=ballot-{idea}] [data-testid=votes-1]').textContent === '1 vote'",
        timeout=60_000,
    )

    # A ticket holder without a pass votes once, with the ticket.
    fan = tab_page(stack, chromium, 3)
    connect(fan)
    open_movie(fan, movie)
    ballot = fan.get_by_test_id(f"ballot-{takes}")
    ballot.get_by_test_id("your-votes").wait_for(timeout=30_000)
    assert ballot.get_by_test_id("your-votes").inner_text() == "You can vote once with your ticket."
    ballot.get_by_role("button", name="Vote for Take 2").click()
    fan.wait_for_function(
        f"document.querySelector('[data-testid=ballot-{takes}] [data-testid=votes-1]').textContent === '2 votes'",
        timeout=60_000,
    )
    assert fan.get_by_test_id(f"ballot-{takes}").get_by_test_id("your-votes").inner_text().startswith("You have no")

    # Anyone reads the tallies, signed in or not.
    anyone = tab_page(stack, chromium, 4)
    open_movie(anyone, movie)
    ballot = anyone.get_by_test_id(f"ballot-{takes}")
    ballot.get_by_test_id("votes-1").wait_for(timeout=30_000)
    assert [ballot.get_by_test_id(f"votes-{k}").inner_text() for k in range(3)] == ["0 votes", "2 votes", "0 votes"]
    assert ballot.get_by_test_id("your-votes").inner_text() == "Connect your wallet to vote."
    assert com.ballot(takes)["tallies"] == [0, 2, 0] and com.ballot(idea)["tallies"] == [0, 1, 0]
    # When the window closes, the winner is announced to everyone.
    mine(chain, seconds=86_400)
    anyone.reload()
    anyone.wait_for_selector(".mm-root[data-ready='1']", timeout=30_000)
    open_movie(anyone, movie)
    phase = anyone.get_by_test_id(f"ballot-{takes}").get_by_test_id("ballot-phase")
    phase.wait_for(timeout=30_000)
    assert "Closed. Winner: Take 2 (2 votes)." in phase.inner_text()
    shot(anyone, "community-votes.png")


def labels_of(store, cid) -> list[str]:
    return json.loads(store.cat(cid))["options"]


def _mint(stack, movie: int, segment: int, account: str) -> None:
    video = stack.ctx.store.add_bytes(f"segment {segment} video".encode())
    stack.chain.transact("claim", [movie, segment], account)
    stack.chain.transact("mintSegment", [movie, segment, cid_to_digest(video), cid_to_digest(video)], account)


@pytest.mark.parametrize("theme,width", [("", 1280), ("?__theme=dark", 420)])
def test_the_director_approves_and_rejects_with_a_reason_in_the_studio(community_stack, chromium, theme, width):
    stack, com = community_stack, community_stack.com
    acc = stack.chain.w3.eth.accounts
    _, movie = season(stack)
    minter = acc[2]
    for segment in (0, 1):
        _mint(stack, movie, segment, minter)
    com.set_approval_window(movie, 3 * 24 * 3600, acc[9])
    com.submit_segment(movie, 0, minter)

    # The holder submits segment 1 from the Studio; no review buttons for them.
    holder = studio_page(stack, chromium, theme, account=2)
    holder.fill("#mm-movie-id", str(movie))
    holder.click("#mm-load")
    mine_panel = holder.get_by_test_id("reviews")
    mine_panel.get_by_test_id("state-1").wait_for(timeout=30_000)
    assert mine_panel.get_by_role("button", name="Approve").count() == 0
    mine_panel.get_by_test_id("review-1").get_by_role("button", name="Submit for review").click()
    holder.wait_for_function(
        "document.querySelector('[data-testid=state-1]')?.textContent === 'waiting for review'", timeout=60_000
    )
    assert com.review_of(movie, 1) == "pending"

    page = studio_page(stack, chromium, theme, account=9)
    page.set_viewport_size({"width": width, "height": 900})
    page.fill("#mm-movie-id", str(movie))
    page.click("#mm-load")
    panel = page.get_by_test_id("reviews")
    panel.get_by_test_id("state-1").wait_for(timeout=30_000)
    assert "after 72 hours" in panel.get_by_test_id("approval-window").inner_text()
    assert panel.get_by_test_id("state-0").inner_text() == "waiting for review"
    assert_nothing_clipped(page, [".mm-review-panel", ".mm-reviews", ".mm-review-act button", ".mm-reason input"])
    shot(page, f"community-review{'-dark-420' if theme else ''}.png")

    # A rejection needs a reason: refused before the wallet is asked.
    sent = lambda: page.evaluate("window.__mmTestWallet.log.filter((m) => m === 'eth_sendTransaction').length")  # noqa: E731
    before = sent()
    panel.get_by_test_id("review-1").get_by_role("button", name="Reject").click()
    panel.get_by_text("Say why you reject the segment.").wait_for(timeout=30_000)
    assert sent() == before

    panel.get_by_test_id("review-0").get_by_role("button", name="Approve").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=state-0]')?.textContent === 'approved'", timeout=60_000
    )
    reason = "Too dark after frame 40; please re-render with the lamp lit."
    panel.get_by_label("Reason for rejecting segment 1").fill(reason)
    panel.get_by_test_id("review-1").get_by_role("button", name="Reject").click()
    panel.get_by_test_id("rejected-1").wait_for(timeout=60_000)
    assert panel.get_by_test_id("rejected-1").inner_text() == f"Rejected: {reason}"
    # Rejection burns that version and opens the segment to be minted again.
    assert panel.get_by_test_id("state-1").inner_text() == "rejected: open to mint again"
    assert com.review_of(movie, 0) == "approved" and stack.chain.segments(movie, 1, 1)[0]["status"] == "open"
    assert com.rejections(movie) == [{"segment": 1, "director": acc[9], "reason": reason}]

    # The minter sees the reason; nothing is left for them to submit.
    holder.fill("#mm-movie-id", str(movie))
    holder.click("#mm-load")
    mine_panel = holder.get_by_test_id("reviews")
    mine_panel.get_by_test_id("rejected-1").wait_for(timeout=30_000)
    assert mine_panel.get_by_test_id("rejected-1").inner_text() == f"Rejected: {reason}"
    assert mine_panel.get_by_role("button", name="Approve").count() == 0
    assert mine_panel.get_by_role("button", name="Submit for review").count() == 0


def test_the_watch_page_card_in_dark_mode_at_420_px(community_stack, chromium):
    """The Watch page's community card (pass, a ballot with takes) and credits: readable and unclipped."""
    from tests.test_ui_theme import new_page

    stack, com, chain = community_stack, community_stack.com, community_stack.chain
    acc = chain.w3.eth.accounts
    collective, movie = season(stack)
    pass_id = com.buy_pass(collective, acc[1])
    now = chain_now(chain)
    ballot = com.open_ballot(movie, acc[9], segment=0, start=now + 300, end=now + 86_400)
    video = stack.ctx.store.add_bytes(b"a take")
    com.record_take(ballot, pass_id, cid_to_digest(video), cid_to_digest(video), acc[1])
    page = new_page(chromium, f"{stack.url}/watch/?movie={movie}&__theme=dark", 420)
    card = page.get_by_test_id("community")
    card.get_by_test_id("pass-price").wait_for(timeout=60_000)
    assert "Takes are recorded until" in card.get_by_test_id(f"ballot-{ballot}").inner_text()
    page.locator(".mm-credits").get_by_text("Season pass holders").wait_for(timeout=60_000)
    assert page.evaluate("document.body.classList.contains('dark')")
    assert_nothing_clipped(page, [".mm-community", ".mm-community p", ".mm-option", ".mm-take", ".mm-credits dd"])
    shot(page, "community-watch-dark-420.png")


def test_the_watch_page_plays_only_approved_segments(community_stack, chromium, tmp_path):
    """A movie that requires approval: the approved segment plays; the pending one is a placeholder card in the
    video and says so (with its auto-approval time) in the chapter list; approving it, or its window ending,
    makes a new cut in which it plays."""
    from datetime import datetime, timezone

    import numpy as np

    from movieminter.app import viewer
    from tests.fixtures_media import decode_frame
    from tests.test_ui_watch import mint_red_segment

    stack, com, chain = community_stack, community_stack.com, community_stack.chain
    acc = chain.w3.eth.accounts
    _, movie = season(stack)
    manifest = lighthouse()
    for segment in (2, 3, 4):
        mint_red_segment(stack, manifest, movie, segment, tmp_path, acc[2])
    com.set_approval_window(movie, 24 * 3600, acc[9])
    for segment in (2, 3, 4):
        com.submit_segment(movie, segment, acc[2])
    com.review_segment(movie, 2, True, acc[9])
    auto = com.auto_approve_at(movie, 3)
    chain.transact("buyTicket", [movie], acc[5], value=TICKET)

    fps = manifest["movie"]["fps"]
    starts = [sum(s["frame_count"] for s in manifest["segments"][:i]) / fps for i in range(7)]

    def middle(path, segment: int) -> np.ndarray:
        return decode_frame(path, (starts[segment] + starts[segment + 1]) / 2).reshape(-1, 3).mean(axis=0)

    def is_red(rgb) -> bool:
        return rgb[0] > 180 and rgb[1] < 80 and rgb[2] < 80

    page = stack.open_page(chromium, account=5)
    page.goto(f"{stack.url}/watch/?movie={movie}")
    page.wait_for_function("window.MMPage && document.querySelector('.mm-connect')", timeout=60_000)
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    page.wait_for_function("document.querySelector('#mm-video').readyState >= 1", timeout=300_000)

    def credit(segment: int) -> str:
        return page.locator(f"#mm-chapters li[data-index='{segment}'] .mm-credit").inner_text()

    when = datetime.fromtimestamp(auto, timezone.utc).strftime("%Y-%m-%d %H:%M")
    assert credit(2) == f"minted by {acc[2][:6]}…{acc[2][-4:]}"
    for segment in (3, 4):
        assert credit(segment) == (
            f"minted by {acc[2][:6]}…{acc[2][-4:]}, awaiting the director's approval (auto-approved {when} UTC)"
        )
    assert credit(1) == "not minted yet"
    # the scrub bar marks the segments that play: only segment 2
    assert page.get_attribute(".mm-scrub-minted", "d").count("M") == 1
    (first,) = (stack.ctx.settings.data_dir / "movies" / str(movie)).glob("movie-*.mp4")
    duration = page.evaluate("document.querySelector('#mm-video').duration")
    assert duration > starts[6]  # the whole film plays (the held segments as cards), then the credits
    assert is_red(middle(first, 2)) and not any(is_red(middle(first, s)) for s in (3, 4))
    # the HLS playlist leaves them out too (gaps, like unminted segments)
    assert viewer.hls_playlist(stack.ctx, movie, "http://gw/ipfs/").count("#EXT-X-GAP") == 5  # 2 plays

    # The director approves segment 3: reopening the movie plays it; 4 still waits.
    com.review_segment(movie, 3, True, acc[9])
    page.click("#mm-open")
    page.wait_for_function(
        "!document.querySelector(\"#mm-chapters li[data-index='3'] .mm-credit\").textContent.includes('awaiting')",
        timeout=300_000,
    )
    assert "awaiting the director's approval" in credit(4)
    # the stream the player asks for (fetched here too, with the page's session, so the test does not depend
    # on when the <video> reloads): a new cut
    stream = f"fetch(MMPage.resolve('api/v1/movies/{movie}/stream.mp4')).then((r) => r.status)"
    assert page.evaluate(stream) == 200
    (second,) = (stack.ctx.settings.data_dir / "movies" / str(movie)).glob("movie-*.mp4")
    assert is_red(middle(second, 3)) and not is_red(middle(second, 4))

    # Segment 4's window ends (chain time): auto-approved, it plays without the director.
    mine(chain, 1, 24 * 3600 + 1)
    assert com.review_of(movie, 4) == "approved"
    assert not any(c["awaiting"] for c in viewer.chapters(stack.ctx, movie))
    third = viewer.stitched_movie(stack.ctx, movie)
    assert third != second and is_red(middle(third, 4))
    assert viewer.hls_playlist(stack.ctx, movie, "http://gw/ipfs/").count("#EXT-X-GAP") == 3  # 2, 3, 4 play
    page.context.close()
