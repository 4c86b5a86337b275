"""`movieminter chain ...`, `movieminter lottery verify`, `movieminter keystore ...`."""

from __future__ import annotations

import getpass
import json
import os
import signal
import sys
from pathlib import Path

from movieminter.errors import MovieMinterError


def register(subparsers) -> None:
    lottery = subparsers.add_parser("lottery", help="record or verify a movie's lottery draw")
    lsub = lottery.add_subparsers(dest="lottery_command", metavar="ACTION")
    drw = lsub.add_parser(
        "draw",
        help="record the draw's seed as soon as its block exists (what an entrant's app "
        "does: a win is final only once recorded)",
    )
    drw.add_argument("movie", type=int, help="movie id")
    _chain_args(drw)
    _keystore_args(drw)
    drw.add_argument("--wait", action="store_true", help="wait for the draw block if it is not mined yet")
    drw.add_argument("--timeout", type=float, default=3600.0, help="seconds --wait waits at most (default 3600)")
    drw.add_argument("--check", action="store_true", help="only print where the draw stands; send nothing")
    drw.add_argument("--json", action="store_true", help="print the result as JSON")
    drw.set_defaults(func=_lottery_draw)
    verify = lsub.add_parser("verify", help="recompute a draw from chain data and compare with the contract")
    verify.add_argument("movie", type=int, help="movie id")
    _chain_args(verify)
    verify.add_argument(
        "--segment",
        type=int,
        action="append",
        default=None,
        help="explain these segments round by round (default: the first three)",
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(func=_lottery_verify)

    chain = subparsers.add_parser("chain", help="local chain, deployment, presets")
    csub = chain.add_subparsers(dest="chain_command", metavar="ACTION")
    anvil = csub.add_parser("anvil", help="run a local chain (anvil) until Ctrl-C")
    anvil.add_argument("--port", type=int, default=8545)
    anvil.add_argument(
        "--deploy", action="store_true", help="also deploy MovieMinter and Community and print their addresses"
    )
    anvil.set_defaults(func=_chain_anvil)
    deploy = csub.add_parser("deploy", help="deploy the MovieMinter contract and its Community contract")
    _chain_args(deploy, contract=False)
    _keystore_args(deploy)
    deploy.add_argument(
        "--community-for",
        metavar="ADDR",
        help="deploy only Community, for the MovieMinter already at ADDR",
    )
    deploy.set_defaults(func=_chain_deploy)
    presets = csub.add_parser("presets", help="list the chain presets")
    presets.set_defaults(func=_chain_presets)

    ks = subparsers.add_parser("keystore", help="encrypted keystores for headless signing")
    ksub = ks.add_subparsers(dest="keystore_command", metavar="ACTION")
    new = ksub.add_parser("new", help="create a new account in an encrypted keystore")
    new.add_argument("path", type=Path)
    new.add_argument("--password-env", metavar="NAME", help="read the password from this environment variable")
    new.set_defaults(func=_keystore_new)
    imp = ksub.add_parser("import", help="encrypt an existing private key into a keystore")
    imp.add_argument("path", type=Path)
    imp.add_argument("--password-env", metavar="NAME", help="read the password from this environment variable")
    imp.add_argument(
        "--key-env",
        metavar="NAME",
        help="read the private key from this environment variable (default: a hidden prompt)",
    )
    imp.set_defaults(func=_keystore_import)


def _chain_args(parser, contract: bool = True) -> None:
    parser.add_argument("--rpc", metavar="URL", help="RPC URL (default: settings / MOVIEMINTER_RPC_URL / chain preset)")
    parser.add_argument("--chain", metavar="PRESET", help="chain preset name (see `movieminter chain presets`)")
    if contract:
        parser.add_argument("--contract", metavar="ADDR", help="MovieMinter address (default: settings)")


def _keystore_args(parser) -> None:
    parser.add_argument(
        "--keystore",
        type=Path,
        help="sign with this encrypted keystore (default on a local chain: the node's first unlocked account)",
    )
    parser.add_argument("--password-env", metavar="NAME", help="read the keystore password from this variable")


def _client(args):
    from movieminter.chain.client import ChainClient
    from movieminter.config import Settings

    settings = Settings.from_env(chain=args.chain, rpc_url=args.rpc, contract_address=getattr(args, "contract", None))
    return ChainClient.from_settings(settings)


def _lottery_draw(args) -> int:
    client = _client(args)
    if args.check:
        status = client.draw_status(args.movie)
    else:
        account = _load_keystore_account(args)
        sender = None
        if account is None:
            if client.chain_id != 31337:
                raise MovieMinterError(
                    "recording a draw on a public chain needs a keystore",
                    hint="pass --keystore PATH (any wallet may record it; it costs about 55,000 gas)",
                )
            sender = client.w3.eth.accounts[0]
        status = client.record_draw(args.movie, account, sender=sender, wait=args.wait, timeout=args.timeout)
    if args.json:
        print(json.dumps(status, indent=2))
        return 0 if status["state"] in ("recorded", "readable") else 1
    state = status["state"]
    if state == "recorded":
        print(
            f"movie {args.movie}: the draw is recorded"
            + (f" (tx {status['tx']})" if status.get("tx") else " (nothing to send)")
            + f"; seed {status['seed']} from block {status['draw_block']}'s hash"
        )
        print(f"see the winners with: movieminter lottery verify {args.movie}")
        return 0
    if state == "readable":
        print(
            f"movie {args.movie}: the winners are readable from block {status['draw_block']}'s hash but not recorded; "
            f"record them before block {status['readable_until']} (run without --check)"
        )
        return 0
    if state == "waiting":
        note = (
            ""
            if status["draw_block"] == status["commit_block"]
            else f" (block {status['commit_block']}'s hash expired unrecorded; the draw moved to this fixed fallback block)"
        )
        print(
            f"movie {args.movie}: the draw uses block {status['draw_block']}{note}; the chain is at "
            f"{status['current_block']}: {status['blocks_left']} block(s) to go (pass --wait to wait)"
        )
        return 1
    print(
        f"movie {args.movie}: {state}"
        + ("; close the entries first (movieminter director lottery close)" if state == "ready to close" else "")
    )
    return 1


def _lottery_verify(args) -> int:
    from movieminter.chain.lottery import verify_draw

    check = verify_draw(_client(args), args.movie, args.segment)
    if args.json:
        print(
            json.dumps(
                {
                    "movie": check.movie_id,
                    "ok": check.ok,
                    "seed": check.seed,
                    "commitBlock": check.commit_block,
                    "drawBlock": check.block_number,
                    "blockHash": check.block_hash,
                    "recorded": check.recorded,
                    "recordedInBlock": check.recorded_in_block,
                    "problems": check.problems,
                    "entrants": check.entrants,
                    "expected": check.expected,
                    "onchain": check.onchain,
                    "mismatches": check.mismatches,
                },
                indent=2,
            )
        )
    else:
        print(check.text)
    return 0 if check.ok else 1


def _chain_anvil(args) -> int:
    from movieminter.chain.anvil import TEST_MNEMONIC, Anvil
    from movieminter.chain.client import ChainClient

    with Anvil(port=args.port) as node:
        print(f"local chain running at {node.url} (chain id {node.chain_id})")
        print(f'accounts (public test mnemonic "{TEST_MNEMONIC}": never use it on a real chain):')
        for a in node.accounts:
            print(f"  {a}")
        if args.deploy:
            client = ChainClient(node.url)
            minter = client.deploy()
            print(f"MovieMinter deployed at {minter}")
            community = _deploy_community(client, None)
            print(f"Community deployed at {community.contract_address}")
            print(f"set them with: {_exports(minter, community, client.deploy_block)}")
        print("Ctrl-C stops it.")
        sys.stdout.flush()
        stop = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # delivered to sigwait, not as KeyboardInterrupt
        try:
            signal.sigwait(stop)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stop)
        print("stopping the local chain")
    return 0


