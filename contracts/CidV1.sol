// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title CIDv1 text of a sha256 digest
/// @notice "b" + base32lower(0x01 0x70 0x12 0x20 || digest): CIDv1, dag-pb, sha2-256, multibase base32,
/// the form `movieminter.ipfs.cid.digest_to_cid` produces.
library CidV1 {
    bytes private constant ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

    function fromSha256(bytes32 digest) internal pure returns (string memory) {
        bytes memory data = abi.encodePacked(bytes4(0x01701220), digest); // 36 bytes = 288 bits -> 58 chars
        bytes memory out = new bytes(59);
        out[0] = "b";
        uint256 buffer;
        uint256 bits;
        uint256 j = 1;
        for (uint256 i; i < data.length; ++i) {
            buffer = (buffer << 8) | uint8(data[i]);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                out[j++] = ALPHABET[(buffer >> bits) & 31];
            }
            buffer &= (1 << bits) - 1;
        }
        if (bits > 0) out[j] = ALPHABET[(buffer << (5 - bits)) & 31];
        return string(out);
    }
}
