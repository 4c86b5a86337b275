"""`movieminter demo --season` end to end on anvil, then the credits over REST and on the Watch page."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from movieminter.chain.community import CommunityClient
from tests.fixtures_flows import ROOT, DemoWorld

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def season_world(tmp_path_factory):
    from movieminter.app.context import AppContext
    from movieminter.app.demo_cast import with_gateway
    from movieminter.app.server import create_app
    from movieminter.chain.anvil import Anvil
    from movieminter.chain.client import ChainClient
    from movieminter.config import Settings
    from tests.fixtures_app import ServerThread

    data_dir = tmp_path_factory.mktemp("season") / "data"
    with Anvil() as anvil:
        cmd = [sys.executable, "-m", "movieminter", "demo", "--no-serve", "--season"]
        proc = subprocess.run(
            [*cmd, "--data-dir", str(data_dir), "--anvil-url", anvil.url],
            capture_output=True,
            text=True,
            timeout=900,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            cwd=ROOT,
        )
        assert proc.returncode == 0, f"demo failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        summary = json.loads((data_dir / "demo-summary.json").read_text())
        chain = ChainClient(anvil.url, summary["contract"])
        world = DemoWorld(anvil, chain, summary, proc.stdout + proc.stderr, data_dir)
        settings = Settings(
            data_dir=data_dir,
            chain="local",
            rpc_url=anvil.url,
            contract_address=summary["contract"],
            community_address=summary["community"],
        )
        world.ctx = AppContext(settings, chain_id=31337)
        world.server = ServerThread(with_gateway(create_app(world.ctx, run_jobs=False), world.ctx.store)).start()
        try:
            yield world
        finally:
            world.server.stop()


def test_season_output_and_chain(season_world):
    out, s = season_world.output, season_world.summary
    # the movie is stitched once, after the season (its takes, approvals and pass holders are in it)
    season_step = out.index("[9/10] Season: passes, a collective, three takes and a vote, approval, credits")
    assert out.count("Stitch the movie") == 1
    assert out.index("[10/10] Stitch the movie from the minted segments") > season_step
    assert out.count("✓ proves:") == 10
    com = CommunityClient(season_world.chain.rpc_url, s["community"])
    assert com.call("minter") == s["contract"]
    season = s["season"]
    cid, movie = season["collective"], s["movie_id"]
    assert com.call("collectiveOf", movie) == cid
    assert com.collective(cid).leader == s["wallets"]["leader"]
    # the pass sale: two early, one regular; each pass owned by its buyer
    assert com.collective(cid).sold == 3
    for role, pass_id in season["passes"].items():
        assert com.call("ownerOf", pass_id) == s["wallets"][role]
    assert "(early tier)" in out and out.count("bought pass") == 3
    # three takes, the vote picked take 1 (two passes against one)
    ballot = com.ballot(season["ballot"]["id"])
    assert len(com.takes(season["ballot"]["id"])) == 3
    assert ballot["tallies"] == [1, 2, 0] and ballot["final"] and ballot["leader"] == 1
    # the winning take is the segment; the losing one was refused
    chain = season_world.chain
    take = com.takes(season["ballot"]["id"])[1]
    seg = chain.segments(movie, season["ballot"]["segment"], 1)[0]
    assert seg["status"] == "minted" and seg["account"] == take["taker"] == s["wallets"]["fan-2"]
    assert seg["metadataDigest"] == "0x" + take["metadata_digest"].hex()
    assert season["ballot"]["loser_refused"] == "NotAllowed" and "take 0 by fan-1 tries to mint" in out
    # approval held the payout back until approved; the rejection (with its reason) reopened the segment
    review = season["review"]
    assert com.review_of(movie, review["approved"]) == "approved"
    assert com.review_of(movie, review["rejected"]) == "unsubmitted"
    assert com.rejections(movie)[0]["reason"] == review["reason"]
    assert review["held_error"] == "SegmentNotApproved" and review["claimed"] > 0
    assert chain.segments(movie, review["rejected"], 1)[0]["status"] == review["reopened"] != "minted"
    assert "held back until approval" in out and "the segment reopened" in out
    # every wei of the ticket revenue: withdrawn, or held as the shares of unapproved / unminted segments
    tickets = season["tickets"]
    assert sum(tickets["withdrawn"].values()) + tickets["held"] == tickets["paid"] > 0
    per_segment = chain.movie(movie)["revenuePerSegment"]
    unpaid = int(chain.movie(movie)["segmentCount"]) - 1  # all but the approved, claimed one
    assert chain.w3.eth.get_balance(s["contract"]) == tickets["held"] == unpaid * per_segment
    # every wei of pass revenue: creator 10 % + minters 30 % + leader the rest = paid; paid = withdrawn + held
    revenue, prices = season["revenue"], (25 * 10**14, 25 * 10**14, 35 * 10**14)
    assert revenue["paid"] == sum(prices)
    split = revenue["split"]
    assert sum(split.values()) == revenue["paid"]
    assert split["creator"] == sum(p * 1000 // 10000 for p in prices) == revenue["withdrawn"]["creator"]
    segments = int(chain.movie(movie)["segmentCount"])
    pool = com.pass_pool(cid)
    assert pool["segments"] == segments and pool["waiting"] == 0
    assert split["minters"] == pool["per_segment"] * segments == sum(p * 3000 // 10000 for p in prices)
    assert revenue["claimed"] == pool["per_segment"] > 0  # the approved segment's holder claimed its share
    assert sum(revenue["withdrawn"].values()) + revenue["held"] == revenue["paid"]
    unclaimed = (segments - 1) * pool["per_segment"]  # every segment but the approved, claimed one
    assert com.w3.eth.get_balance(com.contract_address) == revenue["held"] == unclaimed
    assert "pass revenue 0.0085 ETH = creator" in out and "shares of segments not approved or not minted" in out
    assert "Collective led by" in out and "Season pass holders:" in out


def test_credits_route(season_world):
    s = season_world.summary
    with httpx.Client(base_url=season_world.url) as c:
        r = c.get(f"/api/v1/movies/{s['movie_id']}/credits")
        assert r.status_code == 200, r.text
        credits = r.json()
        missing = c.get("/api/v1/movies/999/credits")
    assert credits["director"]["address"] == s["wallets"]["director"]
    assert credits["director"]["short"] == s["wallets"]["director"][:6] + "…" + s["wallets"]["director"][-4:]
    assert credits["creator"]["address"] == s["wallets"]["creator"]
    assert credits["leader"]["address"] == s["wallets"]["leader"]
    minted = {m["segment"]: m["minter"] for m in s["minted"]}
    del minted[s["season"]["review"]["rejected"]]  # rejected: burnt and reopened
    minted[s["season"]["ballot"]["segment"]] = s["season"]["ballot"]["minter"]  # the winning take
    for seg in credits["segments"]:
        assert (seg["minter"] or {}).get("address") == minted.get(seg["index"])
    assert [p["address"] for p in credits["pass_holders"]] == [s["wallets"][r] for r in ("fan-1", "fan-2", "viewer")]
    assert missing.status_code == 404, missing.text


def test_credits_need_a_community_contract(season_world, tmp_path):
    from fastapi.testclient import TestClient

    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.config import Settings

    s = season_world.summary
    ctx = AppContext(Settings(data_dir=tmp_path, rpc_url=season_world.anvil.url, contract_address=s["contract"]))
    with TestClient(create_app(ctx, run_jobs=False, ui=False), base_url="http://127.0.0.1") as c:
        r = c.get(f"/api/v1/movies/{s['movie_id']}/credits")
    assert r.status_code == 404 and r.json()["detail"]["error"] == "NoCommunity"


def test_watch_page_shows_the_credits(season_world, chromium):
    s = season_world.summary
    page = season_world.open_page(chromium, f"/watch/?movie={s['movie_id']}", account=9)
    credits = page.locator(".mm-credits")
    credits.get_by_text("Collective leader").wait_for(timeout=60_000)
    text = credits.inner_text()
    leader = s["wallets"]["leader"]
    assert f"{leader[:6]}…{leader[-4:]}" in text
    assert "Season pass holders" in text and "not minted yet" in text
    director = s["wallets"]["director"]
    assert credits.locator("dd", has_text=f"{director[:6]}…").first.get_attribute("title") == director


def test_watch_page_plays_the_movie_with_the_credits_at_the_end(season_world, chromium):
    """The viewer (a ticket and a pass) plays the season's movie: it runs past the last segment into the credits,
    whose frames are the roll of director, creator, leader, minters and pass holders; the ballot's result shows."""
    import numpy as np

    from movieminter.app.community import credits_roll
    from movieminter.manifest import load_manifest
    from movieminter.media.credits import SECONDS_PER_PAGE, credits_pages
    from tests.fixtures_media import decode_frame

    s = season_world.summary
    movie = s["movie_id"]
    page = season_world.open_page(chromium, f"/watch/?movie={movie}", account=5)
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    card = page.get_by_test_id("community")
    card.get_by_test_id("ballot-phase").first.wait_for(timeout=60_000)
    assert "Closed. Winner: Take 2 (2 votes)." in card.inner_text()  # results readable on the Watch page too
    card.get_by_test_id("pass-held").wait_for(timeout=60_000)  # redrawn for the signed-in viewer
    assert card.get_by_test_id("pass-held").inner_text() == "You hold 1 pass of this collective."
    page.wait_for_function(
        "(() => { const v = document.querySelector('#mm-video'); return v.src && v.readyState >= 1; })()",
        timeout=300_000,
    )
    manifest = load_manifest(season_world.ctx.store.cat(s["manifest_cid"]))
    fps = manifest["movie"]["fps"]
    film = sum(seg["frame_count"] for seg in manifest["segments"]) / fps
    roll = credits_roll(season_world.ctx, movie)
    assert dict(roll)["Season pass holders"]  # the roll has the fans
    pages = credits_pages(roll, manifest["movie"]["width"], manifest["movie"]["height"])
    duration = page.evaluate("document.querySelector('#mm-video').duration")
    assert abs(duration - (film + len(pages) * SECONDS_PER_PAGE)) < 0.2, (duration, film, len(pages))
    # The file the page plays ends with the roll's last page (after lossy coding), not with the film.
    (stitched,) = (season_world.data_dir / "movies" / str(movie)).glob("movie-*.mp4")
    shown = decode_frame(stitched, duration - 1.0).astype(np.int16)
    drawn = np.asarray(pages[-1].convert("RGB"), np.int16).ravel()
    last_film = decode_frame(stitched, film - 1.5 / fps).astype(np.int16)  # here a placeholder card
    to_page, to_film = np.abs(shown - drawn).mean(), np.abs(shown - last_film).mean()
    assert shown.max() > 100 and to_page < 4 < to_film, (to_page, to_film)