def _load_keystore_account(args):
    if not args.keystore:
        return None
    from movieminter.chain.keystore import load_account, read_password

    return load_account(args.keystore, read_password(args.password_env))


def _chain_deploy(args) -> int:
    client = _client(args)
    account = _load_keystore_account(args)
    if account is None and client.chain_id != 31337:
        raise MovieMinterError(
            "deploying to a public chain needs a keystore",
            hint="pass --keystore PATH (create one with `movieminter keystore new PATH`)",
        )
    from movieminter.chain.presets import preset_for_chain_id

    preset = preset_for_chain_id(client.chain_id)
    address, block = args.community_for, None  # MovieMinter's deployment block: unknown when deployed before
    if not address:
        address = client.deploy(account)
        block = client.deploy_block
        print(f"MovieMinter deployed at {address} on chain {client.chain_id}")
        if preset and preset.address_url(address):
            print(f"  {preset.address_url(address)}")
    client.contract_address = address
    community = _deploy_community(client, account)
    print(
        f"Community deployed at {community.contract_address} in block {community.deploy_block} on chain "
        f"{client.chain_id} (for MovieMinter {address})"
    )
    if preset and preset.address_url(community.contract_address):
        print(f"  {preset.address_url(community.contract_address)}")
    print(f"set them with: {_exports(address, community, block)}")
    return 0


