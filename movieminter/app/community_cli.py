"""`movieminter director collective|pass|ballot|approval|credits ...`: the Community contract from a terminal
(docs/community.md). Transactions are signed with an encrypted keystore, like every director command.

    collective create --price ETH --early-price ETH --early-cap N [--creator ADDR --creator-share PCT]
                      [--minters-share PCT]       (the leader gets the rest)
    collective join --movie ID --collective C        (the movie's director)
    collective prices --collective C --price ETH --early-price ETH      (the leader)
    pass buy --collective C
    pass collect --collective C                      (credit the shares of the passes sold; anyone)
    pass claim-revenue --movie ID [--segment S ...]  (your segments' share of the pass revenue)
    pass withdraw                                    (pay out your credited pass revenue)
    ballot open --movie ID --segment S [--idea --options N] [--takes-minutes M] [--vote-minutes M]
    ballot take --ballot B --pass P --content-digest 0x.. --metadata-digest 0x..
    ballot vote --ballot B --option O [--pass P]     (no --pass: vote with a ticket)
    ballot result --ballot B
    ballot settle --ballot B                         (after the vote: names the winning take on chain)
    ballot release --ballot B                        (a winner that did not mint in time: reopen the segment)
    ballot prepare-votes --ballot B [--voter ADDR ...]   (pre-pay ticket voters' vote words)
    approval window --movie ID --seconds N | submit|approve --movie ID --segment S | reject ... --reason TEXT
    approval status --movie ID --segment S          (review state; whether its revenue is held back)
    credits MOVIE
"""

from __future__ import annotations

from movieminter.errors import MovieMinterError


def register(sub, common) -> None:
    """Adds the Community commands to `director`'s subparsers; `common(parser, signing)` adds the usual flags."""

    def with_flags(sp, signing: bool):
        common(sp, signing=signing)
        sp.add_argument("--community", dest="community_address", help="Community contract address (default: settings)")
        return sp

    _register_collective(sub, with_flags)
    _register_ballot(sub, with_flags)
    _register_approval(sub, with_flags)


def _register_collective(sub, with_flags) -> None:
    col = sub.add_parser("collective", help="season-pass collectives: create, join a movie, set pass prices")
    csub = col.add_subparsers(dest="collective_command", metavar="ACTION", required=True)
    c = with_flags(csub.add_parser("create", help="create a collective (you lead it)"), True)
    c.add_argument("--price", required=True, help="pass price in ETH")
    c.add_argument("--early-price", required=True, help="early-tier pass price in ETH (at most --price)")
    c.add_argument("--early-cap", type=int, default=0, help="how many passes sell at the early price (default 0)")
    c.add_argument("--creator", help="creator address sharing the pass revenue")
    c.add_argument("--creator-share", default="0", help="creator's percent of the pass revenue (default 0)")
    c.add_argument(
        "--minters-share",
        default="0",
        help="percent of the pass revenue shared by the segments of the collective's movies (default 0)",
    )
    c.set_defaults(func=cmd_collective_create)
    j = with_flags(csub.add_parser("join", help="put your movie in a collective (once)"), True)
    j.add_argument("--movie", required=True, type=int)
    j.add_argument("--collective", required=True, type=int)
    j.set_defaults(func=cmd_collective_join)
    p = with_flags(csub.add_parser("prices", help="change the prices of passes not sold yet (leader)"), True)
    p.add_argument("--collective", required=True, type=int)
    p.add_argument("--price", required=True, help="pass price in ETH")
    p.add_argument("--early-price", required=True, help="early-tier price in ETH")
    p.set_defaults(func=cmd_collective_prices)

    ps = sub.add_parser("pass", help="season passes")
    psub = ps.add_subparsers(dest="pass_command", metavar="ACTION", required=True)
    b = with_flags(psub.add_parser("buy", help="buy the collective's next pass at its current price"), True)
    b.add_argument("--collective", required=True, type=int)
    b.set_defaults(func=cmd_pass_buy)
    co = with_flags(
        psub.add_parser("collect", help="credit the shares of the passes sold since the last collect"), True
    )
    co.add_argument("--collective", required=True, type=int)
    co.set_defaults(func=cmd_pass_collect)
    cl = with_flags(psub.add_parser("claim-revenue", help="claim your segments' share of the pass revenue"), True)
    cl.add_argument("--movie", required=True, type=int)
    cl.add_argument("--segment", type=int, action="append", help="a segment you hold (default: all you hold)")
    cl.set_defaults(func=cmd_pass_claim)
    wd = with_flags(psub.add_parser("withdraw", help="pay out your credited pass revenue"), True)
    wd.set_defaults(func=cmd_pass_withdraw)


