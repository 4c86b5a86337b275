"""`movieminter demo`: the whole story on one machine, narrated.

A local chain (anvil) with the MovieMinter contract, a local IPFS store, and
the A1111 + Deforum stand-in (or a real A1111 with --a1111-url). The example
movie is published in lottery mode, demo wallets enter, the draw picks the
winners, two segments render and mint through the same job runner the app
uses, a viewer buys a ticket, the movie is stitched, and the revenue split is
shown (with --season, the season runs first and the movie is stitched after it,
so its takes, approvals and pass holders are in the movie and its credits). Then the UI keeps running until Ctrl-C (--no-serve exits instead).

Demo wallets are anvil's well-known test accounts. They sign headlessly here
through encrypted keystores in the data folder; their keys never appear in
the output. Headless signing is for these demo wallets only: real users sign
in their own browser wallet.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import ExitStack
from pathlib import Path

from movieminter.app.demo_cast import (
    ROLES,
    SEASON_ROLES,
    ExternalAnvil,
    Narrator,
    eth,
    make_demo_wallets,
    mint_segments,
    revenue_split,
    run_lottery,
    serve,
    short,
    start_a1111_double,
)
from movieminter.errors import MovieMinterError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lighthouse.json"
MINT_SEGMENTS = 2
TICKET_PRICE_WEI = 10**16  # 0.01 ETH


def register(subparsers) -> None:
    # The description is this module's second paragraph (what the demo does), as `movieminter director`'s.
    what = " ".join(__doc__.split("\n\n")[1].split())
    p = subparsers.add_parser(
        "demo", help="run the whole story locally: chain, lottery, render & mint, ticket", description=what
    )
    p.add_argument(
        "--a1111-url", default="", help="a real A1111 started with --api --deforum-api (default: the built-in stand-in)"
    )
    p.add_argument("--data-dir", default=None, help="where everything goes (default: a fresh data/demo-<time>/)")
    p.add_argument("--port", type=int, default=7870, help="port of the app's UI (0: any free port; default 7870)")
    p.add_argument("--no-serve", action="store_true", help="exit after the flow instead of serving the UI (CI)")
    p.add_argument("--manifest", default=str(EXAMPLE), help=argparse.SUPPRESS)
    p.add_argument(
        "--season",
        action="store_true",
        help="then run a season on the Community contract: passes, a collective, takes and a vote, approval, credits",
    )
    # Tests: use an anvil they started (so they can inspect the chain after the demo exits).
    p.add_argument("--anvil-url", default="", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


# --------------------------------------------------------------------- flow
def run(args) -> int:
    data_dir = Path(args.data_dir or f"data/demo-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    if (data_dir / "demo-summary.json").exists() or (data_dir / "journal.sqlite3").exists():
        # Each run starts a new, empty chain: an old run's journal would describe mints that no longer exist.
        raise MovieMinterError(
            f"{data_dir} already holds an earlier demo run, whose chain is gone.",
            hint="pass a new --data-dir (or leave it out for a fresh folder), or delete that one",
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        result = run_flow(
            data_dir,
            a1111_url=args.a1111_url,
            manifest_path=Path(args.manifest),
            stack=stack,
            anvil_url=args.anvil_url,
            season=args.season,
        )
        if args.no_serve:
            return 0
        serve(result, port=args.port)
    return 0


def stitch_step(ctx, movie_id: int, wallets, say) -> Path:
    """The narrated step that stitches the movie (once) and lists its chapters; the movie file."""
    from movieminter.app.viewer import chapters, stitched_movie

    say.step("Stitch the movie from the minted segments")
    movie_file = stitched_movie(ctx, movie_id)
    for c in chapters(ctx, movie_id):
        if not c["minter"]:
            credit = "placeholder card (not minted yet)"
        else:
            credit = f"minted by {wallets.role_of(c['minter'])} {short(c['minter'])}"
            if c["awaiting"]:
                credit += f"; placeholder card ({c['awaiting']})"
        say.info(f"{c['start']:5.1f}s  {c['title']}: {credit}")
    say.info(f"movie file: {movie_file}")
    say.proves("minted segments concatenate without re-encoding into one movie, with a chapter per segment.")
    return movie_file


def run_flow(
    data_dir: Path,
    *,
    a1111_url: str = "",
    manifest_path: Path = EXAMPLE,
    stack: ExitStack,
    out=None,
    anvil_url: str = "",
    season: bool = False,
) -> dict:
    """The demo's story. Returns what the UI and the tests need (urls, ids, paths, ctx)."""
    from movieminter.app.context import AppContext
    from movieminter.app.director import MovieTerms, chain_now, create_movie_call, pin_manifest, validate
    from movieminter.chain.anvil import Anvil
    from movieminter.chain.client import ChainClient
    from movieminter.chain.community import CommunityClient
    from movieminter.config import Settings

    say = Narrator(total=10 if season else 9, out=out)
    say._print("Movie Minter demo: a crowd-made movie, end to end, on this machine.")
    say._print(f"Everything it writes goes to {data_dir}")

    # 1. chain ---------------------------------------------------------------
    say.step("Local blockchain: start anvil and deploy the MovieMinter contract")
    anvil = ExternalAnvil(anvil_url) if anvil_url else stack.enter_context(Anvil())
    chain = ChainClient(anvil.url)
    address = chain.deploy()  # from anvil's first (unlocked) account
    community = CommunityClient.for_chain(chain)
    community_address = community.deploy(minter_address=address)
    say.info(f"anvil at {anvil.url} (chain id {chain.chain_id}); MovieMinter at {address}")
    say.info(f"Community (collectives, season passes, votes, credits) at {community_address}")
    say.proves("the contract (contracts/MovieMinter.sol, OpenZeppelin 5) deploys from its committed artifacts.")

    # 2. wallets -------------------------------------------------------------
    say.step("Demo wallets: encrypted keystores for six of anvil's test accounts")
    wallets = make_demo_wallets(data_dir / "keystores", anvil.private_keys)
    for role in ROLES:
        say.info(f"{role:9s} {wallets.addresses[role]}")
    say.info(f"keystores: {wallets.folder} (password in {wallets.folder / 'PASSWORD'}, mode 600)")
    say.proves("headless signing uses encrypted keystores only; no private key is printed or logged.")

    settings = Settings(
        data_dir=data_dir,
        a1111_url=a1111_url,
        chain="local",
        rpc_url=anvil.url,
        contract_address=address,
        community_address=community_address,
        contract_deploy_block=chain.deploy_block,
        community_deploy_block=community.deploy_block,
        ipfs_backend="local",
    )
    ctx = AppContext(settings, chain_id=chain.chain_id)
    ctx.__dict__["chain"] = chain  # the same client everywhere (cached_property slot)
    ctx.__dict__["community"] = community

    def send(role: str, fn: str, fargs: list, value: int = 0) -> dict:
        return chain.wait(chain.send(fn, fargs, wallets.account(role), value=value))

    # 3. manifest --------------------------------------------------------------
    say.step(f"Manifest: validate {manifest_path.name} and pin it to the local IPFS store")
    checked = validate(manifest_path)
    if not checked["ok"]:
        raise MovieMinterError(
            "The demo manifest is not valid: " + "; ".join(p["message"] for p in checked["problems"])
        )
    manifest = checked["manifest"]
    if a1111_url:  # a real A1111 rarely has the example's models: render with what it has, and say so
        from movieminter.render.a1111 import A1111Client
        from movieminter.render.binding import bind_to_a1111

        binding = bind_to_a1111(A1111Client(a1111_url), manifest)
        for note in binding.notes:
            say.info(note)
        manifest = binding.manifest
    pinned = pin_manifest(ctx.store, manifest)
    say.info(
        f"“{checked['title']}”: {checked['segment_count']} segments, {checked['duration']:.1f} s at {checked['fps']} fps"
    )
    say.info(f"manifest CID {pinned['cid']} (blocks under {data_dir / 'ipfs'})")
    say.proves("the manifest validates against the published schema and has a content address anyone can check.")

    # 4. movie -----------------------------------------------------------------
    say.step("Publish the movie on chain in LOTTERY mode (signed by the director)")
    terms = MovieTerms(
        mode="lottery",
        creator=wallets.addresses["creator"],
        director=wallets.addresses["director"],
        ticket_price_wei=TICKET_PRICE_WEI,
        creator_bps=3000,
        director_bps=2000,
        minters_bps=5000,
        royalty_bps=500,
        entry_seconds=600,
        claim_window_seconds=7 * 24 * 3600,
    )
    fn, fargs = create_movie_call(manifest, pinned["digest"], terms, now=chain_now(chain))
    movie_id = chain.movie_id_from_receipt(send("director", fn, fargs))
    say.info(
        f"movie id {movie_id}; ticket {eth(TICKET_PRICE_WEI)}; revenue split creator 30% / director 20% / minters 50%"
    )
    say.proves("createMovie records the manifest digest, the mode, the shares and the prices on chain.")

    # 5. lottery ---------------------------------------------------------------
    say.step("Lottery: three wallets enter, entries close, a future block's hash draws the winners")
    winners = run_lottery(chain, wallets, movie_id, terms.entry_seconds, say, send)
    say.proves(
        "no one chose the winners: the seed is the hash of a block fixed before it existed, and "
        "anyone can recompute the permutation from chain data."
    )

    # 6. render & mint ---------------------------------------------------------
    source = "your A1111 at " + a1111_url if a1111_url else "the built-in A1111 + Deforum stand-in"
    say.step(f"Render & Mint two segments through {source}")
    if not a1111_url:
        settings.a1111_url = start_a1111_double(data_dir / "a1111", stack)
        say.info(f"A1111 stand-in at {settings.a1111_url} (Deforum job API; writes real PNG frames)")
    won = [(seg, w) for seg, w in enumerate(winners) if w][:MINT_SEGMENTS]
    minted = mint_segments(ctx, chain, wallets, movie_id, won, pinned["cid"], say)
    say.proves(
        "the Minter tab's job runner renders, encodes (H.264), pins and mints; each segment token "
        "records its video's and its metadata's IPFS digests."
    )

    # 7. ticket ----------------------------------------------------------------
    say.step("A viewer buys a ticket")
    send("viewer", "buyTicket", [movie_id], value=TICKET_PRICE_WEI)
    if not chain.call("hasTicket", movie_id, wallets.addresses["viewer"]):
        raise MovieMinterError("hasTicket is false right after buyTicket.")
    say.info(f"viewer {short(wallets.addresses['viewer'])} paid {eth(TICKET_PRICE_WEI)}; hasTicket = true")
    say.proves("tickets live on chain; the Watch page streams only to a signed-in wallet with hasTicket.")

    # 8. stitch (after the season with --season: its takes, approvals and pass holders are in the movie) -------
    if not season:
        movie_file = stitch_step(ctx, movie_id, wallets, say)

    # 9. revenue ---------------------------------------------------------------
    say.step("Revenue: where the ticket money went")
    shares = revenue_split(chain, movie_id, wallets, minted)
    for line in shares["lines"]:
        say.info(line)
    say.proves("every wei is accounted for: creator + director + the segments' pool = what was paid.")

    season_result = None
    if season:
        extra = make_demo_wallets(wallets.folder, anvil.private_keys[len(ROLES) :], SEASON_ROLES)
        wallets.files.update(extra.files)
        wallets.addresses.update(extra.addresses)
        from movieminter.app.demo_season import run_season

        season_result = run_season(community, chain, wallets, movie_id, minted, say, store=ctx.store, manifest=manifest)
        movie_file = stitch_step(ctx, movie_id, wallets, say)  # once, with the season's cut and credits

    summary = {
        "rpc_url": anvil.url,
        "chain_id": chain.chain_id,
        "contract": address,
        "community": community_address,
        "movie_id": movie_id,
        "manifest_cid": pinned["cid"],
        "wallets": wallets.addresses,
        "winners": winners,
        "minted": minted,
        "movie_file": str(movie_file),
        "ticket_price_wei": TICKET_PRICE_WEI,
        "revenue": {k: v for k, v in shares.items() if k != "lines"},
        "season": season_result,
    }
    (data_dir / "demo-summary.json").write_text(json.dumps(summary, indent=1))
    say._print(f"\nSummary (ids, addresses, CIDs): {data_dir / 'demo-summary.json'}")
    return {
        "ctx": ctx,
        "chain": chain,
        "anvil": anvil,
        "movie_id": movie_id,
        "wallets": wallets,
        "minted": minted,
        "movie_file": movie_file,
        "manifest_cid": pinned["cid"],
        "data_dir": data_dir,
        "revenue": shares,
        "winners": winners,
    }
