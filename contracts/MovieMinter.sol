// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {SwapOrNot} from "./SwapOrNot.sol";
import {CidV1} from "./CidV1.sol";

/// @notice What MovieMinter asks its linked Community contract (contracts/Community.sol).
interface ICommunityHooks {
    /// @notice Whether the segment token's pool share may be paid: approval not required, or approved.
    function segmentApproved(uint256 tokenId) external view returns (bool);
    /// @notice Whether `account` minting these digests is the winning take of takes ballot `ballotId`.
    function isWinningTake(uint256 ballotId, address account, bytes32 contentDigest, bytes32 metadataDigest)
        external
        view
        returns (bool);
}

/// @title Movie Minter
/// @notice One contract holds many crowd-made movies. Each movie is cut into segments; the right to mint a
/// segment comes from an open claim, an allowlist (OpenZeppelin StandardMerkleTree) or a verifiable lottery.
/// A segment token records the sha256 digest of its NFT metadata's IPFS CID (the video's digest is in the
/// `SegmentMinted` event and inside the metadata). Viewers buy tickets; each ticket's price is split between the
/// creator, the director and the segments' minters pool.
/// @dev Token id = movieId << 32 | segment. Ticket revenue is accounted per unit sold (price is fixed per
/// movie), so buying a ticket writes one counter whatever the segment count; shares are computed when they
/// are collected or claimed. Rounding dust of every ticket/entry goes to the director: no wei is ever lost.
/// A token minted by its lottery winner stores no owner: {_ownerOf} recomputes the winner from the recorded draw
/// until the token's first transfer writes the owner slot (OpenZeppelin's `_increaseBalance` pattern).
/// Once the deployer links a Community contract ({setCommunity}), a segment's pool share is paid only when the
/// Community approves the segment, a rejected segment is burnt and reopens, and a segment put to a takes ballot
/// is minted only by its winning take's author with the take's digests.
contract MovieMinter is ERC721, ERC2981, ReentrancyGuardTransient {
    using BitMaps for BitMaps.BitMap;

    // ------------------------------------------------------------------ types

    /// @notice How the right to mint a segment is decided.
    enum MintMode {
        Open, // claim(movie, seg) reserves a segment for `claimWindow` seconds; an expired claim reopens it
        Allowlist, // leaves (address minter, uint256 segment) under a StandardMerkleTree root, for `claimWindow`
        Lottery // entrants drawn by a keyed permutation; winners hold their segment for `claimWindow`
    }

    /// @notice A segment's state, as returned by {segments}.
    enum SegmentStatus {
        Pending, // lottery draw not readable yet: nobody may mint
        Open, // anyone may claim or mint it
        Claimed, // reserved by `account` (claim()) until `deadline`
        Won, // reserved for lottery winner `account` until `deadline`
        Allowlisted, // reserved for the allowlist until `deadline`
        Minted // minted by `account`
    }

    /// @notice Parameters of {createMovie}.
    struct MovieConfig {
        bytes32 manifestDigest; // sha256 digest of the manifest's CID
        uint32 segmentCount;
        address creator;
        address director;
        MintMode mintMode;
        uint40 entryDeadline; // lottery only: last second entries are accepted (0 for other modes)
        uint32 claimWindow; // seconds a claim / a win / the allowlist reserves a segment
        uint128 ticketPrice; // wei; 0 = free to watch, no tickets sold
        uint72 entryFee; // lottery only: wei per entry (0 = free)
        uint16 creatorBps;
        uint16 directorBps;
        uint16 mintersBps; // creatorBps + directorBps + mintersBps == 10_000
        uint16 royaltyBps; // ERC-2981 royalty on segment resales, paid to the creator
        bytes32 allowlistRoot; // allowlist only: StandardMerkleTree root of (address, uint256) leaves
        uint8 maxClaims; // live claims one address may hold in this movie at once (1..MAX_CLAIMS)
    }

    /// @dev Storage layout packed by access pattern: slot 0 is all that enter() and the mint checks read.
    struct Movie {
        // slot 0
        MintMode mode;
        uint32 segmentCount;
        uint32 claimWindow;
        uint40 windowStart; // when reservations (win / allowlist) start: draw record time or creation time
        uint32 entrantCount;
        uint40 entryDeadline;
        uint72 entryFee;
        // slot 1
        address director;
        uint40 commitBlock; // lottery: block B whose hash seeds the draw (0 = entries not closed)
        uint16 creatorBps;
        uint16 directorBps;
        uint16 royaltyBps;
        uint8 maxClaims;
        // slot 2 (buyTicket touches only this slot and the buyer's ticket bit)
        uint128 ticketPrice;
        uint48 ticketsSold;
        uint48 collectedTickets; // tickets whose creator/director shares were credited
        uint32 collectedEntries;
        // slot 3
        address creator;
        uint40 createdAt;
        uint40 createdBlock;
        uint16 drawRound; // the recorded seed came from block commitBlock + drawRound * REDRAW_INTERVAL
        // slots 4..6
        bytes32 manifestDigest;
        bytes32 allowlistRoot;
        bytes32 seed; // lottery seed, 0 until recorded
    }

    /// @notice Everything about a movie, as returned by {movie}.
    struct MovieInfo {
        bytes32 manifestDigest;
        uint256 segmentCount;
        address creator;
        address director;
        MintMode mintMode;
        uint256 entryDeadline;
        uint256 claimWindow;
        uint256 ticketPrice;
        uint256 entryFee;
        uint256 creatorBps;
        uint256 directorBps;
        uint256 mintersBps;
        uint256 royaltyBps;
        bytes32 allowlistRoot;
        uint256 createdAt;
        uint256 entrantCount;
        uint256 commitBlock; // B, fixed by closeEntries (0 before)
        bytes32 seed; // the recorded seed, or the one blockhash(drawBlock) gives now (0 while not readable)
        uint256 windowStart;
        uint256 claimDeadline; // end of the win / allowlist reservations (0 before the draw; see {movie})
        uint256 ticketsSold;
        uint256 revenuePerSegment; // accrued minters' pool share of every segment so far
        uint256 maxClaims;
        uint256 createdBlock;
        uint256 drawBlock; // the block whose hash seeds the draw: recorded, readable now, or the next candidate
        bool seedRecorded;
    }

    /// @notice One segment, as returned by {segments}. The video's digest is in the `SegmentMinted` event.
    struct SegmentInfo {
        SegmentStatus status;
        address account; // claimer, lottery winner or minter (see status)
        uint256 deadline; // end of the claim / win / allowlist reservation (0 when none)
        bytes32 metadataDigest; // minted segments only
    }

    /// @dev A claim or an explicit minter record.
    struct Record {
        address account;
        uint40 expiresAt;
        bool minted; // account is the minter (stored unless the minter is the lottery winner)
    }

    // -------------------------------------------------------------- constants

    /// @notice Rounds of the swap-or-not shuffle (see docs/contract.md for the bias bound).
    uint256 public constant SHUFFLE_ROUNDS = SwapOrNot.ROUNDS;
    /// @notice closeEntries() commits to the hash of the block this many blocks ahead.
    uint256 public constant COMMIT_DELAY = 4;
    /// @notice If nobody records the seed while block C's hash is readable, the draw uses block C + REDRAW_INTERVAL.
    /// The blocks B, B + 8192, B + 2·8192, ... are fixed when the entries close; 8192 > HISTORY_WINDOW, so a
    /// block's hash exists only once the previous candidate's can no longer be read: nobody ever chooses between
    /// two known outcomes.
    uint256 public constant REDRAW_INTERVAL = 8192;
    /// @dev EIP-2935: the history contract serves the last 8191 block hashes (blockhash() only 256).
    uint256 private constant HISTORY_WINDOW = 8191;
    address private constant HISTORY_CONTRACT = 0x0000F90827F1C53a10cb7A02335B175320002935;
    /// @notice The largest `maxClaims` a movie may set.
    uint256 public constant MAX_CLAIMS = 8;
    uint256 private constant BPS = 10_000;
    uint256 private constant SEGMENT_BITS = 32;
    /// @dev A metadata digest slot below this holds a state, not a digest: 0 nothing, 1 prepared (or reopened),
    /// b + 1 reserved for takes ballot b. Minted digests (sha256) are never this small.
    uint256 private constant MINTED_MIN = 1 << 64;

    // ---------------------------------------------------------------- storage

    uint256 public movieCount;
    mapping(uint256 movieId => Movie) private _movies;
    mapping(uint256 movieId => mapping(uint256 index => address)) private _entrants;
    // Per-account bitmaps of movies (OpenZeppelin BitMaps), bit _bitIndex(account, movieId): 256 movies of one
    // account per word, so a returning viewer or entrant writes a used slot.
    BitMaps.BitMap private _entered;
    BitMaps.BitMap private _tickets;
    mapping(uint256 tokenId => Record) private _records;
    mapping(uint256 tokenId => bytes32) private _metadataDigests; // see MINTED_MIN
    mapping(uint256 tokenId => uint256) private _segmentClaimed; // pool revenue already paid to holders
    mapping(address account => uint256) private _credits; // pull payments, see withdraw()
    /// @dev Up to MAX_CLAIMS segments (segment + 1, 32 bits each) an account claimed in a movie; see _takeClaimSlot.
    mapping(uint256 movieId => mapping(address account => uint256)) private _claimSlots;
    /// @notice The linked Community contract (0 until the deployer links one).
    address public community;
    address private immutable _deployer;

    // ----------------------------------------------------------------- events

    event MovieCreated(
        uint256 indexed movieId,
        address indexed creator,
        address indexed director,
        bytes32 manifestDigest,
        MintMode mintMode,
        uint256 segmentCount
    );
    event Entered(uint256 indexed movieId, address indexed entrant, uint256 index);
    event EntriesClosed(uint256 indexed movieId, uint256 commitBlock, uint256 entrantCount);
    /// @notice The seed was recorded from block `commitBlock`'s hash (B, or a later fallback block).
    event Drawn(
        uint256 indexed movieId, uint256 commitBlock, bytes32 blockHash, bytes32 seed, uint256 claimDeadline
    );
    event SegmentClaimed(uint256 indexed movieId, uint256 indexed segment, address indexed claimer, uint256 expiresAt);
    event SegmentMinted(
        uint256 indexed movieId,
        uint256 indexed segment,
        address indexed minter,
        bytes32 contentDigest,
        bytes32 metadataDigest
    );
    event SegmentsPrepared(uint256 indexed movieId, uint256 from, uint256 count);
    event TicketBought(uint256 indexed movieId, address indexed buyer);
    event RevenueCollected(uint256 indexed movieId, uint256 creatorAmount, uint256 directorAmount);
    event SegmentRevenueClaimed(uint256 indexed tokenId, address indexed holder, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    // ----------------------------------------------------------------- errors

    error UnknownMovie(uint256 movieId);
    error InvalidSegment(uint256 movieId, uint256 segment, uint256 segmentCount);
    error InvalidSegmentCount(uint256 segmentCount);
    error ZeroAddress();
    error InvalidShares(uint256 creatorBps, uint256 directorBps, uint256 mintersBps);
    error InvalidRoyalty(uint256 royaltyBps);
    error InvalidClaimWindow();
    error InvalidMaxClaims(uint256 maxClaims);
    error InvalidEntryDeadline(uint256 entryDeadline, uint256 nowTimestamp);
    error InvalidAllowlistRoot();
    error InvalidDigest();
    error WrongMintMode(uint256 movieId, MintMode expected, MintMode actual);
    error EntriesClosedAlready(uint256 movieId, uint256 entryDeadline);
    error EntriesStillOpen(uint256 movieId, uint256 entryDeadline);
    error AlreadyEntered(uint256 movieId, address account);
    error WrongPayment(uint256 expected, uint256 sent);
    error EntriesNotClosed(uint256 movieId);
    error DrawTooEarly(uint256 movieId, uint256 commitBlock, uint256 currentBlock);
    error DrawBlockExpired(uint256 movieId, uint256 expiredBlock, uint256 nextBlock);
    error AlreadyDrawn(uint256 movieId);
    error LotteryNotDrawn(uint256 movieId);
    error SegmentReserved(uint256 movieId, uint256 segment, address holder, uint256 until);
    error TooManyClaims(uint256 movieId, address account, uint256 maxClaims);
    error ClaimCooldown(uint256 movieId, uint256 segment, address account, uint256 until);
    error AlreadyMinted(uint256 movieId, uint256 segment);
    error NotAllowed(uint256 movieId, uint256 segment, address account);
    error TicketsNotForSale(uint256 movieId);
    error AlreadyHasTicket(uint256 movieId, address account);
    error NotSegmentHolder(uint256 tokenId, address account);
    error NothingToWithdraw(address account);
    error WithdrawFailed(address account, uint256 amount);
    error NotCommunity(address account);
    error SegmentNotApproved(uint256 tokenId);

    constructor() ERC721("Movie Minter Segment", "MMSEG") {
        _deployer = msg.sender;
    }

    // ----------------------------------------------------------- community

    /// @notice Links the Community contract, once, by the deployer of this contract.
    function setCommunity(address community_) external {
        if (msg.sender != _deployer || community != address(0) || community_ == address(0)) {
            revert NotCommunity(msg.sender);
        }
        community = community_;
    }

    /// @notice Community only: reserves an unminted segment for takes ballot `ballotId` (only its winning take
    /// may mint it), or, with ballotId 0, opens it again.
    function lockSegment(uint256 tokenId, uint256 ballotId) external {
        if (msg.sender != community) revert NotCommunity(msg.sender);
        uint256 state = uint256(_metadataDigests[tokenId]);
        if (state >= MINTED_MIN) revert AlreadyMinted(tokenId >> SEGMENT_BITS, uint32(tokenId));
        // One takes ballot at a time per segment.
        if (ballotId != 0 && state > 1) revert SegmentReserved(tokenId >> SEGMENT_BITS, uint32(tokenId), msg.sender, 0);
        _metadataDigests[tokenId] = bytes32(ballotId + 1);
    }

    /// @notice Community only: the director rejected the segment: its token is burnt and the segment is open
    /// again. Its pool share (accrued and future) stays with the segment for the next minter, paid once approved.
    function reopenSegment(uint256 tokenId) external {
        if (msg.sender != community) revert NotCommunity(msg.sender);
        _burn(tokenId); // reverts for an unminted token
        _metadataDigests[tokenId] = bytes32(uint256(1));
        delete _records[tokenId];
    }

    // ----------------------------------------------------------- movies

    /// @notice Publishes a movie. Anyone may call; the named creator and director receive its revenue.
    /// @return movieId The new movie's id (1, 2, ...).
    function createMovie(MovieConfig calldata c) external returns (uint256 movieId) {
        if (c.segmentCount == 0) revert InvalidSegmentCount(0);
        if (c.creator == address(0) || c.director == address(0)) revert ZeroAddress();
        if (uint256(c.creatorBps) + c.directorBps + c.mintersBps != BPS) {
            revert InvalidShares(c.creatorBps, c.directorBps, c.mintersBps);
        }
        if (c.royaltyBps > BPS) revert InvalidRoyalty(c.royaltyBps);
        if (c.claimWindow == 0) revert InvalidClaimWindow();
        if (c.maxClaims == 0 || c.maxClaims > MAX_CLAIMS) revert InvalidMaxClaims(c.maxClaims);
        if (c.manifestDigest == bytes32(0)) revert InvalidDigest();
        if (c.mintMode == MintMode.Lottery) {
            if (c.entryDeadline <= block.timestamp) revert InvalidEntryDeadline(c.entryDeadline, block.timestamp);
        } else if (c.entryDeadline != 0 || c.entryFee != 0) {
            revert InvalidEntryDeadline(c.entryDeadline, block.timestamp); // entries exist only in lotteries
        }
        if ((c.mintMode == MintMode.Allowlist) != (c.allowlistRoot != bytes32(0))) revert InvalidAllowlistRoot();

        movieId = ++movieCount;
        Movie storage m = _movies[movieId];
        m.mode = c.mintMode;
        m.segmentCount = c.segmentCount;
        m.claimWindow = c.claimWindow;
        m.entryDeadline = c.entryDeadline;
        m.entryFee = c.entryFee;
        // Allowlist reservations run from creation; lottery ones from the recorded draw.
        if (c.mintMode == MintMode.Allowlist) m.windowStart = uint40(block.timestamp);
        m.director = c.director;
        m.creatorBps = c.creatorBps;
        m.directorBps = c.directorBps;
        m.royaltyBps = c.royaltyBps;
        m.maxClaims = c.maxClaims;
        m.ticketPrice = c.ticketPrice;
        m.creator = c.creator;
        m.createdAt = uint40(block.timestamp);
        m.createdBlock = uint40(block.number);
        m.manifestDigest = c.manifestDigest;
        m.allowlistRoot = c.allowlistRoot;
        emit MovieCreated(movieId, c.creator, c.director, c.manifestDigest, c.mintMode, c.segmentCount);
    }

    // ---------------------------------------------------------- lottery

    /// @notice Enters the caller into a lottery movie's draw (one entry per address) until the entry deadline.
    function enter(uint256 movieId) external payable {
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        if (m.mode != MintMode.Lottery) revert WrongMintMode(movieId, MintMode.Lottery, m.mode);
        if (block.timestamp > m.entryDeadline) revert EntriesClosedAlready(movieId, m.entryDeadline);
        if (msg.value != m.entryFee) revert WrongPayment(m.entryFee, msg.value);
        // BitMaps.get then BitMaps.set would read the word twice and cost a jump each (+70 gas): one read here.
        uint256 bucket = _bitIndex(msg.sender, movieId) >> 8;
        uint256 mask = 1 << (movieId & 0xff);
        uint256 word = _entered._data[bucket];
        if (word & mask != 0) revert AlreadyEntered(movieId, msg.sender);
        _entered._data[bucket] = word | mask;
        uint256 index = m.entrantCount;
        _entrants[movieId][index] = msg.sender;
        m.entrantCount = uint32(index + 1);
        emit Entered(movieId, msg.sender, index);
    }

    /// @notice After the entry deadline, anyone commits the draw to the hash of block B = now + COMMIT_DELAY.
    function closeEntries(uint256 movieId) external {
        Movie storage m = _lottery(movieId);
        if (block.timestamp <= m.entryDeadline) revert EntriesStillOpen(movieId, m.entryDeadline);
        if (m.commitBlock != 0) revert EntriesClosedAlready(movieId, m.entryDeadline);
        uint256 commitBlock = block.number + COMMIT_DELAY;
        m.commitBlock = uint40(commitBlock);
        emit EntriesClosed(movieId, commitBlock, m.entrantCount);
    }

    /// @notice Records the seed: keccak256(blockhash(B), movieId) once block B exists. The winners are already
    /// visible in the views without it; recording fixes them for good and starts the claim window. Anyone may
    /// call (so do `claim` and `mintSegment` in a lottery movie): the result is the same whoever and whenever.
    /// If nobody records it while B's hash is readable (256 blocks, 8191 with EIP-2935), the draw falls to block
    /// B + REDRAW_INTERVAL, then B + 2·REDRAW_INTERVAL, ...: blocks fixed at close, not chosen by anyone.
    /// @return seed The recorded seed.
    function draw(uint256 movieId) external returns (bytes32 seed) {
        Movie storage m = _lottery(movieId);
        uint256 commitBlock = m.commitBlock;
        if (commitBlock == 0) revert EntriesNotClosed(movieId);
        if (m.seed != bytes32(0)) revert AlreadyDrawn(movieId);
        if (block.number <= commitBlock) revert DrawTooEarly(movieId, commitBlock, block.number);
        seed = _recordSeed(movieId, m);
        if (seed == bytes32(0)) {
            (, uint256 expired,) = _drawCandidate(m);
            revert DrawBlockExpired(movieId, expired, expired + REDRAW_INTERVAL);
        }
    }

    /// @notice The seed a committed block hash gives a movie's draw.
    function lotterySeed(bytes32 blockHash, uint256 movieId) public pure returns (bytes32) {
        return keccak256(abi.encode(blockHash, movieId));
    }

    /// @notice The lottery winner of a segment: entrant number permute(segment) if segment < entrantCount;
    /// address(0) while the draw is not readable and for segments beyond the entrant count (they are open from
    /// the draw). Reported as soon as the draw block's hash exists, before anyone records the seed.
    function winnerOf(uint256 movieId, uint256 segment) public view returns (address) {
        Movie storage m = _movies[movieId];
        _checkSegment(movieId, m, segment);
        return _winner(movieId, _seedNow(movieId, m), m.entrantCount, segment);
    }

    /// @notice {winnerOf} for segments [from, from+count) (count clipped to the segment count), in one call.
    function winnersOf(uint256 movieId, uint256 from, uint256 count) external view returns (address[] memory out) {
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        uint256 total = m.segmentCount;
        if (from >= total) return new address[](0);
        if (count > total - from) count = total - from;
        out = new address[](count);
        bytes32 seed = _seedNow(movieId, m);
        uint256 n = m.entrantCount;
        for (uint256 i; i < count; ++i) {
            out[i] = _winner(movieId, seed, n, from + i);
        }
    }

    /// @notice Positions [from, from+count) of the keyed permutation of 0..n-1 (for verifiers and tests).
    function permutation(bytes32 seed, uint256 n, uint256 from, uint256 count)
        external
        pure
        returns (uint256[] memory out)
    {
        out = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            out[i] = SwapOrNot.permute(seed, from + i, n);
        }
    }

    /// @notice Entrants [from, from+count) in entry order (count is clipped to the entrant count).
    function entrants(uint256 movieId, uint256 from, uint256 count) external view returns (address[] memory out) {
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        uint256 total = m.entrantCount;
        if (from >= total) return new address[](0);
        if (count > total - from) count = total - from;
        out = new address[](count);
        for (uint256 i; i < count; ++i) {
            out[i] = _entrants[movieId][from + i];
        }
    }

    /// @notice Whether `account` entered the movie's lottery.
    function hasEntered(uint256 movieId, address account) external view returns (bool) {
        if (movieId > movieCount) return false; // _bitIndex is distinct only for ids that exist
        return _entered.get(_bitIndex(account, movieId));
    }

    // ------------------------------------------------------------ minting

    /// @notice Reserves an open segment for the caller for the movie's claim window (so that no two GPUs
    /// render the same segment). Works in every mode once the segment is open. One address holds at most
    /// `maxClaims` live claims per movie, and may not claim a segment again within one claim window after its
    /// own claim on it expired unminted. In a lottery movie it records the seed first if nobody has.
    function claim(uint256 movieId, uint256 segment) external {
        Movie storage m = _movies[movieId];
        _checkSegment(movieId, m, segment);
        uint256 tokenId = _tokenId(movieId, segment);
        uint256 state = uint256(_metadataDigests[tokenId]);
        if (state >= MINTED_MIN) revert AlreadyMinted(movieId, segment);
        if (state > 1) revert SegmentReserved(movieId, segment, community, 0); // a takes ballot decides
        bytes32 seed = m.mode == MintMode.Lottery ? _seedForAction(movieId, m) : bytes32(0);
        uint256 claimWindow = m.claimWindow;
        uint256 deadline = uint256(m.windowStart) + claimWindow;
        if (m.mode == MintMode.Lottery) {
            address winner = _winner(movieId, seed, m.entrantCount, segment);
            if (winner != address(0) && block.timestamp < deadline) {
                revert SegmentReserved(movieId, segment, winner, deadline);
            }
        } else if (m.mode == MintMode.Allowlist && block.timestamp < deadline) {
            revert SegmentReserved(movieId, segment, address(0), deadline);
        }
        Record memory r = _records[tokenId];
        if (block.timestamp < r.expiresAt) revert SegmentReserved(movieId, segment, r.account, r.expiresAt);
        if (r.account == msg.sender && block.timestamp < uint256(r.expiresAt) + claimWindow) {
            revert ClaimCooldown(movieId, segment, msg.sender, uint256(r.expiresAt) + claimWindow);
        }
        _takeClaimSlot(movieId, m.maxClaims, segment);
        uint256 expiresAt = block.timestamp + claimWindow;
        _records[tokenId] = Record(msg.sender, uint40(expiresAt), false);
        emit SegmentClaimed(movieId, segment, msg.sender, expiresAt);
    }

    /// @notice Mints a segment to the caller, recording the sha256 digest of its metadata's CID (the video's
    /// digest goes into the `SegmentMinted` event; the metadata names the video too). The caller must hold the
    /// segment's reservation (claim or lottery win), or the segment must be open. Allowlisted reservations need
    /// {mintSegmentWithProof}. In a lottery movie it records the seed first if nobody has.
    function mintSegment(uint256 movieId, uint256 segment, bytes32 contentDigest, bytes32 metadataDigest)
        external
        returns (uint256 tokenId)
    {
        return _mintSegment(movieId, segment, contentDigest, metadataDigest, new bytes32[](0));
    }

    /// @notice {mintSegment} for an allowlist movie: `proof` shows the leaf (caller, segment) is under the root.
    function mintSegmentWithProof(
        uint256 movieId,
        uint256 segment,
        bytes32 contentDigest,
        bytes32 metadataDigest,
        bytes32[] calldata proof
    ) external returns (uint256 tokenId) {
        return _mintSegment(movieId, segment, contentDigest, metadataDigest, proof);
    }

    function _mintSegment(
        uint256 movieId,
        uint256 segment,
        bytes32 contentDigest,
        bytes32 metadataDigest,
        bytes32[] memory proof
    ) private returns (uint256 tokenId) {
        // Small values mark states (see MINTED_MIN): never a minted digest.
        if (contentDigest == bytes32(0) || uint256(metadataDigest) < MINTED_MIN) revert InvalidDigest();
        Movie storage m = _movies[movieId];
        _checkSegment(movieId, m, segment);
        tokenId = _tokenId(movieId, segment);
        uint256 state = uint256(_metadataDigests[tokenId]);
        if (state >= MINTED_MIN) revert AlreadyMinted(movieId, segment);

        MintMode mode = m.mode;
        if (state > 1) {
            // A takes ballot decides the segment (over any reservation): its winning take, by its author.
            if (!ICommunityHooks(community).isWinningTake(state - 1, msg.sender, contentDigest, metadataDigest)) {
                revert NotAllowed(movieId, segment, msg.sender);
            }
        } else if (mode == MintMode.Lottery) {
            address winner = _winner(movieId, _seedForAction(movieId, m), m.entrantCount, segment);
            if (winner != address(0) && block.timestamp < uint256(m.windowStart) + m.claimWindow) {
                if (winner != msg.sender) revert NotAllowed(movieId, segment, msg.sender);
                // The winner's own token: no owner slot and no minter record are written. _ownerOf recomputes
                // the winner from the recorded draw until the first transfer writes the owner slot.
                _metadataDigests[tokenId] = metadataDigest;
                _increaseBalance(msg.sender, 1);
                emit Transfer(address(0), msg.sender, tokenId);
                emit SegmentMinted(movieId, segment, msg.sender, contentDigest, metadataDigest);
                return tokenId;
            }
            _checkClaimNotOthers(movieId, segment, tokenId);
        } else if (mode == MintMode.Allowlist && block.timestamp < uint256(m.windowStart) + m.claimWindow) {
            bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(msg.sender, segment))));
            if (!MerkleProof.verify(proof, m.allowlistRoot, leaf)) revert NotAllowed(movieId, segment, msg.sender);
        } else {
            _checkClaimNotOthers(movieId, segment, tokenId);
        }

        _records[tokenId] = Record(msg.sender, 0, true);
        // _mint, not _safeMint: the token goes to the caller itself, and no callback can re-enter here. It runs
        // before the digest is written, so that _ownerOf sees an unminted token while _mint checks it.
        _mint(msg.sender, tokenId);
        _metadataDigests[tokenId] = metadataDigest;
        emit SegmentMinted(movieId, segment, msg.sender, contentDigest, metadataDigest);
    }

    /// @notice Optional: pre-pays the storage of segments [from, from+count) so that minting them costs each
    /// minter 17,100 gas less (their digest slot is already non-zero). Anyone may pay for it, typically the
    /// director; it shifts cost from the minters to the caller (~22,500 gas per segment) and changes nothing
    /// else. Minted and already prepared segments are skipped.
    function prepareSegments(uint256 movieId, uint256 from, uint256 count) external {
        Movie storage m = _movies[movieId];
        uint256 total = m.segmentCount;
        if (total == 0) revert UnknownMovie(movieId);
        if (from >= total || count > total - from) revert InvalidSegment(movieId, from + count, total);
        for (uint256 seg = from; seg < from + count; ++seg) {
            uint256 tokenId = _tokenId(movieId, seg);
            // Placeholder 1: never read as a digest, since views show digests of minted segments only.
            if (_metadataDigests[tokenId] == bytes32(0)) _metadataDigests[tokenId] = bytes32(uint256(1));
        }
        emit SegmentsPrepared(movieId, from, count);
    }

    /// @notice `ipfs://` + the CIDv1 (dag-pb, sha2-256, base32) of the segment's metadata digest.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return string.concat("ipfs://", CidV1.fromSha256(_metadataDigests[tokenId]));
    }

    /// @notice The token id of a movie's segment.
    function tokenIdOf(uint256 movieId, uint256 segment) external pure returns (uint256) {
        return _tokenId(movieId, segment);
    }

    // ----------------------------------------------------------- tickets

    /// @notice Buys the caller a ticket to watch the movie, for exactly its ticket price. Constant gas: the
    /// revenue is accounted per ticket sold, not per segment.
    function buyTicket(uint256 movieId) external payable {
        Movie storage m = _movies[movieId];
        uint256 price = m.ticketPrice;
        if (price == 0) {
            if (m.segmentCount == 0) revert UnknownMovie(movieId);
            revert TicketsNotForSale(movieId);
        }
        if (msg.value != price) revert WrongPayment(price, msg.value);
        // One read of the BitMap's word (see enter).
        uint256 bucket = _bitIndex(msg.sender, movieId) >> 8;
        uint256 mask = 1 << (movieId & 0xff);
        uint256 word = _tickets._data[bucket];
        if (word & mask != 0) revert AlreadyHasTicket(movieId, msg.sender);
        _tickets._data[bucket] = word | mask;
        unchecked {
            ++m.ticketsSold; // < 2^48: one ticket per address and movie
        }
        emit TicketBought(movieId, msg.sender);
    }

    /// @notice Whether `account` may watch the movie (has a ticket, or the movie is free).
    function hasTicket(uint256 movieId, address account) external view returns (bool) {
        // The bit first (only a bought ticket sets it; the index is distinct for ids below 2^96): one read for a
        // ticket holder, which keeps Community's ticket votes cheap.
        if (movieId >> 96 == 0 && _tickets.get(_bitIndex(account, movieId))) return true;
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        return m.ticketPrice == 0;
    }

    // ----------------------------------------------------------- revenue

    /// @notice Credits the creator's and the director's shares of all tickets and entries sold since the last
    /// collection to their withdrawable balance. Anyone may call.
    function collect(uint256 movieId) external {
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        (uint256 toCreator, uint256 toDirector) = _collectable(m);
        m.collectedTickets = m.ticketsSold;
        m.collectedEntries = m.entrantCount;
        _credits[m.creator] += toCreator;
        _credits[m.director] += toDirector;
        emit RevenueCollected(movieId, toCreator, toDirector);
    }

    /// @notice Credits each segment token's accrued share of its movie's minters pool to the caller, who must
    /// hold every token. Unclaimed revenue travels with the token when it is transferred.
    function claimSegmentRevenue(uint256[] calldata tokenIds) external returns (uint256 total) {
        address hooks = community;
        for (uint256 i; i < tokenIds.length; ++i) {
            uint256 tokenId = tokenIds[i];
            if (_ownerOf(tokenId) != msg.sender) revert NotSegmentHolder(tokenId, msg.sender);
            // Held back until the Community approves the segment; it keeps accruing meanwhile.
            if (hooks != address(0) && !ICommunityHooks(hooks).segmentApproved(tokenId)) {
                revert SegmentNotApproved(tokenId);
            }
            uint256 accrued = _perSegment(_movies[tokenId >> SEGMENT_BITS]);
            uint256 amount = accrued - _segmentClaimed[tokenId];
            if (amount == 0) continue;
            _segmentClaimed[tokenId] = accrued;
            total += amount;
            emit SegmentRevenueClaimed(tokenId, msg.sender, amount);
        }
        _credits[msg.sender] += total;
    }

    /// @notice Pays the caller's whole credited balance (pull payment).
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert WithdrawFailed(msg.sender, amount);
    }

    /// @notice The caller-withdrawable balance of `account`.
    function credits(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @notice What {collect} would credit now to the creator and the director.
    function collectable(uint256 movieId) external view returns (uint256 toCreator, uint256 toDirector) {
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        return _collectable(m);
    }

    /// @notice What the holder of `tokenId` may claim now. Unminted segments accrue too; their minter claims it.
    function claimableSegmentRevenue(uint256 tokenId) external view returns (uint256) {
        return _perSegment(_movies[tokenId >> SEGMENT_BITS]) - _segmentClaimed[tokenId];
    }

    // -------------------------------------------------------------- views

    /// @notice A movie's configuration and state. For a lottery whose seed is readable but not recorded yet,
    /// `seed` is the seed the draw block's hash gives now and `claimDeadline` the deadline a record made now
    /// would set (`seedRecorded` tells which).
    function movie(uint256 movieId) external view returns (MovieInfo memory info) {
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        info.manifestDigest = m.manifestDigest;
        info.segmentCount = m.segmentCount;
        info.creator = m.creator;
        info.director = m.director;
        info.mintMode = m.mode;
        info.entryDeadline = m.entryDeadline;
        info.claimWindow = m.claimWindow;
        info.ticketPrice = m.ticketPrice;
        info.entryFee = m.entryFee;
        info.creatorBps = m.creatorBps;
        info.directorBps = m.directorBps;
        info.mintersBps = BPS - m.creatorBps - m.directorBps;
        info.royaltyBps = m.royaltyBps;
        info.allowlistRoot = m.allowlistRoot;
        info.createdAt = m.createdAt;
        info.entrantCount = m.entrantCount;
        info.commitBlock = m.commitBlock;
        info.windowStart = m.windowStart;
        info.claimDeadline = _windowEnd(m);
        info.ticketsSold = m.ticketsSold;
        info.revenuePerSegment = _perSegment(m);
        info.maxClaims = m.maxClaims;
        info.createdBlock = m.createdBlock;
        if (m.seed != bytes32(0)) {
            info.seed = m.seed;
            info.seedRecorded = true;
            info.drawBlock = uint256(m.commitBlock) + uint256(m.drawRound) * REDRAW_INTERVAL;
        } else if (m.commitBlock != 0) {
            (, uint256 drawBlock, bytes32 blockHash) = _drawCandidate(m);
            if (blockHash != bytes32(0)) {
                info.seed = lotterySeed(blockHash, movieId);
                info.claimDeadline = block.timestamp + m.claimWindow;
            } else if (block.number > drawBlock) {
                drawBlock += REDRAW_INTERVAL; // this one's hash is gone: the next candidate
            }
            info.drawBlock = drawBlock;
        }
    }

    /// @notice Segments [from, from+count) of a movie (count clipped to the segment count), in one call.
    function segments(uint256 movieId, uint256 from, uint256 count) external view returns (SegmentInfo[] memory out) {
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        uint256 total = m.segmentCount;
        if (from >= total) return new SegmentInfo[](0);
        if (count > total - from) count = total - from;
        out = new SegmentInfo[](count);
        bytes32 seed = _seedNow(movieId, m);
        uint256 deadline = _windowEnd(m);
        if (m.mode == MintMode.Lottery && m.seed == bytes32(0) && seed != bytes32(0)) {
            deadline = block.timestamp + m.claimWindow; // readable, not recorded: the window a record now starts
        }
        for (uint256 i; i < count; ++i) {
            out[i] = _segmentInfo(movieId, m, seed, from + i, deadline);
        }
    }

    function _segmentInfo(uint256 movieId, Movie storage m, bytes32 seed, uint256 segment, uint256 deadline)
        private
        view
        returns (SegmentInfo memory s)
    {
        uint256 tokenId = _tokenId(movieId, segment);
        Record memory r = _records[tokenId];
        bytes32 metadataDigest = _metadataDigests[tokenId];
        if (uint256(metadataDigest) >= MINTED_MIN) {
            s.status = SegmentStatus.Minted;
            s.account = r.minted ? r.account : _winner(movieId, seed, m.entrantCount, segment);
            s.metadataDigest = metadataDigest;
            return s;
        }
        if (m.mode == MintMode.Lottery) {
            if (seed == bytes32(0)) return s; // Pending
            if (block.timestamp < deadline) {
                address winner = _winner(movieId, seed, m.entrantCount, segment);
                if (winner != address(0)) {
                    (s.status, s.account, s.deadline) = (SegmentStatus.Won, winner, deadline);
                    return s;
                }
            }
        } else if (m.mode == MintMode.Allowlist && block.timestamp < deadline) {
            (s.status, s.deadline) = (SegmentStatus.Allowlisted, deadline);
            return s;
        }
        if (r.account != address(0) && block.timestamp < r.expiresAt) {
            (s.status, s.account, s.deadline) = (SegmentStatus.Claimed, r.account, r.expiresAt);
        } else {
            s.status = SegmentStatus.Open;
        }
    }

    /// @notice How many live claims `account` holds in the movie (at most its `maxClaims`).
    function liveClaims(uint256 movieId, address account) external view returns (uint256 count) {
        Movie storage m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        uint256 packed = _claimSlots[movieId][account];
        for (uint256 i; i < m.maxClaims; ++i) {
            uint256 entry = uint32(packed >> (32 * i));
            if (entry != 0 && _isLiveClaim(movieId, entry - 1, account)) ++count;
        }
    }

    /// @notice ERC-2981: the movie's royalty, paid to its creator.
    function royaltyInfo(uint256 tokenId, uint256 salePrice) public view override returns (address, uint256) {
        Movie storage m = _movies[tokenId >> SEGMENT_BITS];
        return (m.creator, salePrice * m.royaltyBps / BPS);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, ERC2981) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ----------------------------------------------------------- internals

    /// @dev ERC-721 ownership: the owner slot, or, for a token its lottery winner minted and never transferred,
    /// the winner recomputed from the recorded draw (the balance was counted with _increaseBalance at the mint).
    /// Non-winner mints go through _mint, which writes the owner slot before the digest marks the token minted.
    function _ownerOf(uint256 tokenId) internal view override returns (address owner) {
        owner = super._ownerOf(tokenId);
        if (owner == address(0) && _isMinted(tokenId)) {
            uint256 movieId = tokenId >> SEGMENT_BITS;
            Movie storage m = _movies[movieId];
            owner = _winner(movieId, m.seed, m.entrantCount, uint32(tokenId));
        }
    }

    /// @dev The BitMaps index of (account, movie): account in the high 160 bits, the movie id in the low 96, so
    /// the bucket (index >> 8, one storage word) is account << 88 | movieId >> 8: 256 movies of one account per
    /// word, one hash per lookup. Distinct for every account and movie id below 2^96 (ids count from 1).
    function _bitIndex(address account, uint256 movieId) private pure returns (uint256) {
        return uint256(uint160(account)) << 96 | movieId;
    }

    function _isMinted(uint256 tokenId) private view returns (bool) {
        return uint256(_metadataDigests[tokenId]) >= MINTED_MIN;
    }

    function _tokenId(uint256 movieId, uint256 segment) private pure returns (uint256) {
        return movieId << SEGMENT_BITS | segment;
    }

    function _lottery(uint256 movieId) private view returns (Movie storage m) {
        m = _movies[movieId];
        if (m.segmentCount == 0) revert UnknownMovie(movieId);
        if (m.mode != MintMode.Lottery) revert WrongMintMode(movieId, MintMode.Lottery, m.mode);
    }

    function _checkSegment(uint256 movieId, Movie storage m, uint256 segment) private view {
        uint256 total = m.segmentCount;
        if (total == 0) revert UnknownMovie(movieId);
        if (segment >= total) revert InvalidSegment(movieId, segment, total);
    }

    function _winner(uint256 movieId, bytes32 seed, uint256 n, uint256 segment) private view returns (address) {
        if (seed == bytes32(0) || segment >= n) return address(0);
        return _entrants[movieId][SwapOrNot.permute(seed, segment, n)];
    }

    /// @dev End of the win / allowlist reservations (0 before a lottery's seed is recorded).
    function _windowEnd(Movie storage m) private view returns (uint256) {
        return m.windowStart == 0 ? 0 : uint256(m.windowStart) + m.claimWindow;
    }

    /// @dev The unrecorded draw's candidate now: round k's block is B + k * REDRAW_INTERVAL, where k is the round
    /// the current block falls in; its hash (0 when not readable: before B exists, or in the gap after its last
    /// readable block). At most one candidate is readable at any block, since REDRAW_INTERVAL > HISTORY_WINDOW.
    function _drawCandidate(Movie storage m)
        private
        view
        returns (uint256 round, uint256 drawBlock, bytes32 blockHash)
    {
        drawBlock = m.commitBlock;
        if (drawBlock == 0 || block.number <= drawBlock) return (0, drawBlock, bytes32(0));
        round = (block.number - 1 - drawBlock) / REDRAW_INTERVAL;
        drawBlock += round * REDRAW_INTERVAL;
        blockHash = blockhash(drawBlock); // the last 256 blocks
        if (blockHash == bytes32(0) && block.number - drawBlock <= HISTORY_WINDOW) {
            // EIP-2935's history contract (Prague): the last 8191 block hashes. Absent on older chains: no code,
            // so the call returns no data and the hash stays unreadable.
            assembly ("memory-safe") {
                mstore(0x00, drawBlock)
                let ok := staticcall(gas(), HISTORY_CONTRACT, 0x00, 0x20, 0x00, 0x20)
                if and(ok, eq(returndatasize(), 0x20)) { blockHash := mload(0x00) }
            }
        }
    }

    /// @dev The recorded seed, or the one the candidate block's hash gives now (0 when there is none).
    function _seedNow(uint256 movieId, Movie storage m) private view returns (bytes32 seed) {
        seed = m.seed;
        if (seed == bytes32(0) && m.commitBlock != 0) {
            (,, bytes32 blockHash) = _drawCandidate(m);
            if (blockHash != bytes32(0)) seed = lotterySeed(blockHash, movieId);
        }
    }

    /// @dev The recorded seed; records it first if nobody has (claim and mint in a lottery movie).
    function _seedForAction(uint256 movieId, Movie storage m) private returns (bytes32 seed) {
        seed = m.seed;
        if (seed == bytes32(0)) {
            seed = _recordSeed(movieId, m);
            if (seed == bytes32(0)) revert LotteryNotDrawn(movieId);
        }
    }

    /// @dev Records the seed from the candidate block if its hash is readable now; returns 0 if not.
    function _recordSeed(uint256 movieId, Movie storage m) private returns (bytes32 seed) {
        (uint256 round, uint256 drawBlock, bytes32 blockHash) = _drawCandidate(m);
        if (blockHash == bytes32(0)) return bytes32(0);
        seed = lotterySeed(blockHash, movieId);
        m.seed = seed;
        m.windowStart = uint40(block.timestamp);
        if (round != 0) m.drawRound = SafeCast.toUint16(round);
        emit Drawn(movieId, drawBlock, blockHash, seed, block.timestamp + m.claimWindow);
    }

    /// @dev Whether `account` holds a live claim on the segment (claims of minted segments are overwritten by
    /// the minter record, whose expiry is 0).
    function _isLiveClaim(uint256 movieId, uint256 segment, address account) private view returns (bool) {
        Record memory r = _records[_tokenId(movieId, segment)];
        return r.account == account && block.timestamp < r.expiresAt;
    }

    /// @dev Takes one of the caller's `limit` claim slots in the movie for `segment`; reverts when every slot
    /// holds a live claim. A slot whose claim expired or was minted (by anyone) is free again; a slot that names
    /// this very segment (necessarily dead: claim() checked the segment is not reserved) is reused first, so a
    /// segment never sits in two slots.
    function _takeClaimSlot(uint256 movieId, uint256 limit, uint256 segment) private {
        uint256 packed = _claimSlots[movieId][msg.sender];
        uint256 free = type(uint256).max;
        for (uint256 i; i < limit; ++i) {
            uint256 entry = uint32(packed >> (32 * i));
            if (entry == segment + 1) {
                free = i;
                break;
            }
            if (free == type(uint256).max && (entry == 0 || !_isLiveClaim(movieId, entry - 1, msg.sender))) free = i;
        }
        if (free == type(uint256).max) revert TooManyClaims(movieId, msg.sender, limit);
        uint256 shift = 32 * free;
        _claimSlots[movieId][msg.sender] = packed & ~(uint256(type(uint32).max) << shift) | (segment + 1) << shift;
    }

    function _checkClaimNotOthers(uint256 movieId, uint256 segment, uint256 tokenId) private view {
        Record memory r = _records[tokenId];
        if (r.account != msg.sender && block.timestamp < r.expiresAt) {
            revert SegmentReserved(movieId, segment, r.account, r.expiresAt);
        }
    }

    /// @dev Per-unit split: creator floor(p*c/BPS), each segment floor(p*minters/BPS/n), director the rest
    /// (its share plus all rounding dust). Linear in units sold, so shares never decrease and sum to p exactly.
    function _splitUnit(Movie storage m, uint256 price)
        private
        view
        returns (uint256 toCreator, uint256 perSegment, uint256 toDirector)
    {
        uint256 n = m.segmentCount;
        toCreator = price * m.creatorBps / BPS;
        perSegment = price * (BPS - m.creatorBps - m.directorBps) / BPS / n;
        toDirector = price - toCreator - perSegment * n;
    }

    function _perSegment(Movie storage m) private view returns (uint256) {
        if (m.segmentCount == 0) return 0;
        (, uint256 ticketSeg,) = _splitUnit(m, m.ticketPrice);
        (, uint256 entrySeg,) = _splitUnit(m, m.entryFee);
        return uint256(m.ticketsSold) * ticketSeg + uint256(m.entrantCount) * entrySeg;
    }

    function _collectable(Movie storage m) private view returns (uint256 toCreator, uint256 toDirector) {
        uint256 tickets = m.ticketsSold - m.collectedTickets;
        uint256 entries = m.entrantCount - m.collectedEntries;
        (uint256 tc,, uint256 td) = _splitUnit(m, m.ticketPrice);
        (uint256 ec,, uint256 ed) = _splitUnit(m, m.entryFee);
        toCreator = tickets * tc + entries * ec;
        toDirector = tickets * td + entries * ed;
    }
}