def _register_ballot(sub, with_flags) -> None:
    bal = sub.add_parser("ballot", help="takes and votes: open, take, vote, result")
    bsub = bal.add_subparsers(dest="ballot_command", metavar="ACTION", required=True)
    o = with_flags(bsub.add_parser("open", help="open a ballot on a segment's takes or on an idea"), True)
    o.add_argument("--movie", required=True, type=int)
    o.add_argument("--segment", type=int, default=0, help="the segment the takes are of (takes ballots)")
    o.add_argument("--idea", action="store_true", help="vote on options described off chain instead of takes")
    o.add_argument("--options", type=int, default=0, help="idea ballots: how many options (2-8)")
    o.add_argument("--takes-minutes", type=float, default=60.0, help="minutes until voting starts (default 60)")
    o.add_argument("--vote-minutes", type=float, default=1440.0, help="minutes voting lasts (default 1440)")
    o.set_defaults(func=cmd_ballot_open)
    t = with_flags(bsub.add_parser("take", help="record a take (pass holders, before voting starts)"), True)
    t.add_argument("--ballot", required=True, type=int)
    t.add_argument("--pass", dest="pass_id", required=True, type=int)
    t.add_argument("--content-digest", required=True, help="0x + 64 hex: the take video's digest")
    t.add_argument("--metadata-digest", required=True, help="0x + 64 hex: the take metadata's digest")
    t.set_defaults(func=cmd_ballot_take)
    v = with_flags(bsub.add_parser("vote", help="vote with a pass (or with your ticket: no --pass)"), True)
    v.add_argument("--ballot", required=True, type=int)
    v.add_argument("--option", required=True, type=int)
    v.add_argument("--pass", dest="pass_id", type=int)
    v.set_defaults(func=cmd_ballot_vote)
    r = with_flags(bsub.add_parser("result", help="tallies and the leading option"), False)
    r.add_argument("--ballot", required=True, type=int)
    r.set_defaults(func=cmd_ballot_result)
    st = with_flags(bsub.add_parser("settle", help="after a takes vote: name the winner (it then mints)"), True)
    st.add_argument("--ballot", required=True, type=int)
    st.set_defaults(func=cmd_ballot_settle)
    rl = with_flags(bsub.add_parser("release", help="reopen a takes segment its winner did not mint in time"), True)
    rl.add_argument("--ballot", required=True, type=int)
    rl.set_defaults(func=cmd_ballot_release)
    pv = with_flags(bsub.add_parser("prepare-votes", help="pre-pay ticket voters' first vote (you pay)"), True)
    pv.add_argument("--ballot", required=True, type=int)
    pv.add_argument("--voter", action="append", default=[], help="an address (default: the movie's ticket buyers)")
    pv.set_defaults(func=cmd_ballot_prepare)


def _register_approval(sub, with_flags) -> None:
    ap = sub.add_parser("approval", help="director approval of minted segments")
    asub = ap.add_subparsers(dest="approval_command", metavar="ACTION", required=True)
    w = with_flags(asub.add_parser("window", help="require approval; unreviewed segments pass after N s"), True)
    w.add_argument("--movie", required=True, type=int)
    w.add_argument("--seconds", required=True, type=int, help="0 turns approval off")
    w.set_defaults(func=cmd_approval)
    for action, text in (("submit", "submit your segment"), ("approve", "approve"), ("reject", "reject")):
        a = with_flags(asub.add_parser(action, help=f"{text} a minted segment"), True)
        a.add_argument("--movie", required=True, type=int)
        a.add_argument("--segment", required=True, type=int)
        if action == "reject":
            a.add_argument("--reason", required=True, help="why (on chain; the segment reopens for a new version)")
        a.set_defaults(func=cmd_approval)
    st = with_flags(asub.add_parser("status", help="a segment's review state and whether its revenue waits"), False)
    st.add_argument("--movie", required=True, type=int)
    st.add_argument("--segment", required=True, type=int)
    st.set_defaults(func=cmd_approval_status)

    cr = with_flags(sub.add_parser("credits", help="who made the movie: director, creator, leader, minters"), False)
    cr.add_argument("movie", type=int)
    cr.add_argument("--json", action="store_true")
    cr.set_defaults(func=cmd_credits)


