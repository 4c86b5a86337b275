"""`movieminter demo --season`: a season on the Community contract after the demo's movie (docs/community.md).

A collective with a leader sells season passes with an early tier; the movie joins it; three pass holders
record takes of a segment and vote; the winning take (and only it) is minted as the segment; the director
requires approval: a segment's revenue waits until the director approves it, and a rejected segment (with its
reason) is burnt and reopens; the credits roll; the pass and ticket revenue is collected and withdrawn (the
passes' minters' share by the approved segment's holder), and every wei is accounted for. Every transaction is signed with a demo keystore."""

from __future__ import annotations

import hashlib

from movieminter.app.demo_cast import anvil_rpc, eth, short
from movieminter.chain.client import ChainError
from movieminter.errors import MovieMinterError

PASS_PRICE_WEI = 35 * 10**14  # 0.0035 ETH
EARLY_PRICE_WEI = 25 * 10**14  # 0.0025 ETH: the first two passes
EARLY_CAP = 2
CREATOR_BPS = 1000  # the creator's 10 % of the pass revenue
MINTERS_BPS = 3000  # 30 % shared by the segments of the collective's movies; the leader gets the rest (60 %)
VOTE_SECONDS = 3600


def run_season(community, chain, wallets, movie_id: int, minted: list[dict], say, *, store, manifest: dict) -> dict:
    """The season's story (one narrated step). Returns what the tests check. `store` and `manifest`:
    the take videos are pinned there, encoded for the movie, so the winning take plays in it."""

    def send(role: str, fn: str, fargs: list, value: int = 0, on=None) -> list[dict]:
        on = on or community  # the Community contract, or `chain` (MovieMinter)
        return on.events(on.wait(on.send(fn, fargs, wallets.account(role), value=value)))

    def arg(events: list[dict], event: str, name: str):
        return next(e["args"][name] for e in events if e["event"] == event)

    def who(address: str) -> str:
        return f"{wallets.role_of(address)} {short(address)}"

    say.step("Season: passes, a collective, three takes and a vote, approval, credits")
    fargs = [PASS_PRICE_WEI, EARLY_PRICE_WEI, EARLY_CAP, wallets.addresses["creator"], CREATOR_BPS, MINTERS_BPS]
    cid = arg(send("leader", "createCollective", fargs), "CollectiveCreated", "collectiveId")
    send("director", "joinCollective", [movie_id, cid])
    say.info(
        f"collective {cid} led by {who(wallets.addresses['leader'])}; movie {movie_id} joined it; passes "
        f"{eth(PASS_PRICE_WEI)}, the first {EARLY_CAP} at {eth(EARLY_PRICE_WEI)}"
    )
    passes, paid = {}, 0
    for role in ("fan-1", "fan-2", "viewer"):
        price, early = community.next_pass_price(cid)
        events = send(role, "buyPass", [cid], value=price)
        passes[role], paid = arg(events, "PassBought", "passId"), paid + price
        say.info(f"{role} bought pass {passes[role]} for {eth(price)}" + (" (early tier)" if early else ""))
    pin = lambda role, segment: _pin_take(store, manifest, segment, role)  # noqa: E731
    ballot = _takes_and_vote(community, movie_id, minted, passes, send, arg, say, chain, wallets, pin)
    review = _approval(community, chain, movie_id, minted, wallets, send, say)
    _approve_winner(movie_id, ballot, wallets, send, say)
    revenue = _pass_revenue(community, chain, cid, movie_id, paid, wallets, review, send, say)
    tickets = _ticket_revenue(chain, movie_id, wallets, review, send, say)

    from movieminter.app.community import credits_lines, movie_credits

    credits = movie_credits(community, movie_id)
    say.info("credits:")
    for line in credits_lines(credits):
        say.info("  " + line)
    say.proves(
        "passes count as tickets for the collective's movies; a take wins by votes of passes sold before the "
        "ballot opened and only it becomes the segment; a segment earns once its director approves it, and a "
        "rejection (with its reason, on chain) reopens it; pass and ticket revenue add up to the wei."
    )
    return {
        "collective": cid,
        "passes": passes,
        "ballot": ballot,
        "review": review,
        "revenue": revenue,
        "tickets": tickets,
    }


