"""The pipeline's chain side: prepare the mint transaction for the wallet, then confirm it from
the chain (a receipt that mints this very segment, or the segment's on-chain state), so nothing
is ever minted twice and a dropped or replaced transaction returns the job to the wallet."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from movieminter.app.steps import Goto
from movieminter.errors import MovieMinterError

if TYPE_CHECKING:
    from movieminter.chain.client import ChainError


class MintConflict(MovieMinterError, status=409): ...


CHAIN_POLL_SECONDS = 10.0  # how often a waiting mint re-checks the chain
DROPPED_AFTER_SECONDS = 120.0  # a hash the node has not seen for this long was dropped (or never sent)


def segment_minter(ctx, job) -> str | None:
    """Who minted this segment on-chain (None while unminted): the check made
    before every signature request, so nothing is ever minted twice."""
    seg = ctx.chain.segments(job.movie_id, job.segment, 1)[0]
    return seg["account"] if seg["status"] == "minted" else None


def _check_chain_identity(ctx, job) -> None:
    chain_id, contract = ctx.chain_identity()
    if (int(chain_id), contract.lower()) != (job.chain_id, job.contract.lower()):
        raise MovieMinterError(
            f"this job is for chain {job.chain_id} contract {job.contract}, but the app is now set to "
            f"chain {chain_id} contract {contract}",
            hint="switch the Movie Minter settings back to that chain and contract, then retry the job",
        )


def settle_if_minted(ctx, job) -> Goto | None:
    minter = segment_minter(ctx, job)
    if minter is None:
        return None
    if minter.lower() == job.wallet.lower():
        return Goto("minted", {"tx_hash": job.saved("tx_hash"), "minter": minter, "found_on_chain": True})
    raise MintConflict(
        f"segment {job.segment} of movie {job.movie_id} was already minted by {minter}",
        hint="each segment is minted once; pick another segment you may mint",
    )


def pinned_digests(job) -> tuple[bytes, bytes]:
    """The pinned video's and metadata's digests (bytes32), as the mint and a take record them."""
    pinned = job.data["pinned"]
    return bytes.fromhex(pinned["content_digest"][2:]), bytes.fromhex(pinned["metadata_digest"][2:])


def prepare_mint(ctx, job) -> dict | Goto:
    """pinned -> awaiting_signature: check the chain (already minted? by whom?),
    then prepare the unsigned mintSegment transaction for the wallet."""
    _check_chain_identity(ctx, job)
    settled = settle_if_minted(ctx, job)
    if settled:
        return settled
    args = [job.movie_id, job.segment, *pinned_digests(job)]
    proof = job.params.get("proof") or job.saved("proof")
    if proof is not None:  # allowlist movies: the wallet's Merkle proof for this segment
        function, args = "mintSegmentWithProof", args + [[bytes.fromhex(p.removeprefix("0x")) for p in proof]]
    else:
        function = "mintSegment"
    job.progress("preparing the mint transaction")
    return {"tx": ctx.chain.build_tx(function, args, job.wallet), "function": function}


def tx_state(ctx, tx_hash: str) -> str:
    """ "mined", "pending" (the node has it, unmined) or "unknown" (never seen, or dropped)."""
    from web3.exceptions import TransactionNotFound  # web3 takes seconds: loaded when a mint runs

    try:
        tx = ctx.chain.w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        return "unknown"
    return "mined" if tx.get("blockNumber") is not None else "pending"


def _replaced(ctx, tx_hash: str) -> bool:
    """A pending transaction whose nonce the wallet has already used in a mined one."""
    tx = ctx.chain.w3.eth.get_transaction(tx_hash)
    return ctx.chain.w3.eth.get_transaction_count(tx["from"], "latest") > tx["nonce"]


def mints_this_segment(ctx, job, receipt) -> bool:
    """The receipt's SegmentMinted names this movie, segment and wallet (from our contract)."""
    for event in ctx.chain.events(receipt):
        args = event["args"]
        if (
            event["event"] == "SegmentMinted"
            and int(args["movieId"]) == job.movie_id
            and int(args["segment"]) == job.segment
            and str(args["minter"]).lower() == job.wallet.lower()
        ):
            return True
    return False


def _forget_tx(job, tx_hash: str, why: str) -> None:
    """Back to awaiting a signature, with the rendered and pinned files kept."""
    job.save("ignored_txs", list(job.saved("ignored_txs", []) or []) + [tx_hash])
    job.save("tx_hash", None)
    job.save("tx_since", None)
    job.progress("awaiting signature", message=why)