def _deploy_community(client, account):
    """Deploys Community next to `client`'s MovieMinter (it reads that one's movies, tickets and segments);
    returns its client (address and deployment block)."""
    from movieminter.chain.community import CommunityClient

    com = CommunityClient.for_chain(client)
    com.deploy(account, minter_address=client.contract_address)
    if com.linked:
        print("MovieMinter linked to this Community: approval gates segment payouts; takes ballots decide mints")
    else:
        print(
            "MovieMinter NOT linked to this Community (it has one already, or this wallet did not deploy it): "
            "approval and takes ballots are refused here; passes, idea ballots and credits work"
        )
    return com


def _exports(contract: str, community, contract_block: int | None = None) -> str:
    """The settings of the deployed contracts, with their deployment blocks (logs are read from there)."""
    out = f"export MOVIEMINTER_CONTRACT_ADDRESS={contract} MOVIEMINTER_COMMUNITY_ADDRESS={community.contract_address}"
    if contract_block is not None:
        out += f" MOVIEMINTER_CONTRACT_DEPLOY_BLOCK={contract_block}"
    return out + f" MOVIEMINTER_COMMUNITY_DEPLOY_BLOCK={community.deploy_block}"


def _chain_presets(args) -> int:
    from movieminter.chain.presets import PRESETS

    for p in PRESETS.values():
        print(f"{p.name:<13} {p.chain_id:>9}  {p.currency:<4} {p.rpc_url:<45} {p.explorer or '-'}")
    return 0


def _keystore_new(args) -> int:
    from movieminter.chain.keystore import create_keystore, read_password

    address = create_keystore(args.path, read_password(args.password_env, confirm=not args.password_env))
    print(f"created {args.path} for {address}")
    return 0


def _keystore_import(args) -> int:
    from movieminter.chain.keystore import import_keystore, read_password

    if args.key_env:
        key = os.environ.get(args.key_env)
        if key is None:
            raise MovieMinterError(
                f"environment variable {args.key_env} is not set",
                hint="export it, or omit --key-env to paste the key at a hidden prompt",
            )
    else:
        key = getpass.getpass("Private key (hidden): ")
    address = import_keystore(args.path, key.strip(), read_password(args.password_env, confirm=not args.password_env))
    print(f"imported into {args.path}: {address}")
    return 0
