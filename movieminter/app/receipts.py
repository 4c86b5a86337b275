"""The status of a transaction the browser's wallet sent: pending, success (with the new movie's id for a
createMovie) or reverted (with the contract's error explained). Used by routes_viewer and routes_community."""

from __future__ import annotations

from movieminter.errors import MovieMinterError


def receipt_status(chain, tx_hash: str) -> dict:
    from web3.exceptions import TransactionNotFound

    if not (tx_hash.startswith("0x") and len(tx_hash) == 66):
        raise MovieMinterError(f"{tx_hash!r} is not a transaction hash.")
    try:
        receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return {"status": "pending"}
    out = {"status": "success" if receipt["status"] == 1 else "reverted", "block_number": receipt["blockNumber"]}
    if receipt["status"] != 1:
        try:
            chain.wait(tx_hash)
        except MovieMinterError as exc:
            out["error"], out["hint"] = exc.message, exc.hint
        return out
    for e in chain.events(receipt):
        if e["event"] == "MovieCreated":
            out["movie_id"] = int(e["args"]["movieId"])
    return out