# ---------------------------------------------------------------- helpers
def _community(args):
    from movieminter.app.director_cli import _chain, _settings
    from movieminter.chain.community import CommunityClient

    settings = _settings(args)
    address = args.community_address or settings.community_address
    if not address:
        raise MovieMinterError(
            "No Community contract given.",
            hint="pass --community ADDR or set MOVIEMINTER_COMMUNITY_ADDRESS (`movieminter chain deploy` prints it)",
        )
    # The configured deployment block belongs to the configured contract, not to another given with --community.
    same = address.lower() == settings.community_address.lower()
    return CommunityClient.for_chain(_chain(args), address, deploy_block=settings.community_deploy_block if same else 0)


def _send(args, function: str, fargs: list, value: int = 0) -> tuple:
    """Signs `function(*fargs)` with the keystore; returns (client, receipt, decoded events)."""
    from movieminter.app.director_cli import _account

    com = _community(args)
    receipt = com.wait(com.send(function, fargs, _account(args), value=value))
    return com, receipt, com.events(receipt)


def _arg(events: list[dict], event: str, name: str):
    return next(e["args"][name] for e in events if e["event"] == event)


def _digest(text: str) -> bytes:
    try:
        value = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        value = b""
    if len(value) != 32:
        raise MovieMinterError(f"{text!r} is not a 32-byte digest.", hint="0x followed by 64 hex digits")
    return value


def _eth(wei: int) -> str:
    from decimal import Decimal

    from movieminter.chain.community import WEI_PER_ETH

    return f"{(Decimal(wei) / WEI_PER_ETH).normalize():f} ETH"


def _tx(receipt) -> str:
    value = receipt["transactionHash"]
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


# --------------------------------------------------------------- commands
def cmd_collective_create(args) -> int:
    from movieminter.app.director_cli import to_wei

    share, minters = _bps(args.creator_share, "--creator-share"), _bps(args.minters_share, "--minters-share")
    if share and not args.creator:
        raise MovieMinterError("--creator-share needs --creator.", hint="the address that receives that share")
    if share + minters > 10_000:
        raise MovieMinterError(
            f"The creator's and the minters' shares add up to {(share + minters) / 100:g}%.",
            hint="together at most 100%; the leader gets the rest",
        )
    creator = args.creator or "0x" + "00" * 20
    fargs = [to_wei(args.price), to_wei(args.early_price), args.early_cap, creator, share, minters]
    _, receipt, events = _send(args, "createCollective", fargs)
    cid = _arg(events, "CollectiveCreated", "collectiveId")
    print(
        f"collective {cid} created (tx {_tx(receipt)}): passes {_eth(fargs[0])}, the first {args.early_cap} at "
        f"{_eth(fargs[1])}; creator share {share / 100:g}%, minters' share {minters / 100:g}%, leader "
        f"{(10_000 - share - minters) / 100:g}%"
    )
    print(f"next: movieminter director collective join --movie ID --collective {cid}")
    return 0


def cmd_collective_join(args) -> int:
    _, receipt, _ = _send(args, "joinCollective", [args.movie, args.collective])
    print(f"movie {args.movie} joined collective {args.collective} (tx {_tx(receipt)})")
    return 0


def cmd_collective_prices(args) -> int:
    from movieminter.app.director_cli import to_wei

    price, early = to_wei(args.price), to_wei(args.early_price)
    _, receipt, _ = _send(args, "setPassPrices", [args.collective, price, early])
    print(f"collective {args.collective}: passes now {_eth(price)}, early tier {_eth(early)} (tx {_tx(receipt)})")
    return 0


def cmd_pass_buy(args) -> int:
    price, early = _community(args).next_pass_price(args.collective)
    _, receipt, events = _send(args, "buyPass", [args.collective], value=price)
    pass_id = _arg(events, "PassBought", "passId")
    tier = "early tier" if early else "regular price"
    print(f"pass {pass_id} of collective {args.collective} bought for {_eth(price)} ({tier}; tx {_tx(receipt)})")
    return 0


