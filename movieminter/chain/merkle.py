"""OpenZeppelin StandardMerkleTree (the `@openzeppelin/merkle-tree` JS library's format) in Python.

Same leaves, tree layout, roots, proofs and JSON dump as `StandardMerkleTree.of(values, leafEncoding)`:
- leaf = keccak256(bytes.concat(keccak256(abi.encode(...value))))  (double hash: no second-preimage attack)
- leaves sorted by hash (sortLeaves: true, the default), placed at the end of a flat array of 2n-1 nodes in
  reverse order; node i = hashPair(node 2i+1, node 2i+2); hashPair sorts the two hashes before hashing.
- A proof lists sibling hashes from the leaf up, as OpenZeppelin's MerkleProof.verify expects.

MovieMinter allowlists use leafEncoding ["address", "uint256"]: (minter, segment).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from movieminter.errors import MovieMinterError

ALLOWLIST_ENCODING = ["address", "uint256"]


def leaf_hash(value: Sequence[Any], encoding: Sequence[str]) -> bytes:
    return keccak(keccak(abi_encode(list(encoding), [_normalise(t, v) for t, v in zip(encoding, value, strict=False)])))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(b"".join(sorted([a, b])))


def _normalise(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.startswith(("uint", "int")):
        return int(value)
    if abi_type.startswith("bytes") and isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return value


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


class StandardMerkleTree:
    """Build with `StandardMerkleTree.of(values, encoding)`; `.root`, `.get_proof(i_or_value)`, `.dump()`."""

    def __init__(self, tree: list[bytes], values: list[dict], encoding: list[str]):
        self.tree = tree
        self.values = values  # [{"value": [...], "treeIndex": int}] in the caller's order
        self.encoding = list(encoding)

    @classmethod
    def of(cls, values: Sequence[Sequence[Any]], encoding: Sequence[str], *, sort_leaves: bool = True):
        if not values:
            raise MovieMinterError("a Merkle tree needs at least one value", hint="add an allowlist entry")
        hashed = [(leaf_hash(v, encoding), i) for i, v in enumerate(values)]
        if sort_leaves:
            hashed.sort(key=lambda h: h[0])
        leaves = [h for h, _ in hashed]
        size = 2 * len(leaves) - 1
        tree: list[bytes] = [b""] * size
        for i, leaf in enumerate(leaves):
            tree[size - 1 - i] = leaf
        for i in range(size - 1 - len(leaves), -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        tree_index = {value_index: size - 1 - leaf_i for leaf_i, (_, value_index) in enumerate(hashed)}
        entries = [{"value": list(v), "treeIndex": tree_index[i]} for i, v in enumerate(values)]
        return cls(tree, entries, list(encoding))

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def leaf_index(self, value: Sequence[Any]) -> int:
        target = leaf_hash(value, self.encoding)
        for i, entry in enumerate(self.values):
            if self.tree[entry["treeIndex"]] == target:
                return i
        raise MovieMinterError(f"{list(value)} is not in the tree", hint="check the address and the segment")

    def get_proof(self, index_or_value: int | Sequence[Any]) -> list[bytes]:
        index = index_or_value if isinstance(index_or_value, int) else self.leaf_index(index_or_value)
        i = self.values[index]["treeIndex"]
        proof = []
        while i > 0:
            proof.append(self.tree[i + 1 if i % 2 == 1 else i - 1])
            i = (i - 1) // 2
        return proof

    def verify(self, value: Sequence[Any], proof: Sequence[bytes]) -> bool:
        node = leaf_hash(value, self.encoding)
        for sibling in proof:
            node = hash_pair(node, sibling)
        return node == self.root

    def dump(self) -> dict:
        """The JSON the JS library's `tree.dump()` writes (format standard-v1)."""

        def plain(v, t):
            v = _normalise(t, v)
            if isinstance(v, bytes):
                return _hex(v)
            return str(v) if isinstance(v, int) else v

        return {
            "format": "standard-v1",
            "leafEncoding": self.encoding,
            "tree": [_hex(h) for h in self.tree],
            "values": [
                {
                    "value": [plain(v, t) for v, t in zip(e["value"], self.encoding, strict=False)],
                    "treeIndex": e["treeIndex"],
                }
                for e in self.values
            ],
        }

    @classmethod
    def load(cls, data: dict | str) -> StandardMerkleTree:
        data = json.loads(data) if isinstance(data, str) else data
        if data.get("format") != "standard-v1":
            raise MovieMinterError(
                "not a StandardMerkleTree dump (format standard-v1)",
                hint="create it with StandardMerkleTree.of(...).dump()",
            )
        tree = [bytes.fromhex(h.removeprefix("0x")) for h in data["tree"]]
        loaded = cls(tree, [dict(e) for e in data["values"]], data["leafEncoding"])
        for e in loaded.values:  # refuse a dump whose leaves do not match its values
            if tree[e["treeIndex"]] != leaf_hash(e["value"], loaded.encoding):
                raise MovieMinterError("the Merkle tree dump is inconsistent", hint="rebuild it from its values")
        return loaded


def allowlist_tree(entries: Sequence[tuple[str, int]]) -> StandardMerkleTree:
    """The tree of (minter address, segment) pairs a MovieMinter allowlist movie takes as its root."""
    return StandardMerkleTree.of([[a, int(s)] for a, s in entries], ALLOWLIST_ENCODING)