def _pin_take(store, manifest: dict, segment: int, role: str) -> tuple[bytes, bytes]:
    """A take's video and metadata, pinned; their digests. The demo's takes are title cards encoded
    in the movie's profile (rendering three takes would triple the demo's time); a real take is a
    render like any segment's."""
    import json
    import tempfile
    from pathlib import Path

    from PIL import Image, ImageDraw

    from movieminter.ipfs.cid import cid_to_digest
    from movieminter.manifest import get_segment
    from movieminter.media.encode import encode_segment

    seg, movie = get_segment(manifest, segment), manifest["movie"]
    tint = int(hashlib.sha256(role.encode()).hexdigest()[:6], 16)
    with tempfile.TemporaryDirectory() as tmp:
        frames = []
        for n in range(int(seg["frame_count"])):
            img = Image.new("RGB", (movie["width"], movie["height"]), (tint >> 16, (tint >> 8) & 255, tint & 255))
            ImageDraw.Draw(img).text((16, 16 + n), f"{role}'s take of segment {segment}", fill=(255, 255, 255))
            frames.append(Path(tmp) / f"frame_{n:05d}.png")
            img.save(frames[-1])
        media = encode_segment(
            frames, manifest, segment, Path(tmp) / "take.mp4", poster=False, preview=False, allow_silence=True
        )
        video = store.add_file(media.video)
    meta = {"name": f"{movie['title']}: {role}'s take of segment {segment}", "animation_url": f"ipfs://{video}"}
    metadata = store.add_bytes(json.dumps(meta, sort_keys=True).encode())
    for cid in (video, metadata):
        store.pin(cid)
    return cid_to_digest(video), cid_to_digest(metadata)


def _takes_and_vote(community, movie_id, minted, passes, send, arg, say, chain, wallets, pin) -> dict:
    taken = {m["segment"] for m in minted}
    segment = next(i for i in range(int(chain.movie(movie_id)["segmentCount"])) if i not in taken)
    now = chain.w3.eth.get_block("latest")["timestamp"]
    start, end = now + 600, now + 600 + VOTE_SECONDS
    events = send("director", "openBallot", [movie_id, segment, True, 0, start, end, b"\0" * 32])
    ballot = arg(events, "BallotOpened", "ballotId")
    for role in ("fan-1", "fan-2", "viewer"):
        content, meta = pin(role, segment)  # the take's video and metadata, pinned; the chain records digests
        take = arg(send(role, "recordTake", [ballot, passes[role], content, meta]), "TakeRecorded", "take")
        say.info(f"{role} recorded take {take} of segment {segment}")
    anvil_rpc(chain, "evm_increaseTime", [601])  # local chain: the vote opens
    anvil_rpc(chain, "evm_mine", [])
    votes = {"fan-1": 1, "fan-2": 1, "viewer": 0}
    for role, option in votes.items():
        send(role, "vote", [ballot, option, passes[role]])
    anvil_rpc(chain, "evm_increaseTime", [VOTE_SECONDS])
    anvil_rpc(chain, "evm_mine", [])
    info = community.ballot(ballot)
    takes = community.takes(ballot)
    fargs = [ballot, [(t["taker"], t["content_digest"], t["metadata_digest"]) for t in takes]]
    won = arg(send("director", "settleTakes", fargs), "TakesSettled", "take")
    winner = takes[won]
    if won != info["leader"] or info["leader"] != 1:
        raise MovieMinterError("The season's vote did not pick the take most passes voted for.")
    say.info(f"ballot {ballot}: tallies {info['tallies']}; take {won} by {short(winner['taker'])} wins (settled)")
    # A losing take cannot become the segment: MovieMinter asks Community for the winner's digests and author.
    loser = takes[0]
    try:
        chain.build_tx("mintSegment", [movie_id, segment, loser["content_digest"], loser["metadata_digest"]],
                       loser["taker"])  # fmt: skip
    except ChainError as exc:
        refused = exc.error
    else:
        raise MovieMinterError("A losing take could be minted as the segment.")
    say.info(f"take 0 by {wallets.role_of(loser['taker'])} tries to mint segment {segment}: refused ({refused})")
    role = wallets.role_of(winner["taker"])
    fargs = [movie_id, segment, winner["content_digest"], winner["metadata_digest"]]
    send(role, "mintSegment", fargs, on=chain)
    seg = chain.segments(movie_id, segment, 1)[0]
    if seg["status"] != "minted" or seg["metadataDigest"] != "0x" + winner["metadata_digest"].hex():
        raise MovieMinterError("The winning take is not the minted segment.")
    say.info(f"the winning take is segment {segment}: minted by {role} {short(winner['taker'])} with its digests")
    return {
        "id": ballot,
        "segment": segment,
        "tallies": info["tallies"],
        "winner": won,
        "minter": winner["taker"],
        "loser_refused": refused,
    }