def _bps(percent: str, flag: str) -> int:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(percent) * 100
    except InvalidOperation:
        value = Decimal(-1)
    if value != value.to_integral_value() or not 0 <= value <= 10_000:
        raise MovieMinterError(f"{flag} {percent!r} is not a percentage.", hint="0 to 100, at most two decimals")
    return int(value)


def cmd_pass_collect(args) -> int:
    _, receipt, events = _send(args, "collect", [args.collective])
    a = _arg(events, "RevenueCollected", "toCreator"), _arg(events, "RevenueCollected", "toLeader")
    minters, waiting = _arg(events, "RevenueCollected", "toMinters"), _arg(events, "RevenueCollected", "waiting")
    print(
        f"collective {args.collective}: credited creator {_eth(a[0])}, leader {_eth(a[1])}; minters' pool "
        f"+{_eth(minters)} (tx {_tx(receipt)})"
    )
    if waiting:
        print(f"{_eth(waiting)} of the minters' share waits for the collective's first movie")
    return 0


def cmd_pass_claim(args) -> int:
    from movieminter.app.director_cli import _account, _chain

    chain, holder = _chain(args), _account(args).address
    segments = args.segment
    if segments is None:  # every minted segment of the movie the signer holds now
        minted = [s["segment"] for s in chain.segments(args.movie) if s["status"] == "minted"]
        segments = [s for s in minted if chain.call("ownerOf", args.movie << 32 | s) == holder]
    if not segments:
        raise MovieMinterError(
            f"You hold no segment of movie {args.movie}.", hint="pass --segment S for a segment token you hold"
        )
    token_ids = [args.movie << 32 | s for s in segments]
    _, receipt, events = _send(args, "claimPassRevenue", [token_ids])
    total = sum(e["args"]["amount"] for e in events if e["event"] == "PassRevenueClaimed")
    print(
        f"movie {args.movie}: {_eth(total)} of pass revenue credited for segment(s) "
        f"{', '.join(map(str, segments))} (tx {_tx(receipt)})"
    )
    print("next: movieminter director pass withdraw")
    return 0


def cmd_pass_withdraw(args) -> int:
    _, receipt, events = _send(args, "withdraw", [])
    print(f"withdrew {_eth(_arg(events, 'Withdrawn', 'amount'))} (tx {_tx(receipt)})")
    return 0


def cmd_ballot_open(args) -> int:
    from movieminter.app.director import chain_now

    com = _community(args)
    start = chain_now(com) + max(1, round(args.takes_minutes * 60))
    end = start + max(1, round(args.vote_minutes * 60))
    fargs = [args.movie, args.segment, not args.idea, args.options, start, end, b"\0" * 32]
    _, receipt, events = _send(args, "openBallot", fargs)
    bid = _arg(events, "BallotOpened", "ballotId")
    what = f"an idea with {args.options} options" if args.idea else f"takes of segment {args.segment}"
    print(f"ballot {bid} opened on {what} of movie {args.movie} (tx {_tx(receipt)})")
    print(f"takes until {_fmt(start)}; voting {_fmt(start)} .. {_fmt(end)}")
    return 0


def _fmt(ts: int) -> str:
    from movieminter.app.director_cli import _fmt_time

    return _fmt_time(ts)


def cmd_ballot_take(args) -> int:
    fargs = [args.ballot, args.pass_id, _digest(args.content_digest), _digest(args.metadata_digest)]
    _, receipt, events = _send(args, "recordTake", fargs)
    print(f"take {_arg(events, 'TakeRecorded', 'take')} recorded in ballot {args.ballot} (tx {_tx(receipt)})")
    return 0


def cmd_ballot_vote(args) -> int:
    from movieminter.chain.community import NO_PASS

    pass_id = NO_PASS if args.pass_id is None else args.pass_id
    _, receipt, _ = _send(args, "vote", [args.ballot, args.option, pass_id])
    by = "your ticket" if args.pass_id is None else f"pass {args.pass_id}"
    print(f"voted for option {args.option} in ballot {args.ballot} with {by} (tx {_tx(receipt)})")
    return 0


