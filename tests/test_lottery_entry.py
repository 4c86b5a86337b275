"""The Minter tab's Enter transaction pays the movie's entry fee (enter is payable: WrongPayment otherwise)."""

from __future__ import annotations

from movieminter.app.context import AppContext
from movieminter.app.scenes import prepare_tx
from movieminter.config import Settings
from tests.fixtures_chain import create_movie


def test_enter_carries_the_entry_fee_and_is_accepted(tmp_path, deployed):
    fee = 3 * 10**15
    movie_id = create_movie(deployed, entry_fee=fee)
    ctx = AppContext(
        Settings(data_dir=tmp_path / "data", chain=deployed.rpc_url, contract_address=deployed.contract_address),
        chain_id=deployed.chain_id,
    )
    entrant = deployed.w3.eth.accounts[3]
    tx = prepare_tx(ctx, movie_id, "enter", None, entrant)
    assert int(tx["value"], 16) == fee
    sent = deployed.w3.eth.send_transaction({k: tx[k] for k in ("from", "to", "data", "value", "gas")})
    assert deployed.wait(sent)["status"] == 1
    assert deployed.call("hasEntered", movie_id, entrant) is True
