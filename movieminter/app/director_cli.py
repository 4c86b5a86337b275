"""`movieminter director ...`: the Director studio from a terminal.

    movieminter director create --manifest M --mode open|allowlist|lottery --keystore K [terms...]
    movieminter director allowlist --csv F            (Merkle root + proofs pinned to IPFS)
    movieminter director lottery open|close|draw|results --movie ID [--keystore K]
    movieminter director status --movie ID
    movieminter director collective|pass|ballot|approval|credits ...
        (the Community contract: community_cli, ballot_cli, approval_cli)

Transactions are signed with an encrypted keystore (eth-account v3 JSON); the
password comes from --password-file, $MOVIEMINTER_KEYSTORE_PASSWORD or a prompt.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from movieminter.errors import MovieMinterError

PASSWORD_ENV = "MOVIEMINTER_KEYSTORE_PASSWORD"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "director",
        help="create a movie, run its lottery or allowlist, follow the work",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="director_command", metavar="ACTION", required=True)

    def common(sp, signing: bool):
        sp.add_argument("--data-dir", help="app data folder (IPFS store, caches)")
        sp.add_argument("--chain", help="chain preset name (local, sepolia, base-sepolia, ...) or RPC URL")
        sp.add_argument("--rpc", dest="rpc_url", help="RPC URL (overrides the preset's)")
        sp.add_argument("--contract", dest="contract_address", help="MovieMinter contract address")
        if signing:
            sp.add_argument(
                "--keystore", required=True, type=Path, help="encrypted keystore JSON of the signing wallet"
            )
            sp.add_argument("--password-file", type=Path, help="file holding the keystore password")
            sp.add_argument(
                "--password-env",
                metavar="NAME",
                help=f"read the password from this environment variable (default: ${PASSWORD_ENV}, else a prompt)",
            )

    c = sub.add_parser("create", help="validate and pin a manifest, then createMovie")
    common(c, signing=True)
    c.add_argument("--manifest", required=True, help="manifest JSON file")
    c.add_argument("--mode", required=True, choices=["open", "allowlist", "lottery"])
    c.add_argument("--allowlist-csv", type=Path, help="allowlist mode: CSV of address,segment rows")
    c.add_argument("--creator", help="creator address (default: the signing wallet)")
    c.add_argument("--director", help="director address (default: the signing wallet)")
    c.add_argument("--ticket-price", default="0.001", help="ticket price in ETH (default 0.001; 0 = free)")
    c.add_argument("--entry-fee", default="0", help="lottery entry fee in ETH (default 0)")
    c.add_argument("--shares", default="30/20/50", help="creator/director/minters percent (default 30/20/50)")
    c.add_argument("--royalty", type=float, default=5.0, help="resale royalty percent for the creator (default 5)")
    c.add_argument("--entry-hours", type=float, default=24.0, help="lottery: hours entries stay open (default 24)")
    c.add_argument("--claim-days", type=float, default=7.0, help="days a winner/claimer holds a segment (default 7)")
    c.add_argument(
        "--max-claims",
        type=int,
        default=1,
        help="open segments one wallet may hold claimed at once, 1-8 (default 1: no squatting)",
    )
    c.set_defaults(func=cmd_create)

    a = sub.add_parser("allowlist", help="build the Merkle root of an allowlist CSV and pin its proofs")
    common(a, signing=False)
    a.add_argument("--csv", required=True, type=Path, help="CSV of address,segment rows")
    a.add_argument("--out", type=Path, help="also write the proofs JSON here")
    a.add_argument("--segments", type=int, help="the movie's segment count (needed for '*' rows)")
    a.set_defaults(func=cmd_allowlist)

    lo = sub.add_parser("lottery", help="lottery: open (state of entries), close, draw, results")
    common(lo, signing=False)
    lo.add_argument("action", choices=["open", "close", "draw", "results"])
    lo.add_argument("--movie", required=True, type=int)
    lo.add_argument("--keystore", type=Path, help="signing wallet (close and draw; anyone may call them)")
    lo.add_argument("--password-file", type=Path)
    lo.add_argument("--password-env", metavar="NAME")
    lo.set_defaults(func=cmd_lottery)

    s = sub.add_parser("status", help="who claimed, rendered and minted which segment")
    common(s, signing=False)
    s.add_argument("--movie", required=True, type=int)
    s.set_defaults(func=cmd_status)

    from movieminter.app import approval_cli, ballot_cli, community_cli

    for commands in (community_cli, ballot_cli, approval_cli):
        commands.register(sub, common)


# ---------------------------------------------------------------- helpers
def _settings(args):
    from movieminter.config import Settings

    return Settings.from_env(
        **{k: getattr(args, k, None) for k in ("data_dir", "chain", "rpc_url", "contract_address")}
    )


def _chain(args):
    from movieminter.app.context import AppContext

    return AppContext(_settings(args)).chain


def _store(args):
    from movieminter.app.context import AppContext

    return AppContext(_settings(args)).store


def _account(args):
    from movieminter.chain.keystore import load_account, read_password

    if not args.keystore:
        raise MovieMinterError(
            "This action sends a transaction and needs a wallet.",
            hint="pass --keystore FILE (an encrypted keystore: `movieminter keystore new`)",
        )
    if args.password_file:
        password = Path(args.password_file).read_text().strip()
    elif getattr(args, "password_env", None):
        password = read_password(args.password_env)
    elif os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    else:
        password = read_password(prompt=f"Password for {args.keystore}: ")
    return load_account(args.keystore, password)


def to_wei(text: str) -> int:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(str(text)) * 10**18
    except InvalidOperation:
        raise MovieMinterError(f"{text!r} is not an amount of ETH.", hint="write it like 0.001") from None
    if value < 0 or value != value.to_integral_value():
        raise MovieMinterError(f"{text!r} is not a valid amount of ETH.", hint="at most 18 decimals, not negative")
    return int(value)


def parse_shares(text: str) -> tuple[int, int, int]:
    try:
        parts = [round(float(x) * 100) for x in text.split("/")]
    except ValueError:
        parts = []
    if len(parts) != 3:
        raise MovieMinterError(
            f"--shares {text!r} is not creator/director/minters percentages.",
            hint="e.g. --shares 30/20/50 (they must add up to 100)",
        )
    return parts[0], parts[1], parts[2]


def _fmt_time(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts)) if ts else "-"


# --------------------------------------------------------------- commands
def cmd_create(args) -> int:
    from movieminter.app.director import MovieTerms, validate
    from movieminter.app.publish import prepare_create

    checked = validate(Path(args.manifest))
    if not checked["ok"]:
        lines = "\n".join(
            f"  {p['pointer'] or '/'}: {p['message']}" + (f" ({p['hint']})" if p.get("hint") else "")
            for p in checked["problems"]
        )
        raise MovieMinterError(
            f"{args.manifest} is not a valid manifest:\n{lines}",
            hint="fix these, then run `movieminter manifest validate` to check",
        )
    creator_bps, director_bps, minters_bps = parse_shares(args.shares)
    account = _account(args)
    terms = MovieTerms(
        mode=args.mode,
        creator=args.creator or account.address,
        director=args.director or account.address,
        ticket_price_wei=to_wei(args.ticket_price),
        entry_fee_wei=to_wei(args.entry_fee),
        creator_bps=creator_bps,
        director_bps=director_bps,
        minters_bps=minters_bps,
        royalty_bps=round(args.royalty * 100),
        entry_seconds=round(args.entry_hours * 3600),
        claim_window_seconds=round(args.claim_days * 86400),
        max_claims=args.max_claims,
    )
    terms.check()
    store, chain = _store(args), _chain(args)
    allowlist_csv = ""
    if args.mode == "allowlist":
        if not args.allowlist_csv:
            raise MovieMinterError("Allowlist mode needs --allowlist-csv.", hint="a CSV of address,segment rows")
        allowlist_csv = args.allowlist_csv.read_text()
    prepared = prepare_create(store, chain, checked["manifest"], terms, allowlist_csv)
    if allow := prepared["allowlist"]:
        print(f"allowlist: {allow['count']} entries, root {allow['root']}, proofs pinned as {allow['proofs_cid']}")
    print(f"manifest “{checked['title']}” ({checked['segment_count']} segments) pinned as {prepared['pinned']['cid']}")
    fn, fargs = prepared["call"]
    receipt = chain.wait(chain.send(fn, fargs, account))
    movie_id = chain.movie_id_from_receipt(receipt)
    print(f"movie {movie_id} created in {args.mode} mode (tx {_hex(receipt['transactionHash'])})")
    if args.mode == "lottery":
        print(
            f"lottery entries are open until {_fmt_time(int(fargs[0][5]) if isinstance(fargs[0], (list, tuple)) else 0)}; "
            f"then run: movieminter director lottery close --movie {movie_id}"
        )
    return 0


def _hex(value) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def cmd_allowlist(args) -> int:
    import json

    from movieminter.app.director import build_allowlist, parse_allowlist_csv

    allow = build_allowlist(_store(args), parse_allowlist_csv(args.csv.read_text(), args.segments))
    print(f"{allow['count']} entries\nMerkle root: {allow['root']}\nproofs (JSON) pinned as {allow['proofs_cid']}")
    if args.out:
        args.out.write_text(json.dumps(allow["proofs"], indent=1))
        print(f"proofs written to {args.out}")
    print("Use it with: movieminter director create --mode allowlist --allowlist-csv " + str(args.csv) + " ...")
    return 0


def cmd_lottery(args) -> int:
    from movieminter.app.activity import lottery_report

    chain = _chain(args)
    if args.action in ("close", "draw"):
        fn = "closeEntries" if args.action == "close" else "draw"
        receipt = chain.wait(chain.send(fn, [args.movie], _account(args)))
        print(f"{fn} sent (tx {_hex(receipt['transactionHash'])}, block {receipt['blockNumber']})")
    status = lottery_report(chain, args.movie)
    print(
        f"movie {args.movie}: phase {status['phase']}, {status['entrant_count']} entrant(s), "
        f"entries close {_fmt_time(status['entry_deadline'])}"
    )
    if args.action == "open":
        print(
            "Entries open when the movie is created in lottery mode and stay open until the deadline above; "
            "wallets enter from the Minter tab (Enter lottery)."
        )
    if args.action == "close" and status.get("commit_block"):
        print(f"The draw is committed to block {status['commit_block']}: run `director lottery draw` after it.")
    if status.get("winners"):
        for seg, w in enumerate(status["winners"]):
            print(f"  segment {seg}: {w or '(no entrant: open to anyone)'}")
        print(status["explanation"])
        print(
            "verified: the Python recomputation matches the contract"
            if status["verified"]
            else "MISMATCH: the Python recomputation differs from the contract!"
        )
    return 0


def cmd_status(args) -> int:
    from movieminter.app.activity import activity

    a = activity(_chain(args), args.movie)
    m = a["movie"]
    print(
        f"movie {args.movie}: {m['mint_mode']} mode, {m['segment_count']} segments, {m['minted_count']} minted, "
        f"{m['tickets_sold']} ticket(s) sold"
    )
    print(f"{'seg':>4}  {'status':10}  {'wallet':42}  {'deadline':20}  video")
    for s in a["segments"]:
        print(
            f"{s['index']:>4}  {s['status']:10}  {s.get('account') or '-':42}  {_fmt_time(s.get('deadline') or 0):20}  "
            f"{s.get('content_cid') or '-'}"
        )
    for e in a["events"][-20:]:
        print(f"  block {e['block']}: {e['summary']}")
    return 0