def _approve_winner(movie_id: int, ballot: dict, wallets, send, say) -> None:
    """The winning take was minted before the director required approval: its holder submits it and the director
    approves it, so it plays in the movie (a segment awaiting approval plays as a placeholder card)."""
    segment, role = ballot["segment"], wallets.role_of(ballot["minter"])
    send(role, "submitSegment", [movie_id, segment])
    send("director", "reviewSegment", [movie_id, segment, True, ""])
    say.info(f"the winning take (segment {segment}) submitted by {role} and approved: it plays in the movie")


def _approval(community, chain, movie_id, minted, wallets, send, say) -> dict:
    if len(minted) < 2:
        raise MovieMinterError("The season needs two minted segments to approve one and reject the other.")
    send("director", "setApprovalWindow", [movie_id, 24 * 3600])
    approve, reject = minted[0], minted[1]
    token = chain.token_id(movie_id, approve["segment"])
    share = chain.call("claimableSegmentRevenue", token)
    for m in (approve, reject):
        send(wallets.role_of(m["minter"]), "submitSegment", [movie_id, m["segment"]])
    # Held back: the holder's claim is refused while the segment waits for the director.
    try:
        chain.build_tx("claimSegmentRevenue", [[token]], approve["minter"])
    except ChainError as exc:
        held_error = exc.error
    else:
        raise MovieMinterError("A segment waiting for approval could claim its revenue.")
    say.info(
        f"approval window 24 h; segments {approve['segment']} and {reject['segment']} submitted; segment "
        f"{approve['segment']}'s {eth(share)} is held back until approval (claim refused: {held_error})"
    )
    send("director", "reviewSegment", [movie_id, approve["segment"], True, ""])
    events = send(wallets.role_of(approve["minter"]), "claimSegmentRevenue", [[token]], on=chain)
    claimed = sum(e["args"]["amount"] for e in events if e["event"] == "SegmentRevenueClaimed")
    if claimed != share:
        raise MovieMinterError("The approved segment's claim did not pay its share.")
    say.info(f"segment {approve['segment']} approved: {wallets.role_of(approve['minter'])} claimed {eth(claimed)}")
    reason = "the lighthouse beam points the wrong way"
    send("director", "reviewSegment", [movie_id, reject["segment"], False, reason])
    seg = chain.segments(movie_id, reject["segment"], 1)[0]
    if seg["status"] == "minted":
        raise MovieMinterError("The rejected segment is still minted.")
    kept = chain.call("claimableSegmentRevenue", chain.token_id(movie_id, reject["segment"]))
    now_for = f"{seg['status']}" + (f" for {wallets.role_of(seg['account'])}" if seg["account"] else "")
    say.info(f"segment {reject['segment']} rejected: “{reason}”")
    say.info(
        f"  its token is burnt and the segment reopened ({now_for}); its {eth(kept)} stays with the segment "
        "for the version the director approves"
    )
    states = {m["segment"]: community.review_of(movie_id, m["segment"]) for m in (approve, reject)}
    return {
        "approved": approve["segment"],
        "rejected": reject["segment"],
        "reason": reason,
        "states": states,
        "held_error": held_error,
        "claimed": claimed,
        "reopened": seg["status"],
        "payees": [approve["minter"]],
    }


