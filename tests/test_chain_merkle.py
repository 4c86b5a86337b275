"""movieminter.chain.merkle reproduces OpenZeppelin's StandardMerkleTree byte for byte (vectors generated with
@openzeppelin/merkle-tree 1.0.8, see contracts/test/gen-merkle-vectors.js), and its proofs verify on chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from movieminter.chain.merkle import StandardMerkleTree, allowlist_tree
from movieminter.errors import MovieMinterError

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "contracts" / "test" / "oz-merkle-tree-vectors.json").read_text()
)


def hexes(items):
    return ["0x" + b.hex() for b in items]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"{len(c['values'])}-leaves")
def test_same_root_proofs_and_dump_as_openzeppelin_js(case):
    tree = StandardMerkleTree.of(case["values"], ["address", "uint256"])
    assert "0x" + tree.root.hex() == case["root"]
    assert [hexes(tree.get_proof(i)) for i in range(len(case["values"]))] == case["proofs"]
    assert tree.dump() == case["dump"]
    loaded = StandardMerkleTree.load(case["dump"])
    assert loaded.root == tree.root and loaded.get_proof(0) == tree.get_proof(0)
    for i, value in enumerate(case["values"]):
        assert tree.verify(value, tree.get_proof(i))
        assert tree.get_proof(value) == tree.get_proof(i)


def test_readme_example_root():
    tree = StandardMerkleTree.of(
        [
            ["0x1111111111111111111111111111111111111111", "5000000000000000000"],
            ["0x2222222222222222222222222222222222222222", "2500000000000000000"],
        ],
        ["address", "uint256"],
    )
    assert "0x" + tree.root.hex() == VECTORS["readme"]["root"]


def test_bad_inputs_are_explained():
    with pytest.raises(MovieMinterError):
        StandardMerkleTree.of([], ["address", "uint256"])
    tree = allowlist_tree([("0x1111111111111111111111111111111111111111", 0)])
    with pytest.raises(MovieMinterError, match="not in the tree"):
        tree.get_proof(["0x1111111111111111111111111111111111111111", 1])
    dump = tree.dump()
    dump["tree"][0] = "0x" + "00" * 32
    with pytest.raises(MovieMinterError, match="inconsistent"):
        StandardMerkleTree.load(dump)


def test_every_proof_of_a_large_allowlist_verifies_on_chain(chain_session):
    """OpenZeppelin's MerkleProof (inside the contract) accepts the Python proofs: checked by eth_estimateGas
    of mintSegmentWithProof for a 100-leaf allowlist, one leaf per segment."""
    from movieminter.chain.client import ChainError
    from tests.fixtures_chain import create_movie, digest

    c = chain_session
    snap = c.w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        acc = c.w3.eth.accounts
        entries = [(acc[1 + s % 5], s) for s in range(100)]
        tree = allowlist_tree(entries)
        movie_id = create_movie(c, mint_mode="allowlist", segment_count=100, allowlist_root=tree.root)
        for i in range(0, 100, 7):
            who, seg = entries[i]
            c.build_tx("mintSegmentWithProof", [movie_id, seg, digest("v"), digest("m"), tree.get_proof(i)], who)
            with pytest.raises(ChainError):  # the same proof from another wallet is refused
                c.build_tx("mintSegmentWithProof", [movie_id, seg, digest("v"), digest("m"), tree.get_proof(i)], acc[6])
    finally:
        c.w3.provider.make_request("evm_revert", [snap])
