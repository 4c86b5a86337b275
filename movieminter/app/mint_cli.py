"""`movieminter mint`: the headless twin of the Minter tab's Render & Mint.

The same JobRunner and pipeline as the app, with the journal in the same data
folder: a second run after a kill resumes the job where it stopped (nothing is
re-rendered, nothing is minted twice). The mint transaction is signed with an
encrypted keystore (the chain client's signing API); its password comes from a
hidden prompt or from an environment variable *named* by --password-env, never
from a flag, and is never printed or logged.

It mints the wallet's own segment only. When the wallet has no right to it yet
(open segment not claimed, lottery not drawn, someone else's reservation...),
it says exactly what to do instead of submitting anything.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from movieminter.errors import MovieMinterError

POLL_SECONDS = 0.2


def register(subparsers) -> None:
    what = " ".join(__doc__.split("\n\n")[1].split())  # this module's second paragraph
    p = subparsers.add_parser("mint", help="render and mint your segment headlessly (Render & Mint)", description=what)
    p.add_argument("--movie", type=int, required=True, help="the movie's on-chain id")
    p.add_argument("--segment", type=int, required=True, help="the segment's index (0-based)")
    p.add_argument("--keystore", required=True, help="encrypted keystore (Web3 Secret Storage JSON) of your wallet")
    p.add_argument(
        "--password-env",
        default=None,
        metavar="NAME",
        help="name of an environment variable holding the keystore password (default: prompt)",
    )
    p.add_argument("--rpc", default=None, metavar="URL", help="chain RPC URL (default: MOVIEMINTER_RPC_URL / preset)")
    p.add_argument("--contract", default=None, metavar="ADDR", help="MovieMinter contract address")
    p.add_argument("--a1111-url", default=None, metavar="URL", help="A1111 started with --api --deforum-api")
    p.add_argument("--a1111-auth", default=None, metavar="U:P", help="A1111's --api-auth credentials")
    p.add_argument(
        "--data-dir",
        default=None,
        metavar="D",
        help="data folder holding the job journal (default: MOVIEMINTER_DATA_DIR or ~/.movieminter, the app's)",
    )
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        default=None,
        help="allow pickle (.ckpt/.pt) checkpoints: they can run code; only for files you trust",
    )
    p.set_defaults(func=run)


# ------------------------------------------------------------------ the command
def run(args) -> int:
    from movieminter.app.context import AppContext
    from movieminter.chain import keystore
    from movieminter.config import Settings

    path = Path(args.keystore).expanduser()
    wallet = keystore.keystore_address(path)  # a missing or plaintext file is refused before any prompt
    account = keystore.load_account(path, keystore.read_password(args.password_env))
    if account.address.lower() != wallet.lower():
        raise MovieMinterError(
            f"keystore {path.name} names {wallet} but holds {account.address}",
            hint="recreate the keystore with `movieminter keystore import`",
        )

    settings = Settings.from_env(
        data_dir=args.data_dir,
        rpc_url=args.rpc,
        contract_address=args.contract,
        a1111_url=args.a1111_url,
        a1111_auth=args.a1111_auth,
        allow_pickle=args.allow_pickle,
    )
    ctx = AppContext(settings)
    chain = ctx.chain
    chain_id, contract = ctx.chain_identity()
    ctx.chain_id, ctx.contract_address = int(chain_id), contract
    say = lambda text: print(text, flush=True)  # noqa: E731

    existing = ctx.journal.find(int(chain_id), contract, args.movie, args.segment, account.address)
    resuming = existing is not None and existing.state != "minted"
    proof = None
    if resuming:
        verdict, seg = _resume_check(chain, args.movie, args.segment, account.address)
    else:
        from movieminter.app.rights import movie_manifest, right_to_mint

        right = right_to_mint(
            chain,
            args.movie,
            args.segment,
            account.address,
            store=ctx.store,
            manifest=movie_manifest(ctx, args.movie)[0],
            open_needs_claim=True,
        )
        verdict, seg, proof = right.verdict, right.segment, right.proof
    if verdict == "minted":
        say(
            f"segment {args.segment} of movie {args.movie} is already minted by your wallet {account.address}; "
            "nothing to do."
        )
        _print_token(say, chain, args.movie, args.segment, seg, existing)
        return 0

    from movieminter.app.runner import JobRunner

    runner = JobRunner(ctx, signer=chain.signer(account), hub=ctx.events)
    try:
        job, created = runner.submit(
            chain_id=int(chain_id),
            contract=contract,
            movie_id=args.movie,
            segment=args.segment,
            wallet=account.address,
            params={"proof": proof} if proof else None,
        )
        if job.state in ("failed", "cancelled"):
            say(f"job {job.id} stopped in {job.error.get('state') if job.error else job.state}; resuming it")
            job = runner.retry(job.id)
        elif not created:
            say(f"resuming job {job.id} from {job.state} (finished steps are not redone)")
        else:
            say(f"job {job.id}: rendering segment {args.segment} of movie {args.movie} for {account.address}")
        job = follow(runner, job.id)
    finally:
        runner.stop()
    if job.state != "minted":
        err = job.error or {}
        raise MovieMinterError(
            f"the job ended {job.state} in {err.get('state', '?')}: {err.get('message', '')}",
            hint=(err.get("hint") or "") + f" (run the same command again to resume job {job.id})",
        )
    _print_token(say, chain, args.movie, args.segment, chain.segments(args.movie, args.segment, 1)[0], job)
    return 0


def _resume_check(chain, movie_id, segment, wallet):
    """An unfinished job of ours exists: let the pipeline settle it (it checks the chain before every
    signature), unless someone else minted the segment meanwhile."""
    seg = chain.segments(movie_id, segment, 1)[0]
    if seg["status"] == "minted" and seg["account"] and seg["account"].lower() != wallet.lower():
        raise MovieMinterError(
            f"segment {segment} of movie {movie_id} was already minted by {seg['account']}",
            hint="each segment is minted once; pick another segment you may mint",
        )
    return "mint", seg


def follow(runner, job_id: int):
    """tqdm bars while the job runs: one for the stages, one for the rendered frames."""
    from tqdm import tqdm

    stages = ["queued", "models_ready", "rendering", "rendered", "encoded", "pinned", "awaiting_signature", "minted"]
    stage_bar = tqdm(
        total=len(stages) - 1,
        desc="stage",
        unit="step",
        file=sys.stderr,
        leave=True,
        bar_format="{desc}: {n}/{total} {bar} {postfix}",
    )
    frame_bar = None
    said_tx = None
    try:
        while True:
            job = runner.journal.get(job_id)
            done = stages.index(job.state) if job.state in stages else stage_bar.n
            if done > stage_bar.n:
                stage_bar.update(done - stage_bar.n)
            progress = runner.hub.last_progress(job_id) or {}
            stage_bar.set_postfix_str(job.state if job.terminal else (progress.get("stage") or job.state), refresh=True)
            if progress.get("frames") and progress.get("stage") == "rendering":
                if frame_bar is None:
                    frame_bar = tqdm(total=int(progress["frames"]), desc="frames", unit="frame", file=sys.stderr)
                frame_bar.update(max(0, int(progress.get("frame") or 0) - frame_bar.n))
            tx_hash = progress.get("tx_hash")
            if tx_hash and tx_hash != said_tx:
                said_tx = tx_hash
                tqdm.write(f"sent mint transaction {tx_hash} {_explorer(runner.ctx.chain, tx_hash)}", file=sys.stdout)
            if job.terminal:
                return job
            time.sleep(POLL_SECONDS)
    finally:
        if frame_bar is not None:
            frame_bar.close()
        stage_bar.close()


def _explorer(chain, tx_hash: str) -> str:
    from movieminter.chain.presets import preset_for_chain_id

    preset = preset_for_chain_id(chain.chain_id)
    url = preset.tx_url(tx_hash) if preset else None
    return url or "(no block explorer for this chain)"


def _print_token(say, chain, movie_id: int, segment: int, seg: dict, job) -> None:
    data = (job.data if job is not None else {}) or {}
    minted, pinned = data.get("minted") or {}, data.get("pinned") or {}
    tx_hash = minted.get("tx_hash")
    if tx_hash:
        receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
        say(f"transaction {tx_hash} {_explorer(chain, tx_hash)}")
        say(
            f"receipt: block {receipt['blockNumber']}, status {'success' if receipt['status'] == 1 else 'failed'}, "
            f"gas used {receipt['gasUsed']}"
        )
    token_id = chain.token_id(movie_id, segment)
    say(f"token {token_id} owned by {chain.call('ownerOf', token_id)}")
    say(f"content digest {seg.get('contentDigest')}, metadata digest {seg.get('metadataDigest')}")
    if pinned:
        say(f"video ipfs://{pinned.get('video_cid')}  metadata ipfs://{pinned.get('metadata_cid')}")