def cmd_ballot_result(args) -> int:
    info = _community(args).ballot(args.ballot)
    print(
        f"ballot {args.ballot} ({info['kind']}, movie {info['movie']}"
        + (f", segment {info['segment']}" if info["kind"] == "takes" else "")
        + f"): voting {_fmt(info['start'])} .. {_fmt(info['end'])}"
    )
    for option, votes in enumerate(info["tallies"]):
        print(f"  option {option}: {votes} vote(s)")
    if not info["tallies"]:
        print("  no options yet")
    elif info["leader_votes"] == 0:
        print("no votes yet")
    else:
        state = "won" if info["final"] else "leads (voting still open)"
        print(f"option {info['leader']} {state} with {info['leader_votes']} vote(s)")
    return 0


def cmd_ballot_settle(args) -> int:
    com = _community(args)
    takes = [(t["taker"], t["content_digest"], t["metadata_digest"]) for t in com.takes(args.ballot)]
    _, receipt, events = _send(args, "settleTakes", [args.ballot, takes])
    won = [e["args"] for e in events if e["event"] == "TakesSettled"]
    if not won:
        print(f"ballot {args.ballot}: nobody voted; the segment is open again (tx {_tx(receipt)})")
        return 0
    w = won[0]
    info = com.ballot(args.ballot)
    print(f"ballot {args.ballot}: take {w['take']} by {w['taker']} won (tx {_tx(receipt)})")
    print(
        f"only its author mints segment {info['segment']} of movie {info['movie']}, with content digest "
        f"0x{bytes(w['contentDigest']).hex()} and metadata digest 0x{bytes(w['metadataDigest']).hex()}"
    )
    return 0


def cmd_ballot_release(args) -> int:
    _, receipt, events = _send(args, "releaseTakes", [args.ballot])
    seg = _arg(events, "TakesReleased", "segment")
    print(f"ballot {args.ballot}: segment {seg} is open again (tx {_tx(receipt)})")
    return 0


def cmd_ballot_prepare(args) -> int:
    from eth_utils import to_checksum_address

    com = _community(args)
    voters = [to_checksum_address(v) for v in args.voter]
    if not voters:
        from movieminter.app.director_cli import _chain

        chain = _chain(args)
        movie = com.ballot(args.ballot)["movie"]
        since = int(chain.movie(movie)["createdBlock"])  # no ticket of the movie before it
        logs = chain.logs(chain.contract.events.TicketBought, {"movieId": movie}, start=since)
        voters = sorted({log["args"]["buyer"] for log in logs})
    if not voters:
        print(f"ballot {args.ballot}: no ticket voters to prepare")
        return 0
    _, receipt, _ = _send(args, "prepareTicketVotes", [args.ballot, voters])
    print(f"ballot {args.ballot}: prepared the vote words of {len(voters)} ticket voter(s) (tx {_tx(receipt)})")
    return 0


def cmd_approval_status(args) -> int:
    com = _community(args)
    state = com.review_of(args.movie, args.segment)
    line = f"movie {args.movie} segment {args.segment}: {state}"
    if state == "pending":
        line += f"; counts as approved from {_fmt(com.auto_approve_at(args.movie, args.segment))} if not reviewed"
    paid = state in ("not required", "approved")
    print(line)
    print("its pool revenue is paid to its holder" if paid else "its pool revenue is held back until it is approved")
    return 0


def cmd_approval(args) -> int:
    action = args.approval_command
    if action == "window":
        _send(args, "setApprovalWindow", [args.movie, args.seconds])
        print(
            f"movie {args.movie}: segments need approval; unreviewed ones count as approved {args.seconds} s after "
            "submission"
            if args.seconds
            else f"movie {args.movie}: approval turned off"
        )
        return 0
    if action == "submit":
        com, _, _ = _send(args, "submitSegment", [args.movie, args.segment])
    else:
        fargs = [args.movie, args.segment, action == "approve", getattr(args, "reason", "") or ""]
        com, _, _ = _send(args, "reviewSegment", fargs)
    state = com.review_of(args.movie, args.segment)
    verb = {"submit": "submitted", "approve": "approved", "reject": "rejected"}[action]
    print(f"movie {args.movie} segment {args.segment} {verb}; review state now: {state}")
    if action == "reject":
        print("its token was burnt and the segment is open again: anyone may claim and mint a new version")
    return 0


def cmd_credits(args) -> int:
    import json

    from movieminter.app.community import credits_lines, movie_credits

    credits = movie_credits(_community(args), args.movie)
    if args.json:
        print(json.dumps(credits, indent=1))
        return 0
    for line in credits_lines(credits):
        print(line)
    return 0
