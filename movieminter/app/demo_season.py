"""`movieminter demo --season`: a season on the Community contract after the demo's movie (docs/community.md).

A collective with a leader sells season passes with an early tier; the movie joins it; three pass holders
record takes of a segment and vote; the director approves one minted segment and rejects another with a
reason; the credits roll; the pass revenue is collected and withdrawn, and every wei is accounted for.
Every transaction is signed with a demo keystore."""

from __future__ import annotations

import hashlib

from movieminter.app.demo_cast import anvil_rpc, eth, short
from movieminter.errors import MovieMinterError

PASS_PRICE_WEI = 35 * 10**14  # 0.0035 ETH
EARLY_PRICE_WEI = 25 * 10**14  # 0.0025 ETH: the first two passes
EARLY_CAP = 2
CREATOR_BPS = 1000  # the creator's 10 % of the pass revenue; the leader gets the rest
VOTE_SECONDS = 3600


def run_season(community, chain, wallets, movie_id: int, minted: list[dict], say) -> dict:
    """The season's story (one narrated step). Returns what the tests check."""

    def send(role: str, fn: str, fargs: list, value: int = 0) -> list[dict]:
        return community.events(community.wait(community.send(fn, fargs, wallets.account(role), value=value)))

    def arg(events: list[dict], event: str, name: str):
        return next(e["args"][name] for e in events if e["event"] == event)

    def who(address: str) -> str:
        return f"{wallets.role_of(address)} {short(address)}"

    say.step("Season: passes, a collective, three takes and a vote, approval, credits")
    fargs = [PASS_PRICE_WEI, EARLY_PRICE_WEI, EARLY_CAP, wallets.addresses["creator"], CREATOR_BPS]
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
    ballot = _takes_and_vote(community, movie_id, minted, passes, send, arg, say, chain)
    review = _approval(community, movie_id, minted, wallets, send, say)
    revenue = _pass_revenue(community, cid, paid, wallets, send, say)

    from movieminter.app.community import credits_lines, movie_credits

    credits = movie_credits(community, movie_id)
    say.info("credits:")
    for line in credits_lines(credits):
        say.info("  " + line)
    say.proves(
        "passes count as tickets for the collective's movies; a take wins by votes of passes sold before the "
        "ballot opened; the director's approval and reasons are on chain; pass revenue adds up to the wei."
    )
    return {"collective": cid, "passes": passes, "ballot": ballot, "review": review, "revenue": revenue}


def _takes_and_vote(community, movie_id, minted, passes, send, arg, say, chain) -> dict:
    taken = {m["segment"] for m in minted}
    segment = next(i for i in range(int(chain.movie(movie_id)["segmentCount"])) if i not in taken)
    now = chain.w3.eth.get_block("latest")["timestamp"]
    start, end = now + 600, now + 600 + VOTE_SECONDS
    events = send("director", "openBallot", [movie_id, segment, True, 0, start, end, b"\0" * 32])
    ballot = arg(events, "BallotOpened", "ballotId")
    for role in ("fan-1", "fan-2", "viewer"):
        # The digests of each take's video and metadata; the files themselves would be pinned off chain.
        content, meta = (hashlib.sha256(f"{role} take of segment {segment}: {k}".encode()).digest() for k in "vm")
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
    winner = community.winning_take(ballot)
    if winner is None or info["leader"] != 1:
        raise MovieMinterError("The season's vote did not pick the take most passes voted for.")
    say.info(f"ballot {ballot}: tallies {info['tallies']}; take {info['leader']} by {winner['taker']} wins")
    return {"id": ballot, "segment": segment, "tallies": info["tallies"], "winner": info["leader"]}


def _approval(community, movie_id, minted, wallets, send, say) -> dict:
    if len(minted) < 2:
        raise MovieMinterError("The season needs two minted segments to approve one and reject the other.")
    send("director", "setApprovalWindow", [movie_id, 24 * 3600])
    approve, reject = minted[0], minted[1]
    for m in (approve, reject):
        send(wallets.role_of(m["minter"]), "submitSegment", [movie_id, m["segment"]])
    send("director", "reviewSegment", [movie_id, approve["segment"], True, ""])
    reason = "the lighthouse beam points the wrong way"
    send("director", "reviewSegment", [movie_id, reject["segment"], False, reason])
    states = {m["segment"]: community.review_of(movie_id, m["segment"]) for m in (approve, reject)}
    say.info(f"approval window 24 h; segment {approve['segment']} approved; segment {reject['segment']} rejected: ")
    say.info(f"  “{reason}” (the holder may submit it again); review states {states}")
    return {"approved": approve["segment"], "rejected": reject["segment"], "reason": reason, "states": states}


def _pass_revenue(community, cid, paid, wallets, send, say) -> dict:
    to_creator, to_leader = community.collectable(cid)
    send("leader", "collect", [cid])
    withdrawn = {}
    for role in ("creator", "leader"):
        events = send(role, "withdraw", [])
        withdrawn[role] = sum(e["args"]["amount"] for e in events if e["event"] == "Withdrawn")
    held = community.w3.eth.get_balance(community.contract_address)
    if sum(withdrawn.values()) + held != paid or withdrawn != {"creator": to_creator, "leader": to_leader}:
        raise MovieMinterError("The pass revenue does not add up.", hint=f"paid {paid}, withdrawn {withdrawn}")
    say.info(
        f"pass revenue {eth(paid)}: creator withdrew {eth(withdrawn['creator'])} (10 %), leader "
        f"{eth(withdrawn['leader'])}; the contract holds {eth(held)}"
    )
    return {"paid": paid, "withdrawn": withdrawn, "held": held}