def test_the_demo_movie_is_cut_after_the_season(season_world):
    """The demo's movie file is the season's cut: the approved winning take plays in it, and its credits roll
    (every page, compared with the roll drawn from the chain) names the pass holders. It is the very cut the
    Watch page plays (the same key), so the app does not stitch it again."""
    from pathlib import Path

    import numpy as np

    from movieminter.app.community import credits_roll
    from movieminter.app.viewer import stitched_movie
    from movieminter.ipfs.cid import digest_to_cid
    from movieminter.manifest import load_manifest
    from movieminter.media.credits import SECONDS_PER_PAGE, credits_pages
    from movieminter.media.mp4 import read_mp4
    from tests.fixtures_media import decode_frame

    s, ctx = season_world.summary, season_world.ctx
    movie, ballot = s["movie_id"], s["season"]["ballot"]
    movie_file = Path(s["movie_file"])
    manifest = load_manifest(ctx.store.cat(s["manifest_cid"]))
    fps, w, h = manifest["movie"]["fps"], manifest["movie"]["width"], manifest["movie"]["height"]
    film = sum(seg["frame_count"] for seg in manifest["segments"]) / fps

    roll = dict(credits_roll(ctx, movie))
    holders = [s["wallets"][r] for r in ("fan-1", "fan-2", "viewer")]
    assert roll["Season pass holders"] == [f"{a[:6]}…{a[-4:]}" for a in holders]
    pages = credits_pages(list(roll.items()), w, h)
    duration = read_mp4(movie_file).track("vide").duration
    assert abs(duration - (film + len(pages) * SECONDS_PER_PAGE)) < 0.2, (duration, film, len(pages))
    for i, drawn in enumerate(pages):  # each page of the roll, pass holders included, is in the file
        shown = decode_frame(movie_file, film + (i + 0.5) * SECONDS_PER_PAGE).astype(np.int16)
        assert np.abs(shown - np.asarray(drawn.convert("RGB"), np.int16).ravel()).mean() < 4, i

    # the winning take plays where its segment is (not a placeholder card)
    seg = next(x for x in manifest["segments"] if x["index"] == ballot["segment"])
    start = sum(x["frame_count"] for x in manifest["segments"] if x["index"] < seg["index"]) / fps
    middle = seg["frame_count"] / fps / 2
    digest = season_world.chain.segments(movie, seg["index"], 1)[0]["contentDigest"]
    take = season_world.data_dir / "take.mp4"
    take.write_bytes(ctx.store.cat(digest_to_cid(digest)))
    shown = decode_frame(movie_file, start + middle).astype(np.int16)
    assert np.abs(shown - decode_frame(take, middle).astype(np.int16)).mean() < 4

    assert stitched_movie(ctx, movie) == movie_file  # the app's cut of the same chain state: the demo's file
