"""`movieminter director approval|credits ...`: the director's approval of minted segments and a movie's
credits, from a terminal (docs/community.md), signed with an encrypted keystore like every director command.

    approval window --movie ID --seconds N | submit|approve --movie ID --segment S | reject ... --reason TEXT
    approval status --movie ID --segment S          (review state; whether its revenue is held back)
    credits MOVIE
"""

from __future__ import annotations

from movieminter.app.community_cli import _community, _fmt, _send, commands


def register(sub, common) -> None:
    """Adds the approval and credits commands to `director`'s subparsers; `common(parser, signing)` adds the
    usual flags."""
    add = commands(common)
    ap = sub.add_parser("approval", help="director approval of minted segments")
    asub = ap.add_subparsers(dest="approval_command", metavar="ACTION", required=True)
    w = add(asub, "window", "require approval; unreviewed segments pass after N s", cmd_approval, "movie")
    w.add_argument("--seconds", required=True, type=int, help="0 turns approval off")
    for action, text in (("submit", "submit your segment"), ("approve", "approve"), ("reject", "reject")):
        a = add(asub, action, f"{text} a minted segment", cmd_approval, "movie", "segment")
        if action == "reject":
            a.add_argument("--reason", required=True, help="why (on chain; the segment reopens for a new version)")
    add(
        asub,
        "status",
        "a segment's review state and whether its revenue waits",
        cmd_approval_status,
        "movie",
        "segment",
        signing=False,
    )

    cr = add(sub, "credits", "who made the movie: director, creator, leader, minters", cmd_credits, signing=False)
    cr.add_argument("movie", type=int)
    cr.add_argument("--json", action="store_true")


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