def _ticket_revenue(chain, movie_id, wallets, review, send, say) -> dict:
    """Every wei of the ticket revenue: withdrawn by the creator, the director and the approved minter, or held by
    MovieMinter as the pool shares of segments not approved (or not minted) yet."""
    info = chain.movie(movie_id)
    paid = int(info["ticketsSold"]) * int(info["ticketPrice"]) + int(info["entrantCount"]) * int(info["entryFee"])
    send("director", "collect", [movie_id], on=chain)
    withdrawn = {}
    for address in dict.fromkeys([wallets.addresses["creator"], wallets.addresses["director"], *review["payees"]]):
        if chain.call("credits", address):
            events = send(wallets.role_of(address), "withdraw", [], on=chain)
            withdrawn[wallets.role_of(address)] = sum(e["args"]["amount"] for e in events if e["event"] == "Withdrawn")
    held = chain.w3.eth.get_balance(chain.contract_address)
    unpaid = sum(
        chain.call("claimableSegmentRevenue", chain.token_id(movie_id, s)) for s in range(int(info["segmentCount"]))
    )
    if sum(withdrawn.values()) + held != paid or held != unpaid:
        raise MovieMinterError("The ticket revenue does not add up.", hint=f"paid {paid}, withdrawn {withdrawn}")
    say.info(
        f"ticket revenue {eth(paid)}: withdrawn {', '.join(f'{k} {eth(v)}' for k, v in withdrawn.items())}; "
        f"MovieMinter holds {eth(held)} = the pool shares of segments not approved or not minted yet"
    )
    return {"paid": paid, "withdrawn": withdrawn, "held": held}


def _pass_revenue(community, chain, cid, movie_id, paid, wallets, review, send, say) -> dict:
    """Every wei of the pass revenue: the creator's, the leader's (with the pool division's remainder) and the
    minters' pool, whose share the approved segment's holder claims; the rest waits in Community for the other
    segments' holders (held back while not approved, or not minted yet)."""
    to_creator, to_leader, to_minters = community.collectable(cid)
    events = send("leader", "collect", [cid])
    collected = next(e["args"] for e in events if e["event"] == "RevenueCollected")
    pool = community.pass_pool(cid)
    minters = pool["per_segment"] * pool["segments"] + pool["waiting"]
    split = {"creator": collected["toCreator"], "leader": collected["toLeader"], "minters": minters}
    if sum(split.values()) != paid or to_creator + to_leader + to_minters != paid or pool["waiting"]:
        raise MovieMinterError("The pass revenue does not split into its shares.", hint=f"paid {paid}, split {split}")
    say.info(
        f"pass revenue {eth(paid)} = creator {eth(split['creator'])} (10 %) + leader {eth(split['leader'])} "
        f"(the rest and {split['leader'] - to_leader} wei of rounding) + minters {eth(minters)} "
        f"({pool['segments']} segments x {eth(pool['per_segment'])})"
    )
    approved = chain.token_id(movie_id, review["approved"])
    holder = review["payees"][0]
    events = send(wallets.role_of(holder), "claimPassRevenue", [[approved]])
    claimed = sum(e["args"]["amount"] for e in events if e["event"] == "PassRevenueClaimed")
    if claimed != pool["per_segment"]:
        raise MovieMinterError("The approved segment's pass revenue claim did not pay its share.")
    withdrawn = {}
    for address in dict.fromkeys([wallets.addresses["creator"], wallets.addresses["leader"], holder]):
        events = send(wallets.role_of(address), "withdraw", [])
        withdrawn[wallets.role_of(address)] = sum(e["args"]["amount"] for e in events if e["event"] == "Withdrawn")
    held = community.w3.eth.get_balance(community.contract_address)
    segments = int(chain.movie(movie_id)["segmentCount"])
    unclaimed = sum(community.call("claimablePassRevenue", chain.token_id(movie_id, s)) for s in range(segments))
    if sum(withdrawn.values()) + held != paid or held != unclaimed:
        raise MovieMinterError("The pass revenue does not add up.", hint=f"paid {paid}, withdrawn {withdrawn}")
    say.info(
        f"segment {review['approved']} (approved) claimed {eth(claimed)} of it; withdrawn "
        f"{', '.join(f'{k} {eth(v)}' for k, v in withdrawn.items())}; Community holds {eth(held)} = the pass "
        "shares of segments not approved or not minted yet"
    )
    return {"paid": paid, "split": split, "claimed": claimed, "withdrawn": withdrawn, "held": held}
