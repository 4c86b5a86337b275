"""`movieminter director ballot ...`: takes and votes on the Community contract from a terminal
(docs/community.md), signed with an encrypted keystore like every director command.

    ballot open --movie ID --segment S [--idea --options N] [--takes-minutes M] [--vote-minutes M]
    ballot take --ballot B --pass P --content-digest 0x.. --metadata-digest 0x..
    ballot vote --ballot B --option O [--pass P]     (no --pass: vote with a ticket)
    ballot result --ballot B
    ballot settle --ballot B                         (after the vote: names the winning take on chain)
    ballot release --ballot B                        (a winner that did not mint in time: reopen the segment)
    ballot prepare-votes --ballot B [--voter ADDR ...]   (pre-pay ticket voters' vote words)
"""

from __future__ import annotations

from movieminter.app.community_cli import _arg, _community, _fmt, _send, _tx, commands
from movieminter.errors import MovieMinterError


def register(sub, common) -> None:
    """Adds the ballot commands to `director`'s subparsers; `common(parser, signing)` adds the usual flags."""
    add = commands(common)
    bal = sub.add_parser("ballot", help="takes and votes: open, take, vote, result")
    bsub = bal.add_subparsers(dest="ballot_command", metavar="ACTION", required=True)
    o = add(bsub, "open", "open a ballot on a segment's takes or on an idea", cmd_ballot_open, "movie")
    o.add_argument("--segment", type=int, default=0, help="the segment the takes are of (takes ballots)")
    o.add_argument("--idea", action="store_true", help="vote on options described off chain instead of takes")
    o.add_argument("--options", type=int, default=0, help="idea ballots: how many options (2-8)")
    o.add_argument("--takes-minutes", type=float, default=60.0, help="minutes until voting starts (default 60)")
    o.add_argument("--vote-minutes", type=float, default=1440.0, help="minutes voting lasts (default 1440)")
    t = add(bsub, "take", "record a take (pass holders, before voting starts)", cmd_ballot_take, "ballot")
    t.add_argument("--pass", dest="pass_id", required=True, type=int)
    t.add_argument("--content-digest", required=True, help="0x + 64 hex: the take video's digest")
    t.add_argument("--metadata-digest", required=True, help="0x + 64 hex: the take metadata's digest")
    v = add(bsub, "vote", "vote with a pass (or with your ticket: no --pass)", cmd_ballot_vote, "ballot", "option")
    v.add_argument("--pass", dest="pass_id", type=int)
    add(bsub, "result", "tallies and the leading option", cmd_ballot_result, "ballot", signing=False)
    add(bsub, "settle", "after a takes vote: name the winner (it then mints)", cmd_ballot_settle, "ballot")
    add(bsub, "release", "reopen a takes segment its winner did not mint in time", cmd_ballot_release, "ballot")
    pv = add(bsub, "prepare-votes", "pre-pay ticket voters' first vote (you pay)", cmd_ballot_prepare, "ballot")
    pv.add_argument("--voter", action="append", default=[], help="an address (default: the movie's ticket buyers)")


def _digest(text: str) -> bytes:
    try:
        value = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        value = b""
    if len(value) != 32:
        raise MovieMinterError(f"{text!r} is not a 32-byte digest.", hint="0x followed by 64 hex digits")
    return value


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

        voters = com.ticket_voters_to_prepare(_chain(args), args.ballot, com.ballot(args.ballot)["movie"])
    if not voters:
        print(f"ballot {args.ballot}: no ticket voters to prepare")
        return 0
    _, receipt, _ = _send(args, "prepareTicketVotes", [args.ballot, voters])
    print(f"ballot {args.ballot}: prepared the vote words of {len(voters)} ticket voter(s) (tx {_tx(receipt)})")
    return 0
