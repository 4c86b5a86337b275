// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IMovieMinter {
    function buyTicket(uint256 movieId) external payable;
    function mintSegment(uint256 movieId, uint256 segment, bytes32 contentDigest, bytes32 metadataDigest)
        external
        returns (uint256);
    function claimSegmentRevenue(uint256[] calldata tokenIds) external returns (uint256);
    function withdraw() external returns (uint256);
}

/// @notice Test helper: a segment minter whose receive() tries to re-enter withdraw(). In `swallow` mode it
/// records the failed re-entry and accepts the payment; otherwise it reverts, so the payment fails.
contract MaliciousReceiver {
    IMovieMinter public immutable target;
    bool public swallow;
    uint256 public reentryAttempts;
    bytes public lastReentryError;
    uint256 public received;

    constructor(IMovieMinter target_) {
        target = target_;
    }

    function setSwallow(bool value) external {
        swallow = value;
    }

    function mint(uint256 movieId, uint256 segment, bytes32 content, bytes32 metadata) external returns (uint256) {
        return target.mintSegment(movieId, segment, content, metadata);
    }

    function claimAndWithdraw(uint256[] calldata tokenIds) external {
        target.claimSegmentRevenue(tokenIds);
        target.withdraw();
    }

    receive() external payable {
        reentryAttempts += 1;
        try target.withdraw() {
            // a second payout would land here: the test asserts it never does
        } catch (bytes memory reason) {
            lastReentryError = reason;
            if (!swallow) {
                assembly {
                    revert(add(reason, 32), mload(reason))
                }
            }
        }
        received += msg.value;
    }
}
