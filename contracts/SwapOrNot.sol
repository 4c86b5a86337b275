// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Swap-or-not shuffle (Hoang, Morris, Rogaway 2012)
/// @notice A keyed permutation of 0..n-1 evaluated one index at a time in O(ROUNDS), as in Ethereum's
/// `compute_shuffled_index`. Round r: pivot = keccak256(seed, r) mod n; the index is paired with
/// flip = (pivot - index) mod n; both swap or neither, as decided by bit 0 of keccak256(seed, r, max(index, flip)).
/// Each round is an involution on 0..n-1, hence the whole is a bijection. `movieminter/chain/lottery.py` mirrors it.
library SwapOrNot {
    /// @notice Rounds: a single index ends anywhere but its start with probability 1 - 2^-ROUNDS of being
    /// uniform (see docs/contract.md).
    uint256 internal constant ROUNDS = 24;

    /// @notice The image of `index` (< n) under the permutation keyed by `seed`.
    function permute(bytes32 seed, uint256 index, uint256 n) internal pure returns (uint256 result) {
        require(index < n, "SwapOrNot: index out of range");
        assembly ("memory-safe") {
            // Scratch words past the free memory pointer hold (seed, round, position) for hashing.
            let ptr := mload(0x40)
            mstore(ptr, seed)
            result := index
            for { let r := 0 } lt(r, ROUNDS) { r := add(r, 1) } {
                mstore(add(ptr, 0x20), r)
                let flip := mod(sub(add(mod(keccak256(ptr, 0x40), n), n), result), n)
                let position := result
                if gt(flip, result) { position := flip }
                mstore(add(ptr, 0x40), position)
                if and(keccak256(ptr, 0x60), 1) { result := flip }
            }
        }
    }
}
