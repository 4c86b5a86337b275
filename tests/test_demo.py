"""`movieminter demo --no-serve` end to end, checked on chain and on disk, then
the app it leaves behind driven over HTTP and in Chromium: withdrawals add up
to what was paid, a new viewer buys a ticket and the movie really plays."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from movieminter.ipfs.cid import cid_to_digest, digest_to_cid

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def demo_state(demo_world):
    """Every test starts from what `./mm demo` left behind, in any order: the world is built once per module
    (it is expensive), and whatever a test does on chain (tickets, collects, withdrawals) is undone after it
    with an anvil snapshot. Off chain the app keeps nothing a later test reads: sessions are per client, and
    the stitched movie is named by the minted segments, which no test changes."""
    rpc = demo_world.chain.w3.provider.make_request
    snapshot = rpc("evm_snapshot", [])["result"]
    yield
    assert rpc("evm_revert", [snapshot])["result"] is True, "the demo chain could not be restored"


def test_output_tells_a_newcomer_what_happened(demo_world):
    out = demo_world.output
    steps = re.findall(r"^\[(\d)/9\] (.+)$", out, re.M)
    assert [int(n) for n, _ in steps] == list(range(1, 10)), out
    assert out.count("✓ proves:") == 9
    for key in (demo_world.summary["contract"], demo_world.summary["manifest_cid"], "movie file:"):
        assert key in out
    # no private key of the demo wallets reaches the output
    for key in demo_world.anvil.private_keys[:6]:
        assert key.removeprefix("0x").lower() not in out.lower()


def test_results_on_chain(demo_world):
    s, chain = demo_world.summary, demo_world.chain
    movie = chain.movie(s["movie_id"])
    assert movie["mintMode"] == "lottery"
    assert int(movie["seed"], 16) != 0  # the lottery was drawn
    assert movie["entrantCount"] == 3
    segs = chain.segments(s["movie_id"], 0, None)
    minted = [x for x in segs if x["status"] == "minted"]
    assert len(minted) == 2
    for m in s["minted"]:
        seg = segs[m["segment"]]
        assert seg["status"] == "minted"
        assert seg["account"] == m["minter"] == s["winners"][m["segment"]]  # minted by the lottery winner
        assert seg["contentDigest"] == "0x" + cid_to_digest(m["video_cid"]).hex()
        assert chain.call("ownerOf", chain.token_id(s["movie_id"], m["segment"])) == m["minter"]
        assert (
            chain.call("tokenURI", chain.token_id(s["movie_id"], m["segment"]))
            == f"ipfs://{digest_to_cid(seg['metadataDigest'])}"
        )
    assert chain.call("hasTicket", s["movie_id"], s["wallets"]["viewer"]) is True
    assert movie["ticketsSold"] == 1
    # balances: the contract holds exactly what the ticket paid
    assert chain.w3.eth.get_balance(chain.contract_address) == s["ticket_price_wei"]
    rev = s["revenue"]
    assert rev["creator"] + rev["director"] + rev["pool"] == rev["paid"] == s["ticket_price_wei"]


def test_results_on_disk(demo_world):
    from movieminter.ipfs.stores import open_store
    from movieminter.manifest import load_manifest
    from movieminter.media.check import check_segment

    s = demo_world.summary
    store = open_store(demo_world.ctx.settings)
    manifest = load_manifest(store.cat(s["manifest_cid"]))
    for m in s["minted"]:
        video = demo_world.data_dir / "check" / f"{m['segment']}.mp4"
        video.parent.mkdir(exist_ok=True)
        video.write_bytes(store.cat(m["video_cid"]))  # the video is in the local IPFS store
        check_segment(video, manifest, m["segment"])  # and is a valid segment of this movie
        meta = json.loads(store.cat(m["metadata_cid"]))
        assert m["video_cid"] in json.dumps(meta)  # metadata points at the video
    movie = demo_world.data_dir / "movies" / str(s["movie_id"])
    stitched = list(movie.glob("movie-*.mp4"))
    assert stitched and str(stitched[0]) == s["movie_file"]
    import imageio_ffmpeg

    frames, seconds = imageio_ffmpeg.count_frames_and_secs(s["movie_file"])
    total = sum(x["frame_count"] for x in manifest["segments"])
    # minted segments + placeholders = whole film, then the end credits: whole pages of SECONDS_PER_PAGE
    from movieminter.media.credits import SECONDS_PER_PAGE

    credits = frames - total
    per_page = manifest["movie"]["fps"] * SECONDS_PER_PAGE
    assert credits > 0 and credits % per_page == 0, (frames, total)
    assert list((demo_world.data_dir / "keystores").glob("*.json"))
    for f in (demo_world.data_dir / "keystores").glob("*.json"):
        assert json.loads(f.read_text())["crypto"]["kdf"] == "scrypt"  # encrypted, not plaintext keys


def _send(world, tx: dict) -> dict:
    """What the browser wallet does with a prepared transaction (anvil's unlocked account signs)."""
    w3 = world.chain.w3
    h = w3.eth.send_transaction(
        {
            "from": tx["from"],
            "to": tx["to"],
            "data": tx["data"],
            "value": int(tx["value"], 16),
            "gas": int(tx["gas"], 16),
        }
    )
    return world.chain.wait(h)


def _api(world, method, path, **kw):
    with httpx.Client(base_url=world.url, timeout=60) as c:
        c.get("/healthz")
        token = c.cookies.get("mm_csrf")
        r = c.get("/api/v1/auth/me")  # picks the csrf cookie up
        token = c.cookies.get("mm_csrf") or token
        r = c.request(method, path, headers={"X-CSRF-Token": token or "", "Origin": world.url}, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def test_withdrawals_add_up_to_what_was_paid(demo_world):
    """Creator, director and both minters collect, claim and withdraw through the API's prepared
    transactions; the wei that leave the contract equal the ticket's shares, to the wei."""
    s, chain, w3 = demo_world.summary, demo_world.chain, demo_world.chain.w3
    movie_id = s["movie_id"]
    before = w3.eth.get_balance(chain.contract_address)
    withdrawn = {}

    def net_gain(address, txs):
        start = w3.eth.get_balance(address)
        gas = 0
        for tx in txs:
            receipt = _send(demo_world, tx)
            gas += receipt["gasUsed"] * receipt["effectiveGasPrice"]
        return w3.eth.get_balance(address) - start + gas

    creator, director = s["wallets"]["creator"], s["wallets"]["director"]
    rev = _api(demo_world, "GET", f"/api/v1/revenue?address={creator}")
    assert rev["movies"][0]["roles"] == ["creator"] and int(rev["total_wei"]) == s["revenue"]["creator"]
    collect = _api(demo_world, "POST", f"/api/v1/revenue/movies/{movie_id}/collect/tx", json={"sender": creator})["tx"]
    withdraw = lambda who: _api(demo_world, "POST", "/api/v1/revenue/withdraw/tx", json={"sender": who})["tx"]  # noqa
    withdrawn[creator] = net_gain(creator, [collect])
    withdrawn[creator] = net_gain(creator, [withdraw(creator)]) + withdrawn[creator]
    assert _api(demo_world, "GET", f"/api/v1/revenue?address={director}")["withdrawable_wei"] == str(
        s["revenue"]["director"]
    )
    withdrawn[director] = net_gain(director, [withdraw(director)])
    for m in s["minted"]:
        rev = _api(demo_world, "GET", f"/api/v1/revenue?address={m['minter']}")
        tokens = [c["token_id"] for c in rev["segment_claims"]]
        assert [c["segment"] for c in rev["segment_claims"]] == [m["segment"]]
        claim = _api(
            demo_world, "POST", "/api/v1/revenue/segments/claim/tx", json={"sender": m["minter"], "token_ids": tokens}
        )["tx"]
        withdrawn[m["minter"]] = net_gain(m["minter"], [claim])
        withdrawn[m["minter"]] += net_gain(m["minter"], [withdraw(m["minter"])])

    assert withdrawn[creator] == s["revenue"]["creator"]
    assert withdrawn[director] == s["revenue"]["director"]
    for m in s["minted"]:
        assert withdrawn[m["minter"]] == s["revenue"]["per_segment"]
    unminted = 6 - len(s["minted"])
    after = w3.eth.get_balance(chain.contract_address)
    # what left the contract is what was withdrawn; what stays is the unminted segments' share, no dust lost
    assert before - after == sum(withdrawn.values())
    assert after == unminted * s["revenue"]["per_segment"]
    assert sum(withdrawn.values()) + after == s["ticket_price_wei"]


def test_watch_needs_a_session_and_a_ticket(demo_world):
    with httpx.Client(base_url=demo_world.url) as c:
        r = c.get(f"/api/v1/movies/{demo_world.summary['movie_id']}/watch")
        assert r.status_code == 401 and "Connect" in r.json()["detail"]["message"]
        r = c.get(f"/api/v1/movies/{demo_world.summary['movie_id']}/stream.mp4")
        assert r.status_code == 401
        ticket = c.get(f"/api/v1/movies/{demo_world.summary['movie_id']}/ticket").json()
        assert "public" in ticket["public_notice"] and ticket["price_wei"] == str(
            demo_world.summary["ticket_price_wei"]
        )


@pytest.mark.browser
def test_buy_ticket_then_the_movie_plays(demo_world, chromium):
    from tests.fixtures_ui import shot

    s = demo_world.summary
    page = demo_world.open_page(chromium, f"/watch/?movie={s['movie_id']}", account=7)
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    buy = page.locator("#mm-buy")
    buy.wait_for(state="visible", timeout=30_000)
    shot(page, "watch-1-buy-ticket.png")
    buy.click()
    video = page.locator("#mm-video")
    page.wait_for_function("document.querySelector('#mm-video').src.includes('stream.mp4')", timeout=60_000)
    assert demo_world.chain.call("hasTicket", s["movie_id"], demo_world.chain.w3.eth.accounts[7]) is True
    page.evaluate("v => { v.muted = true; return v.play(); }", video.element_handle())
    page.wait_for_function("document.querySelector('#mm-video').currentTime > 1.0", timeout=60_000)
    state = page.evaluate("""() => { const v = document.querySelector('#mm-video');
        return {t: v.currentTime, d: v.duration, err: v.error && v.error.message, w: v.videoWidth}; }""")
    # the 24 s film, then its end credits (whole pages of SECONDS_PER_PAGE, from the roll on chain now)
    from movieminter.app.community import credits_roll
    from movieminter.manifest import load_manifest
    from movieminter.media.credits import SECONDS_PER_PAGE, credits_pages

    movie = load_manifest(demo_world.ctx.store.cat(s["manifest_cid"]))["movie"]
    pages = credits_pages(credits_roll(demo_world.ctx, s["movie_id"]), movie["width"], movie["height"])
    expected = 24.0 + len(pages) * SECONDS_PER_PAGE
    assert state["err"] is None and state["w"] == 512 and state["d"] == pytest.approx(expected, abs=0.2)
    t1 = state["t"]
    page.wait_for_timeout(700)
    assert page.evaluate("document.querySelector('#mm-video').currentTime") > t1  # it really advances
    credits = page.locator(".mm-credit").all_inner_texts()
    assert sum("minted by" in c for c in credits) == 2 and len(credits) == 6
    assert "IPFS content is public" in page.locator(".mm-public").inner_text()
    page.locator("#mm-chapters .mm-chapter").nth(s["minted"][0]["segment"]).click()  # seek to a minted chapter
    shot(page, "watch-2-playing.png")
    page.context.close()


@pytest.mark.browser
def test_creator_collects_and_withdraws_in_the_studio(demo_world, chromium):
    """The revenue dashboard: the creator collects the movie's new sales and withdraws, from the wallet."""
    from tests.fixtures_ui import shot

    s, chain = demo_world.summary, demo_world.chain
    creator = s["wallets"]["creator"]
    chain.transact("buyTicket", [s["movie_id"]], chain.w3.eth.accounts[8], s["ticket_price_wei"])  # one more sale
    expected = s["ticket_price_wei"] * 3 // 10
    assert chain.call("collectable", s["movie_id"])[0] >= expected
    page = demo_world.open_page(chromium, f"/studio/?movie={s['movie_id']}", account=1)
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    page.get_by_role("button", name="Show my balances").click()
    collect = page.get_by_role("button", name="Collect")
    collect.wait_for(timeout=30_000)
    shot(page, "studio-3-revenue.png")
    pending = chain.call("collectable", s["movie_id"])[0]
    balance = chain.w3.eth.get_balance(creator)
    collect.click()
    page.wait_for_function("!document.querySelector('.mm-withdraw').disabled", timeout=60_000)
    assert chain.call("credits", creator) == pending
    page.get_by_role("button", name="Withdraw").click()
    page.wait_for_function(
        "document.querySelector('.mm-withdraw') && document.querySelector('.mm-withdraw').disabled", timeout=60_000
    )
    assert chain.call("credits", creator) == 0
    gas = 0
    for block in range(chain.w3.eth.block_number - 1, chain.w3.eth.block_number + 1):
        for tx in chain.w3.eth.get_block(block, full_transactions=True)["transactions"]:
            if tx["from"] == creator:
                r = chain.w3.eth.get_transaction_receipt(tx["hash"])
                gas += r["gasUsed"] * r["effectiveGasPrice"]
    assert chain.w3.eth.get_balance(creator) - balance + gas == pending
    page.context.close()


def test_hls_playlist_for_ticket_holders(demo_world):
    """The HLS playlist points at the minted segment files on the IPFS gateway, by byte range."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    s = demo_world.summary
    viewer_key = demo_world.anvil.private_keys[5]
    with httpx.Client(base_url=demo_world.url, timeout=60) as c:
        c.get("/healthz")
        msg = c.get(
            "/api/v1/auth/nonce",
            params={
                "address": s["wallets"]["viewer"],
                "chain_id": 31337,
                "domain": c.base_url.netloc.decode(),
                "uri": demo_world.url + "/",
            },
        ).json()["message"]
        sig = Account.sign_message(encode_defunct(text=msg), viewer_key).signature.hex()
        r = c.post(
            "/api/v1/auth/verify",
            json={"message": msg, "signature": "0x" + sig.removeprefix("0x")},
            headers={"X-CSRF-Token": c.cookies.get("mm_csrf", ""), "Origin": demo_world.url},
        )
        assert r.status_code == 200, r.text
        text = c.get(f"/api/v1/movies/{s['movie_id']}/playlist.m3u8").text
        assert text.startswith("#EXTM3U")
        for m in s["minted"]:
            url = f"{demo_world.url}/ipfs/{m['video_cid']}"
            assert url in text or f"/ipfs/{m['video_cid']}" in text
        assert text.count("#EXT-X-GAP") + text.count("#EXTINF") >= 6
        # the media URL serves the minted bytes through the local gateway, by Range
        m = s["minted"][0]
        whole = demo_world.ctx.store.cat(m["video_cid"])
        part = c.get(f"/ipfs/{m['video_cid']}", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == whole[100:200]


def test_follow_the_work(demo_world):
    """Who entered, won, rendered and minted which segment: segments view + events + render provenance."""
    s = demo_world.summary
    a = httpx.get(f"{demo_world.url}/api/v1/director/movies/{s['movie_id']}/activity", timeout=60).json()
    by_index = {x["index"]: x for x in a["segments"]}
    for m in s["minted"]:
        seg = by_index[m["segment"]]
        assert seg["status"] == "minted" and seg["minter"] == m["minter"] and seg["content_cid"] == m["video_cid"]
        assert seg["rendered"]["a1111_version"] and seg["rendered"]["render_seconds"] >= 0
        assert seg["title"]
    summaries = [e["summary"] for e in a["events"]]
    assert sum("entered the lottery" in x for x in summaries) == 3
    assert sum("rendered and minted segment" in x for x in summaries) == 2
    assert any("winners drawn" in x for x in summaries) and any("bought a ticket" in x for x in summaries)
    blocks = [e["block"] for e in a["events"]]
    assert blocks == sorted(blocks)
