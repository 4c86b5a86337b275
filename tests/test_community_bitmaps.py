"""MovieMinter's per-account bitmaps (tickets, lottery entries) use OpenZeppelin BitMaps (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils import keccak, to_checksum_address

from movieminter.chain.client import ChainError, load_artifact
from tests.fixtures_chain import create_movie


def test_movieminter_bitmaps_use_openzeppelin_with_the_same_storage_keys(deployed):
    chain, accounts = deployed, deployed.w3.eth.accounts
    art = load_artifact("MovieMinter")
    assert "@openzeppelin/contracts/utils/structs/BitMaps.sol" in art["sourceHashes"]
    movie = create_movie(chain, mint_mode="open")
    viewer = accounts[3]
    chain.transact("buyTicket", [movie], viewer, value=10**15)
    # The bitmap word holds 256 movies of one account: bucket account << 88 | movie >> 8, bit movie & 255. The
    # whole 160-bit address is in the key (an index that dropped address bits would let accounts share tickets).
    slot = _storage_slot("_tickets")
    key = int(viewer, 16) << 88 | movie >> 8
    position = int.from_bytes(keccak(key.to_bytes(32, "big") + slot.to_bytes(32, "big")), "big")
    word = chain.w3.eth.get_storage_at(chain.contract_address, position)
    assert int.from_bytes(word, "big") == 1 << (movie & 255)
    assert chain.call("hasTicket", movie, viewer) is True
    with pytest.raises(ChainError) as info:
        chain.transact("buyTicket", [movie], viewer, value=10**15)
    assert info.value.error == "AlreadyHasTicket"


def test_tickets_and_entries_are_per_whole_address(deployed):
    """Two addresses that differ only in their top byte hold separate tickets and entries."""
    chain, accounts = deployed, deployed.w3.eth.accounts
    w3 = chain.w3
    buyer = accounts[3]
    twin = to_checksum_address("0x" + format(int(buyer, 16) ^ (0xFF << 152), "040x"))
    w3.provider.make_request("anvil_setBalance", [twin, hex(10**18)])
    w3.provider.make_request("anvil_impersonateAccount", [twin])
    lottery = create_movie(chain)
    for movie in (create_movie(chain, mint_mode="open"), lottery):
        chain.transact("buyTicket", [movie], buyer, value=10**15)
        assert chain.call("hasTicket", movie, buyer) and not chain.call("hasTicket", movie, twin)
        chain.transact("buyTicket", [movie], twin, value=10**15)  # its own first ticket
    chain.transact("enter", [lottery], buyer)
    assert chain.call("hasEntered", lottery, buyer) and not chain.call("hasEntered", lottery, twin)
    chain.transact("enter", [lottery], twin)
    assert chain.call("movie", lottery)[15] == 2  # entrantCount


def _storage_slot(name: str) -> int:
    """The storage slot of a MovieMinter state variable, counted from the source's declarations (OZ's ERC721 and
    ERC2981 come first: ERC721 uses 6 slots, ERC2981 2; ReentrancyGuardTransient none)."""
    src = (Path(__file__).resolve().parent.parent / "contracts" / "MovieMinter.sol").read_text()
    body = src.split("// ---------------------------------------------------------------- storage")[1].split("event ")[
        0
    ]
    names = [
        line.split()[-1].rstrip(";")
        for line in body.splitlines()
        if line.strip() and not line.strip().startswith(("//", "///")) and line.strip().endswith(";")
    ]
    return 8 + names.index(name)
