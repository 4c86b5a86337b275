// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {MovieMinter} from "./MovieMinter.sol";

/// @title Movie Minter community: collectives, season passes, takes and votes, director approval, credits
/// @notice A second contract next to MovieMinter (which is at the EIP-170 size limit). It reads movies, tickets
/// and segment tokens from the MovieMinter it was deployed for and never changes them.
/// - A collective has a leader, a season pass (ERC-721 token id `collectiveId << 32 | serial`) with a price and a
///   capped early tier sold at the early price, and movies its directors put in it. The leader has the director's
///   rights here for the collective's movies. A pass counts as a ticket for every movie of its collective
///   ({canWatch}). Pass revenue is split per unit sold like ticket revenue: a creator share, a minters' share
///   (divided equally over the segments of the collective's movies; a movie earns from the passes collected after
///   it joined; {claimPassRevenue}) and the leader the rest and all rounding dust; paid by pull payment
///   ({collect}, {withdraw}).
/// - Ballots: takes for a segment (eligible pass holders record take digests before the vote starts) or an idea
///   (options fixed by the director). Each pass minted before the ballot opened votes once (its token id is
///   marked, so a transfer cannot vote it twice); a ticket holder who holds no pass of the collective votes once
///   per address. Tallies are public ({ballot}, {winner}). A takes ballot reserves its segment in MovieMinter:
///   once the vote is over and {settleTakes} names the winner, only the winning take's author mints the segment,
///   with the take's digests (no votes: the segment reopens; an unminted winner loses it after a claim window).
/// - Approval: a movie's director may require approval of minted segments; a segment's holder submits it, the
///   director (or leader) approves it, or rejects it with a reason, which burns the token and reopens the
///   segment; it counts as approved once the approval window (fixed at submission) has passed. MovieMinter pays
///   a segment's pool share only while it counts as approved ({segmentApproved}); until then the share stays
///   with the segment, for its holder once approved (or the next minter after a rejection).
/// Takes ballots and approval need MovieMinter linked to this contract (MovieMinter.setCommunity).
contract Community is ERC721, ReentrancyGuardTransient {
    using BitMaps for BitMaps.BitMap;

    enum Review {
        NotRequired, // the movie requires no approval
        Unsubmitted, // minted or not, nobody submitted it for review
        Pending, // submitted, waiting for the director until the approval window ends
        Approved, // approved by the director, or the window passed
        Rejected // rejected with a reason (event); the holder may submit again
    }

    struct Collective {
        // slot 0: buyPass reads and writes only this slot and the price slot
        address leader;
        uint32 sold; // serials 0..sold-1 exist
        uint32 earlyCap; // serials below it were sold at earlyPrice
        uint32 collected; // passes whose shares were credited
        // slot 1
        uint128 price;
        uint128 earlyPrice;
        // slot 2
        address creator;
        uint16 creatorBps; // of each pass's price, to the creator; the leader gets the rest and the dust
        uint16 mintersBps; // of each pass's price, to the segments of the collective's movies
        uint64 segments; // segments of the movies in the collective (a movie joins once, never leaves)
        // slot 3: the minters' pool
        uint128 perSegment; // wei of pass revenue each segment in the collective earned since it was created
        uint128 waiting; // minters' share collected while the collective had no movie (for the next collect)
    }

    struct Ballot {
        // slot 0: everything vote() and recordTake() check
        uint64 movieId;
        uint32 segment; // takes only
        uint8 flags; // TAKES: takes (recorded before `start`), else an idea (fixed at open); TICKETED: sells tickets
        uint8 options;
        uint32 passCap; // passes with serial < passCap (sold before the ballot opened) may vote
        uint40 start;
        uint40 end;
        uint32 collectiveId; // the movie's collective when the ballot opened (a movie joins one collective once)
        // slot 1: MAX_OPTIONS counts of 31 bits; bit 255 set at open so that the first vote writes a used slot
        uint256 tallies;
    }

    struct ReviewRecord {
        uint40 submittedAt;
        uint40 approveAt; // submission + the approval window then: a later window change does not move it
        bool approved;
    }

    /// @notice A recorded take, as {settleTakes} receives them (from the TakeRecorded events).
    struct Take {
        address taker;
        bytes32 contentDigest;
        bytes32 metadataDigest;
    }

    uint256 public constant MAX_OPTIONS = 8;
    /// @notice Pass-vote words a ballot prepares when it opens (255 passes each).
    uint256 public constant PREPAID_WORDS = 8;
    uint256 private constant BPS = 10_000;
    uint256 private constant TALLY_BITS = 31;
    uint256 private constant TALLY_MASK = (1 << TALLY_BITS) - 1;
    uint256 private constant TALLY_SENTINEL = 1 << 255;
    /// @notice `passId` value for a vote with a ticket instead of a pass.
    uint256 public constant NO_PASS = type(uint256).max;
    /// @notice The longest approval window a director may set (so that no director holds minters hostage).
    uint256 public constant MAX_APPROVAL_WINDOW = 30 days;
    uint8 private constant TAKES = 1;
    uint8 private constant TICKETED = 2;

    MovieMinter public immutable minter;
    uint256 public collectiveCount;
    uint256 public ballotCount;
    mapping(uint256 collectiveId => Collective) private _collectives;
    mapping(uint256 movieId => uint256) public collectiveOf;
    mapping(uint256 collectiveId => mapping(address account => uint256)) public passesHeld;
    mapping(address account => uint256) private _credits;
    mapping(uint256 ballotId => Ballot) private _ballots;
    // Index of pass serial s: word s / 255, bit s % 255; bit 255 of the first PREPAID_WORDS words is set when the
    // ballot opens, so that a vote writes a used slot (5,000 gas instead of 22,100), paid once by the director.
    mapping(uint256 ballotId => BitMaps.BitMap) private _passVoted;
    // Index account << 96 | (ballotId / 255) << 8 | ballotId % 255: an account's ballots share words (255 each);
    // bit 255 of a word is set by {prepareTicketVotes} so that a first ticket vote writes a used slot.
    BitMaps.BitMap private _ticketVoted;
    mapping(uint256 movieId => uint256) public approvalWindow; // seconds; 0 = no approval required
    mapping(uint256 tokenId => ReviewRecord) private _reviews;
    // Takes ballots: hash chain of the recorded takes (starts at bytes32(ballotId), set at open so that a take
    // writes a used slot), and the settled winner's keccak256(taker, contentDigest, metadataDigest).
    mapping(uint256 ballotId => bytes32) private _takesHash;
    mapping(uint256 ballotId => bytes32) private _winningTake;
    // Pass revenue: the collective's perSegment when the movie joined (it earns only what accrues after), and what
    // each segment token's holders claimed (it stays with the token: transfers carry the unclaimed rest).
    mapping(uint256 movieId => uint256) private _joinedAt;
    mapping(uint256 tokenId => uint256) private _passClaimed;

    event CollectiveCreated(uint256 indexed collectiveId, address indexed leader, address creator);
    event PassPricesSet(uint256 indexed collectiveId, uint256 price, uint256 earlyPrice, uint256 earlyCap);
    event PassBought(uint256 indexed collectiveId, address indexed buyer, uint256 passId, uint256 price, bool early);
    event MovieJoined(uint256 indexed movieId, uint256 indexed collectiveId);
    /// @notice `toMinters` went to the segments' pool (`perSegment` each); `waiting`: kept for the next collect
    /// while the collective has no movie. `toLeader` includes the pool division's remainder.
    event RevenueCollected(
        uint256 indexed collectiveId, uint256 toCreator, uint256 toLeader, uint256 toMinters, uint256 waiting
    );
    event PassRevenueClaimed(uint256 indexed tokenId, address indexed holder, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event BallotOpened(
        uint256 indexed ballotId,
        uint256 indexed movieId,
        uint256 segment,
        bool takes,
        uint256 options,
        uint256 start,
        uint256 end,
        bytes32 optionsDigest
    );
    event TakeRecorded(
        uint256 indexed ballotId, uint256 take, address indexed taker, bytes32 contentDigest, bytes32 metadataDigest
    );
    event Voted(uint256 indexed ballotId, address indexed voter, uint256 option, uint256 passId);
    event ApprovalRequired(uint256 indexed movieId, uint256 window);
    event SegmentSubmitted(uint256 indexed movieId, uint256 segment, address indexed holder, uint256 autoApproveAt);
    event SegmentApproved(uint256 indexed movieId, uint256 segment, address indexed director);
    event SegmentRejected(uint256 indexed movieId, uint256 segment, address indexed director, string reason);
    /// @notice The vote on a takes ballot is over: `take` won; its author may mint the segment with its digests.
    event TakesSettled(
        uint256 indexed ballotId, uint256 take, address indexed taker, bytes32 contentDigest, bytes32 metadataDigest
    );
    /// @notice The ballot's segment is open again (nobody voted, or the winner did not mint it in time).
    event TakesReleased(uint256 indexed ballotId, uint256 indexed movieId, uint256 segment);

    error UnknownCollective(uint256 collectiveId);
    error UnknownBallot(uint256 ballotId);
    error NotDirector(uint256 movieId, address account);
    error NotLeader(uint256 collectiveId, address account);
    error InvalidPassConfig();
    error WrongPayment(uint256 expected, uint256 sent);
    error AlreadyInCollective(uint256 movieId, uint256 collectiveId);
    error InvalidBallot();
    error TakesClosed(uint256 ballotId, uint256 start);
    error TooManyOptions(uint256 ballotId);
    error NotEligible(uint256 ballotId, address account, uint256 passId);
    error NotVoting(uint256 ballotId, uint256 start, uint256 end);
    error InvalidOption(uint256 ballotId, uint256 option);
    error AlreadyVoted(uint256 ballotId, address account, uint256 passId);
    error NotSegmentHolder(uint256 tokenId, address account);
    error NotSubmitted(uint256 movieId, uint256 segment);
    error NothingToWithdraw(address account);
    error WithdrawFailed(address account, uint256 amount);
    error NotLinked(address minter);
    error InvalidWindow(uint256 window, uint256 max);
    error ReasonRequired();
    error BallotNotOver(uint256 ballotId, uint256 until);
    error TakesMismatch(uint256 ballotId);
    error AlreadySettled(uint256 ballotId);
    error SegmentNotApproved(uint256 tokenId);
    error ApprovalNotRequired(uint256 movieId);

    constructor(MovieMinter minter_) ERC721("Movie Minter Season Pass", "MMPASS") {
        minter = minter_;
    }

    // ------------------------------------------------------------ collectives and passes

    /// @notice Creates a collective led by the caller, with its season pass: `earlyCap` first passes at
    /// `earlyPrice` (<= price: the early tier's discount), then `price`. `creatorBps` of each pass to `creator`,
    /// `mintersBps` to the segments of the collective's movies, the rest to the leader.
    function createCollective(
        uint128 price,
        uint128 earlyPrice,
        uint32 earlyCap,
        address creator,
        uint16 creatorBps,
        uint16 mintersBps
    ) external returns (uint256 collectiveId) {
        if (
            earlyPrice > price || uint256(creatorBps) + mintersBps > BPS
                || (creatorBps != 0 && creator == address(0))
        ) revert InvalidPassConfig();
        collectiveId = ++collectiveCount;
        _collectives[collectiveId] =
            Collective(msg.sender, 0, earlyCap, 0, price, earlyPrice, creator, creatorBps, mintersBps, 0, 0, 0);
        emit CollectiveCreated(collectiveId, msg.sender, creator);
        emit PassPricesSet(collectiveId, price, earlyPrice, earlyCap);
    }

    /// @notice The leader sets new pass prices for passes not sold yet (the early cap cannot change once reached:
    /// accounting counts the first `earlyCap` passes at `earlyPrice`). Collect first so sold passes keep theirs.
    function setPassPrices(uint256 collectiveId, uint128 price, uint128 earlyPrice) external {
        Collective storage c = _leaderOf(collectiveId);
        if (earlyPrice > price) revert InvalidPassConfig();
        _collect(collectiveId, c);
        c.price = price;
        c.earlyPrice = earlyPrice;
        emit PassPricesSet(collectiveId, price, earlyPrice, c.earlyCap);
    }

    /// @notice Buys a season pass of the collective for exactly its current price (the early price for the
    /// first `earlyCap` passes). The pass token goes to the caller.
    function buyPass(uint256 collectiveId) external payable returns (uint256 passId) {
        Collective storage c = _collectives[collectiveId];
        if (c.leader == address(0)) revert UnknownCollective(collectiveId);
        uint256 serial = c.sold;
        bool early = serial < c.earlyCap;
        uint256 price = early ? c.earlyPrice : c.price;
        if (msg.value != price) revert WrongPayment(price, msg.value);
        c.sold = uint32(serial + 1);
        passId = collectiveId << 32 | serial;
        _mint(msg.sender, passId);
        emit PassBought(collectiveId, msg.sender, passId, price, early);
    }

    /// @notice The price the next pass of the collective costs, and whether it is in the early tier.
    function nextPassPrice(uint256 collectiveId) external view returns (uint256 price, bool early) {
        Collective storage c = _known(collectiveId);
        early = c.sold < c.earlyCap;
        price = early ? c.earlyPrice : c.price;
    }

    /// @notice The collective's configuration and sales.
    function collective(uint256 collectiveId)
        external
        view
        returns (
            address leader,
            address creator,
            uint256 creatorBps,
            uint256 mintersBps,
            uint256 price,
            uint256 earlyPrice,
            uint256 earlyCap,
            uint256 sold
        )
    {
        Collective storage c = _known(collectiveId);
        return (c.leader, c.creator, c.creatorBps, c.mintersBps, c.price, c.earlyPrice, c.earlyCap, c.sold);
    }

    /// @notice The movie's director puts it in a collective (once): the leader gains the director's rights here
    /// and the collective's passes count as tickets for it. Its segments share the minters' share of the passes
    /// collected from now on (the passes sold until now are collected first, for the movies already in it).
    function joinCollective(uint256 movieId, uint256 collectiveId) external {
        Collective storage c = _known(collectiveId);
        MovieMinter.MovieInfo memory m = minter.movie(movieId);
        if (m.director != msg.sender) revert NotDirector(movieId, msg.sender);
        uint256 current = collectiveOf[movieId];
        if (current != 0) revert AlreadyInCollective(movieId, current);
        if (c.collected != c.sold) _collect(collectiveId, c);
        _joinedAt[movieId] = c.perSegment;
        c.segments += uint64(m.segmentCount);
        collectiveOf[movieId] = collectiveId;
        emit MovieJoined(movieId, collectiveId);
    }

    /// @notice Whether `account` may watch the movie: a MovieMinter ticket (or a free movie), or a pass of the
    /// movie's collective.
    function canWatch(uint256 movieId, address account) external view returns (bool) {
        uint256 collectiveId = collectiveOf[movieId];
        return (collectiveId != 0 && passesHeld[collectiveId][account] != 0) || minter.hasTicket(movieId, account);
    }

    /// @notice Owners of passes [from, from+count) of a collective (clipped to the passes sold): its members.
    function passHolders(uint256 collectiveId, uint256 from, uint256 count)
        external
        view
        returns (address[] memory out)
    {
        uint256 total = _known(collectiveId).sold;
        if (from >= total) return new address[](0);
        if (count > total - from) count = total - from;
        out = new address[](count);
        for (uint256 i; i < count; ++i) {
            out[i] = _ownerOf(collectiveId << 32 | (from + i));
        }
    }

    // ------------------------------------------------------------ pass revenue

    /// @notice Credits the creator's and the leader's shares of the passes sold since the last collect, and adds
    /// the minters' share (with any waiting) to the pool of the collective's segments: each gets an equal
    /// whole-wei part, the division's remainder goes to the leader. With no movie in the collective yet the
    /// minters' share waits for the first collect after a movie joined. Anyone may call.
    function collect(uint256 collectiveId) external {
        _collect(collectiveId, _known(collectiveId));
    }

    /// @notice The shares of the passes sold since the last collect (before the pool's division, see {collect}).
    function collectable(uint256 collectiveId)
        public
        view
        returns (uint256 toCreator, uint256 toLeader, uint256 toMinters)
    {
        Collective storage c = _known(collectiveId);
        uint256 from = c.collected;
        uint256 to = c.sold;
        uint256 cap = c.earlyCap;
        uint256 earlyUnits = _min(to, cap) - _min(from, cap);
        uint256 units = to - from - earlyUnits;
        uint256 creatorEarly = uint256(c.earlyPrice) * c.creatorBps / BPS;
        uint256 creatorFull = uint256(c.price) * c.creatorBps / BPS;
        uint256 mintersEarly = uint256(c.earlyPrice) * c.mintersBps / BPS;
        uint256 mintersFull = uint256(c.price) * c.mintersBps / BPS;
        toCreator = earlyUnits * creatorEarly + units * creatorFull;
        toMinters = earlyUnits * mintersEarly + units * mintersFull;
        toLeader = earlyUnits * c.earlyPrice + units * c.price - toCreator - toMinters;
    }

    /// @notice The collective's minters' pool: wei each segment earned so far, the segments in it, and the
    /// minters' share waiting for a movie.
    function passPool(uint256 collectiveId)
        external
        view
        returns (uint256 perSegment, uint256 segments, uint256 waiting)
    {
        Collective storage c = _known(collectiveId);
        return (c.perSegment, c.segments, c.waiting);
    }

    /// @notice What the holder of segment token `tokenId` may claim now of its collective's pass revenue (also
    /// accrues for unminted segments: their minter claims it).
    function claimablePassRevenue(uint256 tokenId) public view returns (uint256) {
        uint256 movieId = tokenId >> 32;
        uint256 collectiveId = collectiveOf[movieId];
        if (collectiveId == 0) return 0;
        return _collectives[collectiveId].perSegment - _joinedAt[movieId] - _passClaimed[tokenId];
    }

    /// @notice Credits each segment token's unclaimed pass revenue to the caller, who must hold every token
    /// (in MovieMinter). Like MovieMinter.claimSegmentRevenue: held back until the segment counts as approved,
    /// and the unclaimed rest travels with the token.
    function claimPassRevenue(uint256[] calldata tokenIds) external returns (uint256 total) {
        for (uint256 i; i < tokenIds.length; ++i) {
            uint256 tokenId = tokenIds[i];
            if (minter.ownerOf(tokenId) != msg.sender) revert NotSegmentHolder(tokenId, msg.sender);
            if (!segmentApproved(tokenId)) revert SegmentNotApproved(tokenId);
            uint256 amount = claimablePassRevenue(tokenId);
            if (amount == 0) continue;
            _passClaimed[tokenId] += amount;
            total += amount;
            emit PassRevenueClaimed(tokenId, msg.sender, amount);
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

    function credits(address account) external view returns (uint256) {
        return _credits[account];
    }

    // ------------------------------------------------------------ ballots: takes and ideas

    /// @notice The director (or the collective's leader) opens a ballot for a movie in a collective. Takes: the
    /// collective's pass holders record takes of `segment` until `start` (options = 0 here). Idea: `options`
    /// choices (2..MAX_OPTIONS) described off chain by `optionsDigest`. Voting runs from `start` to `end`.
    function openBallot(
        uint256 movieId,
        uint256 segment,
        bool takes,
        uint8 options,
        uint40 start,
        uint40 end,
        bytes32 optionsDigest
    ) external returns (uint256 ballotId) {
        uint256 collectiveId = _checkDirector(movieId);
        if (collectiveId == 0 || start < block.timestamp || end <= start) revert InvalidBallot();
        if (takes) {
            if (options != 0 || segment >= minter.movie(movieId).segmentCount) revert InvalidBallot();
            _checkLinked();
        } else if (options < 2 || options > MAX_OPTIONS) {
            revert InvalidBallot();
        }
        ballotId = ++ballotCount;
        uint256 passCap = _collectives[collectiveId].sold;
        // hasTicket(movie, 0) is true only for a free movie (address(0) never buys a ticket): no ticket votes there.
        uint8 flags = (takes ? TAKES : 0) | (minter.hasTicket(movieId, address(0)) ? 0 : TICKETED);
        _ballots[ballotId] = Ballot(
            uint64(movieId),
            uint32(segment),
            flags,
            options,
            uint32(passCap),
            start,
            end,
            uint32(collectiveId),
            TALLY_SENTINEL
        );
        if (takes) {
            _takesHash[ballotId] = bytes32(ballotId);
            minter.lockSegment(movieId << 32 | segment, ballotId); // reverts if it is minted or in another ballot
        }
        BitMaps.BitMap storage voted = _passVoted[ballotId];
        uint256 words = passCap / 255 + 1;
        if (words > PREPAID_WORDS) words = PREPAID_WORDS;
        for (uint256 w; w < words; ++w) {
            voted.set(w << 8 | 255);
        }
        emit BallotOpened(ballotId, movieId, segment, takes, options, start, end, optionsDigest);
    }

    /// @notice A holder of a pass of the movie's collective records a take (digests of its video and metadata,
    /// pinned off chain) before the vote starts. Cheap: one event, the option counter and the takes' hash chain.
    function recordTake(uint256 ballotId, uint256 passId, bytes32 contentDigest, bytes32 metadataDigest) external {
        Ballot storage b = _ballots[ballotId];
        uint256 start = b.start;
        if (b.flags & TAKES == 0) revert InvalidBallot();
        if (block.timestamp >= start) revert TakesClosed(ballotId, start);
        uint256 take = b.options;
        if (take == MAX_OPTIONS) revert TooManyOptions(ballotId);
        if (passId >> 32 != b.collectiveId || _ownerOf(passId) != msg.sender) {
            revert NotEligible(ballotId, msg.sender, passId);
        }
        b.options = uint8(take + 1);
        _takesHash[ballotId] = _chain(_takesHash[ballotId], take, msg.sender, contentDigest, metadataDigest);
        emit TakeRecorded(ballotId, take, msg.sender, contentDigest, metadataDigest);
    }

    /// @notice After a takes ballot's vote, anyone names its winner with the recorded takes (all of them, in take
    /// order, as in the TakeRecorded events; checked against the hash chain). The winner (most votes, ties: the
    /// lowest take) may then mint the segment with its digests. With no votes the segment opens again.
    function settleTakes(uint256 ballotId, Take[] calldata takes) external {
        Ballot storage b = _knownBallot(ballotId);
        if (b.flags & TAKES == 0 || takes.length != b.options) revert InvalidBallot();
        if (block.timestamp < b.end) revert BallotNotOver(ballotId, b.end);
        if (_winningTake[ballotId] != bytes32(0)) revert AlreadySettled(ballotId);
        bytes32 h = bytes32(ballotId);
        for (uint256 i; i < takes.length; ++i) {
            h = _chain(h, i, takes[i].taker, takes[i].contentDigest, takes[i].metadataDigest);
        }
        if (h != _takesHash[ballotId]) revert TakesMismatch(ballotId);
        (uint256 option, uint256 votes) = _leading(b);
        if (votes == 0) {
            _release(ballotId, b);
            return;
        }
        Take calldata t = takes[option];
        _winningTake[ballotId] = keccak256(abi.encode(t.taker, t.contentDigest, t.metadataDigest));
        emit TakesSettled(ballotId, option, t.taker, t.contentDigest, t.metadataDigest);
    }

    /// @notice Opens a takes ballot's segment again when its winner has not minted it within the movie's claim
    /// window after the vote ended (or nobody settled it): no winner holds a segment forever. Anyone may call.
    function releaseTakes(uint256 ballotId) external {
        Ballot storage b = _knownBallot(ballotId);
        if (b.flags & TAKES == 0) revert InvalidBallot();
        uint256 until = uint256(b.end) + minter.movie(b.movieId).claimWindow;
        if (block.timestamp < until) revert BallotNotOver(ballotId, until);
        _release(ballotId, b);
    }

    /// @notice Whether `account` minting these digests is the settled winning take of ballot `ballotId`
    /// (MovieMinter asks this when a takes ballot's segment is minted).
    function isWinningTake(uint256 ballotId, address account, bytes32 contentDigest, bytes32 metadataDigest)
        external
        view
        returns (bool)
    {
        bytes32 w = _winningTake[ballotId];
        return w != bytes32(0) && w == keccak256(abi.encode(account, contentDigest, metadataDigest));
    }

    /// @notice Optional: pre-pays the ticket-vote words of `accounts` for ballots in the same range of 255 as
    /// `ballotId` (typically the movie's ticket buyers, paid by the director), so that their first ticket vote
    /// writes a used slot (17,100 gas less). Like MovieMinter.prepareSegments it only moves the cost.
    function prepareTicketVotes(uint256 ballotId, address[] calldata accounts) external {
        _knownBallot(ballotId);
        for (uint256 i; i < accounts.length; ++i) {
            _ticketVoted.set(_ticketIndex(accounts[i], ballotId) | 255);
        }
    }

    /// @notice Votes for `option` with pass `passId` (sold before the ballot opened, never voted in it, even by a
    /// former holder), or with the caller's ticket (passId = NO_PASS; only for callers holding no pass of the
    /// collective and for movies that sell tickets; one vote per address).
    function vote(uint256 ballotId, uint256 option, uint256 passId) external {
        Ballot storage b = _ballots[ballotId];
        uint256 start = b.start;
        if (block.timestamp < start || block.timestamp >= b.end) revert NotVoting(ballotId, start, b.end);
        if (option >= b.options) revert InvalidOption(ballotId, option);
        uint256 collectiveId = b.collectiveId;
        if (passId == NO_PASS) {
            if (
                b.flags & TICKETED == 0 || passesHeld[collectiveId][msg.sender] != 0
                    || !minter.hasTicket(b.movieId, msg.sender)
            ) revert NotEligible(ballotId, msg.sender, passId);
            // One read of the word (BitMaps get + set would read it twice).
            uint256 index = _ticketIndex(msg.sender, ballotId);
            uint256 mask = 1 << (index & 0xff);
            uint256 word = _ticketVoted._data[index >> 8];
            if (word & mask != 0) revert AlreadyVoted(ballotId, msg.sender, passId);
            _ticketVoted._data[index >> 8] = word | mask;
        } else {
            uint256 serial = uint32(passId);
            if (passId >> 32 != collectiveId || serial >= b.passCap || _ownerOf(passId) != msg.sender) {
                revert NotEligible(ballotId, msg.sender, passId);
            }
            BitMaps.BitMap storage voted = _passVoted[ballotId];
            uint256 index = _passIndex(serial);
            if (voted.get(index)) revert AlreadyVoted(ballotId, msg.sender, passId);
            voted.set(index);
        }
        b.tallies += 1 << (TALLY_BITS * option); // < 2^31 votes per option: passes and tickets are far fewer
        emit Voted(ballotId, msg.sender, option, passId);
    }

    /// @notice A ballot and its tallies so far.
    function ballot(uint256 ballotId)
        external
        view
        returns (
            uint256 movieId,
            uint256 segment,
            bool takes,
            uint256 start,
            uint256 end,
            uint256 passCap,
            uint256[] memory tallies
        )
    {
        Ballot storage b = _knownBallot(ballotId);
        tallies = new uint256[](b.options);
        uint256 packed = b.tallies;
        for (uint256 i; i < tallies.length; ++i) {
            tallies[i] = packed >> (TALLY_BITS * i) & TALLY_MASK;
        }
        return (b.movieId, b.segment, b.flags & TAKES != 0, b.start, b.end, b.passCap, tallies);
    }

    /// @notice The leading option (ties: the lowest index), its votes, and whether voting has ended.
    function winner(uint256 ballotId) external view returns (uint256 option, uint256 votes, bool final_) {
        Ballot storage b = _knownBallot(ballotId);
        if (b.options == 0) revert InvalidOption(ballotId, 0);
        (option, votes) = _leading(b);
        final_ = block.timestamp >= b.end;
    }

    /// @notice Whether pass `passId` already voted in the ballot.
    function passVoted(uint256 ballotId, uint256 passId) external view returns (bool) {
        return _passVoted[ballotId].get(_passIndex(uint32(passId)));
    }

    /// @notice Whether `account` already voted in the ballot with its ticket.
    function ticketVoted(uint256 ballotId, address account) external view returns (bool) {
        return _ticketVoted.get(_ticketIndex(account, ballotId));
    }

    /// @notice Whether `account`'s ticket vote in the ballot writes a used storage word ({prepareTicketVotes}
    /// prepared it, or the account voted in a nearby ballot): such a first vote costs about 17,000 gas less.
    function ticketVotePrepared(uint256 ballotId, address account) external view returns (bool) {
        return _ticketVoted._data[_ticketIndex(account, ballotId) >> 8] != 0;
    }

    // ------------------------------------------------------------ approval

    /// @notice The director (or leader) requires approval of the movie's segments: a submitted segment counts as
    /// approved when approved, or `window` seconds after its submission (so no director holds minters hostage;
    /// at most MAX_APPROVAL_WINDOW). MovieMinter pays a segment's pool share only once it counts as approved.
    /// 0 turns approval off.
    function setApprovalWindow(uint256 movieId, uint32 window) external {
        _checkDirector(movieId);
        if (window > MAX_APPROVAL_WINDOW) revert InvalidWindow(window, MAX_APPROVAL_WINDOW);
        if (window != 0) _checkLinked();
        approvalWindow[movieId] = window;
        emit ApprovalRequired(movieId, window);
    }

    /// @notice The holder of a minted segment token submits it for review (again after a rejection).
    function submitSegment(uint256 movieId, uint256 segment) external {
        uint256 tokenId = movieId << 32 | segment;
        if (minter.ownerOf(tokenId) != msg.sender) revert NotSegmentHolder(tokenId, msg.sender);
        uint256 window = approvalWindow[movieId];
        ReviewRecord memory r = _reviews[tokenId];
        // An approved segment stays approved (a new submission would let the director reject it after all).
        if (window == 0 || r.approved || (r.submittedAt != 0 && block.timestamp >= r.approveAt)) {
            revert NotSubmitted(movieId, segment);
        }
        _reviews[tokenId] = ReviewRecord(uint40(block.timestamp), uint40(block.timestamp + window), false);
        emit SegmentSubmitted(movieId, segment, msg.sender, block.timestamp + window);
    }

    /// @notice The director (or leader) approves a segment waiting for review, or rejects it with a reason
    /// (public in `SegmentRejected`): the segment token is burnt and the segment reopens for anyone to claim and
    /// mint. Only before its approval window ends: after that it counts as approved for good.
    function reviewSegment(uint256 movieId, uint256 segment, bool approve, string calldata reason) external {
        _checkDirector(movieId);
        // With approval off the segment counts as approved: nobody may burn it any more.
        if (approvalWindow[movieId] == 0) revert ApprovalNotRequired(movieId);
        uint256 tokenId = movieId << 32 | segment;
        ReviewRecord storage r = _reviews[tokenId];
        if (r.submittedAt == 0 || r.approved || block.timestamp >= r.approveAt) revert NotSubmitted(movieId, segment);
        if (approve) {
            r.approved = true;
            emit SegmentApproved(movieId, segment, msg.sender);
        } else {
            if (bytes(reason).length == 0) revert ReasonRequired();
            delete _reviews[tokenId];
            minter.reopenSegment(tokenId);
            emit SegmentRejected(movieId, segment, msg.sender, reason);
        }
    }

    /// @notice A segment's review state now (see {Review}).
    function reviewOf(uint256 movieId, uint256 segment) public view returns (Review) {
        if (approvalWindow[movieId] == 0) return Review.NotRequired;
        ReviewRecord memory r = _reviews[movieId << 32 | segment];
        if (r.approved || (r.submittedAt != 0 && block.timestamp >= r.approveAt)) return Review.Approved;
        return r.submittedAt == 0 ? Review.Unsubmitted : Review.Pending;
    }

    /// @notice When a pending segment counts as approved without the director (0 when not submitted).
    function autoApproveAt(uint256 movieId, uint256 segment) external view returns (uint256) {
        return _reviews[movieId << 32 | segment].approveAt;
    }

    /// @notice Whether MovieMinter may pay the segment token's pool share: no approval required, or approved.
    function segmentApproved(uint256 tokenId) public view returns (bool) {
        Review r = reviewOf(tokenId >> 32, uint32(tokenId));
        return r == Review.NotRequired || r == Review.Approved;
    }

    // ------------------------------------------------------------ credits

    /// @notice Who made the movie: its director, creator, collective leader (0 if none) and the minter of each
    /// segment (0 while unminted; the current holder's history is in Transfer events). Pass holders: {passHolders}.
    function creditsOf(uint256 movieId)
        external
        view
        returns (address director, address creator, address leader, address[] memory minters)
    {
        MovieMinter.MovieInfo memory m = minter.movie(movieId);
        uint256 collectiveId = collectiveOf[movieId];
        if (collectiveId != 0) leader = _collectives[collectiveId].leader;
        MovieMinter.SegmentInfo[] memory segs = minter.segments(movieId, 0, m.segmentCount);
        minters = new address[](segs.length);
        for (uint256 i; i < segs.length; ++i) {
            if (segs[i].status == MovieMinter.SegmentStatus.Minted) minters[i] = segs[i].account;
        }
        return (m.director, m.creator, leader, minters);
    }

    // ------------------------------------------------------------ internals

    /// @dev Keeps per-collective pass counts for {canWatch} and ticket votes.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        uint256 collectiveId = tokenId >> 32;
        if (from != address(0)) --passesHeld[collectiveId][from];
        if (to != address(0)) ++passesHeld[collectiveId][to];
    }

    function _collect(uint256 collectiveId, Collective storage c) private {
        (uint256 toCreator, uint256 toLeader, uint256 pool) = collectable(collectiveId);
        c.collected = c.sold;
        pool += c.waiting;
        uint256 n = c.segments;
        uint256 waiting = n == 0 ? pool : 0;
        uint256 per = n == 0 ? 0 : pool / n;
        toLeader += pool - waiting - per * n; // the division's remainder: no wei is lost
        c.perSegment += uint128(per);
        c.waiting = uint128(waiting);
        _credits[c.creator] += toCreator;
        _credits[c.leader] += toLeader;
        emit RevenueCollected(collectiveId, toCreator, toLeader, per * n, waiting);
    }

    /// @dev The caller must be the movie's director or its collective's leader; returns the collective (0: none).
    function _checkDirector(uint256 movieId) private view returns (uint256 collectiveId) {
        collectiveId = collectiveOf[movieId];
        if (collectiveId != 0 && _collectives[collectiveId].leader == msg.sender) return collectiveId;
        if (minter.movie(movieId).director != msg.sender) revert NotDirector(movieId, msg.sender);
    }

    function _known(uint256 collectiveId) private view returns (Collective storage c) {
        c = _collectives[collectiveId];
        if (c.leader == address(0)) revert UnknownCollective(collectiveId);
    }

    function _leaderOf(uint256 collectiveId) private view returns (Collective storage c) {
        c = _known(collectiveId);
        if (c.leader != msg.sender) revert NotLeader(collectiveId, msg.sender);
    }

    function _knownBallot(uint256 ballotId) private view returns (Ballot storage b) {
        b = _ballots[ballotId];
        if (b.end == 0) revert UnknownBallot(ballotId);
    }

    function _checkLinked() private view {
        if (minter.community() != address(this)) revert NotLinked(address(minter));
    }

    function _leading(Ballot storage b) private view returns (uint256 option, uint256 votes) {
        uint256 packed = b.tallies;
        for (uint256 i; i < b.options; ++i) {
            uint256 count = packed >> (TALLY_BITS * i) & TALLY_MASK;
            if (count > votes) (option, votes) = (i, count);
        }
    }

    function _release(uint256 ballotId, Ballot storage b) private {
        minter.lockSegment(uint256(b.movieId) << 32 | b.segment, 0); // reverts once the winner minted it
        emit TakesReleased(ballotId, b.movieId, b.segment);
    }

    function _chain(bytes32 h, uint256 take, address taker, bytes32 contentDigest, bytes32 metadataDigest)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(h, take, taker, contentDigest, metadataDigest));
    }

    function _ticketIndex(address account, uint256 ballotId) private pure returns (uint256) {
        return uint256(uint160(account)) << 96 | (ballotId / 255) << 8 | ballotId % 255;
    }

    function _passIndex(uint256 serial) private pure returns (uint256) {
        return (serial / 255) << 8 | serial % 255;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
