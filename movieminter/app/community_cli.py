"""`movieminter director collective|pass ...`: the Community contract from a terminal (docs/community.md), and
the helpers its ballot (ballot_cli) and approval (approval_cli) commands share. Transactions are signed with an
encrypted keystore, like every director command.

    collective create --price ETH --early-price ETH --early-cap N [--creator ADDR --creator-share PCT]
                      [--minters-share PCT]       (the leader gets the rest)
    collective join --movie ID --collective C        (the movie's director)
    collective prices --collective C --price ETH --early-price ETH      (the leader)
    pass buy --collective C
    pass collect --collective C                      (credit the shares of the passes sold; anyone)
    pass claim-revenue --movie ID [--segment S ...]  (your segments' share of the pass revenue)
    pass withdraw                                    (pay out your credited pass revenue)
"""

from __future__ import annotations

from movieminter.errors import MovieMinterError


def register(sub, common) -> None:
    """Adds the collective and pass commands to `director`'s subparsers; `common(parser, signing)` adds the
    usual flags."""
    _register_collective(sub, commands(common))


def commands(common):
    """`add(subparsers, name, text, func, *ids, signing=True)`: a Community subcommand (help `text`) that runs
    `func`, with the usual flags (`common`), --community, and the required integer ids named ("movie": --movie)."""

    def add(subparsers, name: str, text: str, func, *ids: str, signing: bool = True):
        sp = subparsers.add_parser(name, help=text)
        common(sp, signing=signing)
        sp.add_argument("--community", dest="community_address", help="Community contract address (default: settings)")
        for flag in ids:
            sp.add_argument(f"--{flag}", required=True, type=int)
        sp.set_defaults(func=func)
        return sp

    return add


def _register_collective(sub, add) -> None:
    col = sub.add_parser("collective", help="season-pass collectives: create, join a movie, set pass prices")
    csub = col.add_subparsers(dest="collective_command", metavar="ACTION", required=True)
    c = add(csub, "create", "create a collective (you lead it)", cmd_collective_create)
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
    add(csub, "join", "put your movie in a collective (once)", cmd_collective_join, "movie", "collective")
    p = add(csub, "prices", "change the prices of passes not sold yet (leader)", cmd_collective_prices, "collective")
    p.add_argument("--price", required=True, help="pass price in ETH")
    p.add_argument("--early-price", required=True, help="early-tier price in ETH")

    ps = sub.add_parser("pass", help="season passes")
    psub = ps.add_subparsers(dest="pass_command", metavar="ACTION", required=True)
    add(psub, "buy", "buy the collective's next pass at its current price", cmd_pass_buy, "collective")
    add(psub, "collect", "credit the shares of the passes sold since the last collect", cmd_pass_collect, "collective")
    cl = add(psub, "claim-revenue", "claim your segments' share of the pass revenue", cmd_pass_claim, "movie")
    cl.add_argument("--segment", type=int, action="append", help="a segment you hold (default: all you hold)")
    add(psub, "withdraw", "pay out your credited pass revenue", cmd_pass_withdraw)


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


def _eth(wei: int) -> str:
    from decimal import Decimal

    from movieminter.chain.community import WEI_PER_ETH

    return f"{(Decimal(wei) / WEI_PER_ETH).normalize():f} ETH"


def _tx(receipt) -> str:
    value = receipt["transactionHash"]
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def _fmt(ts: int) -> str:
    from movieminter.app.director_cli import _fmt_time

    return _fmt_time(ts)


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