def _await_tx_hash(ctx, job, settled) -> str | Goto | None:
    """The transaction's hash: saved before, signed here by the headless signer, or posted by the browser
    (None while the wallet has not sent it; Goto when `settled` finds the work done on chain)."""
    tx_hash = job.saved("tx_hash")
    if tx_hash:
        return tx_hash
    done = settled(ctx, job)
    if done:
        return done
    tx = job.data["awaiting_signature"]["tx"]
    if job.signer is None:
        job.progress("awaiting signature", tx=tx)
        return job.wait_for_tx(timeout=CHAIN_POLL_SECONDS)
    job.check()
    tx_hash = str(job.signer(tx))
    tx_hash = tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash
    job.save("tx_hash", tx_hash)
    return tx_hash


def _after_revert(ctx, job, tx_hash: str, exc: ChainError, settled, what: str) -> Goto:
    """Mined but reverted: done after all (`settled`), else a failure whose retry asks the wallet for a fresh
    transaction."""
    done = settled(ctx, job)
    if done:
        return done
    job.save("reverted", list(job.saved("reverted", []) or []) + [tx_hash])
    job.save("tx_hash", None)
    job.save("tx_since", None)
    raise MovieMinterError(
        f"the transaction {tx_hash} to {what} reverted: {exc.message}",
        hint=exc.hint or "retry the job to sign a new transaction",
    ) from None


def _while_unmined(ctx, job, tx_hash: str, settled, what: str) -> Goto | None:
    """Not mined yet: pending, replaced or dropped? A dropped or replaced one is forgotten."""
    job.check()
    done = settled(ctx, job)
    if done:
        return done
    state = tx_state(ctx, tx_hash)
    silent = time.time() - float(job.saved("tx_since") or time.time())
    if (state == "unknown" and silent > DROPPED_AFTER_SECONDS) or (state == "pending" and _replaced(ctx, tx_hash)):
        _forget_tx(job, tx_hash, f"the transaction {tx_hash} was dropped or replaced; sign it again to {what}")
    return None


def confirm_mint(ctx, job) -> dict | Goto:
    """awaiting_signature -> minted: wait for the wallet's transaction (the
    browser POSTs its hash; headless runs use the runner's signer), then its
    receipt. The mint is confirmed only by a receipt whose SegmentMinted event
    names this movie, segment and wallet, or by the chain's segment state: any
    other hash is ignored. A transaction the node drops (or that the wallet
    replaces) returns the job to awaiting a signature. The chain is checked on
    every (re)entry and while waiting, so nothing is signed twice for a minted
    segment."""

    def minted(receipt, tx_hash: str) -> dict | None:
        if not mints_this_segment(ctx, job, receipt):
            return None
        return {"tx_hash": tx_hash, "block": int(receipt["blockNumber"]), "minter": job.wallet}

    return confirm_tx(ctx, job, ctx.chain, settle_if_minted, minted, f"mint segment {job.segment}")


def confirm_tx(ctx, job, client, settled, confirmed, what: str) -> dict | Goto:
    """The wallet's transaction to `what`, confirmed: `settled(ctx, job)` finds the work done on chain (a Goto;
    asked on every entry and while waiting), `confirmed(receipt, tx_hash)` reads the step's result from this job's
    receipt (None: the transaction did something else, so it is ignored and the wallet asked again)."""
    from movieminter.chain.client import ChainError, ChainTimeout  # web3 takes seconds: loaded when a mint runs

    while True:
        tx_hash = _await_tx_hash(ctx, job, settled)
        if isinstance(tx_hash, Goto):
            return tx_hash
        if not tx_hash:
            continue
        if not job.saved("tx_since"):
            job.save("tx_since", time.time())
        job.progress("confirming", tx_hash=tx_hash)
        try:
            receipt = client.wait(tx_hash, timeout=CHAIN_POLL_SECONDS)
        except ChainError as exc:  # mined, but reverted
            return _after_revert(ctx, job, tx_hash, exc, settled, what)
        except ChainTimeout:  # not mined yet: pending, replaced or dropped?
            done = _while_unmined(ctx, job, tx_hash, settled, what)
            if done:
                return done
            continue
        result = confirmed(receipt, tx_hash)
        if result is not None:
            return result
        done = settled(ctx, job)
        if done:
            return done
        _forget_tx(job, tx_hash, f"transaction {tx_hash} did not {what}; sign it in your wallet")
