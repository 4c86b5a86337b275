"""web3.py client for the MovieMinter contract.

Reads (a movie, all its segments in one eth_call), unsigned transactions for the browser wallet
(`build_tx`), signing from an encrypted keystore for headless use (`send`), receipts (`wait`) and
readable revert messages (`explain_revert`) decoded from the contract's custom errors.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypedDict, cast

from eth_abi import decode as abi_decode
from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from eth_utils.abi import get_abi_output_types
from web3 import HTTPProvider, Web3
from web3.exceptions import BlockNotFound, ContractCustomError, ContractLogicError, ContractPanicError, TimeExhausted
from web3.types import BlockIdentifier, TxParams

from movieminter.errors import MovieMinterError

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

MINT_MODES = ("open", "allowlist", "lottery")
HISTORY_CONTRACT = ChecksumAddress(
    HexAddress(HexStr("0x0000F90827F1C53a10cb7A02335B175320002935"))
)  # EIP-2935 (MovieMinter.HISTORY_CONTRACT)
HISTORY_WINDOW = 8191
SEGMENT_STATUSES = ("pending", "open", "claimed", "won", "allowlisted", "minted")
ZERO_ADDRESS = "0x" + "00" * 20


class MovieInfo(TypedDict):
    """One movie as `ChainClient.movie()` gives it: the contract's `movie()` struct under its ABI names
    (camelCase, as in the Solidity source), digests as 0x-hex, the mint mode by name, plus its id."""

    id: int
    manifestDigest: str
    segmentCount: int
    creator: str
    director: str
    mintMode: str  # one of MINT_MODES
    entryDeadline: int
    claimWindow: int
    ticketPrice: int
    entryFee: int
    creatorBps: int
    directorBps: int
    mintersBps: int
    royaltyBps: int
    allowlistRoot: str
    createdAt: int
    entrantCount: int
    commitBlock: int
    seed: str
    windowStart: int
    claimDeadline: int
    ticketsSold: int
    revenuePerSegment: int
    maxClaims: int
    createdBlock: int
    drawBlock: int
    seedRecorded: bool


class SegmentRow(TypedDict):
    """One segment as `ChainClient.segments()` gives it (digests as 0x-hex; None until minted)."""

    segment: int
    status: str  # one of SEGMENT_STATUSES
    account: str | None  # claimer, winner or minter (checksummed)
    deadline: int | None
    contentDigest: str | None
    metadataDigest: str | None


class ChainError(MovieMinterError):
    """A chain call failed; `error` is the contract's custom error name when there is one."""

    def __init__(self, message: str, hint: str | None = None, *, error: str | None = None, args: dict | None = None):
        super().__init__(message, hint, **({"error": error, "args": args} if error else {}))
        self.error = error
        self.error_args = args or {}


class ChainTimeout(MovieMinterError, status=504):
    """A transaction was not mined in the time waited: not a failure, it may still be mined (ask again)."""


class ChainUnavailable(MovieMinterError, status=503):
    """The chain cannot be used at all: its RPC URL does not answer, or no (valid) contract address is set.
    Not the request's fault: the API answers 503 and says which setting to fix."""


CHAIN_SETTING = (
    "set Chain (a preset such as sepolia, or an RPC URL) in A1111's Settings > Movie Minter, "
    "or MOVIEMINTER_CHAIN / MOVIEMINTER_RPC_URL for `movieminter serve`"
)
CONTRACT_SETTING = (
    "set the MovieMinter contract address in A1111's Settings > Movie Minter, or "
    "MOVIEMINTER_CONTRACT_ADDRESS for `movieminter serve` (deploy one with `movieminter chain deploy`)"
)


def chain_unreachable(rpc_url: str, exc: Exception) -> ChainUnavailable:
    return ChainUnavailable(
        f"cannot reach the chain at {rpc_url} ({type(exc).__name__})",
        hint=f"start its node (a local chain: `movieminter chain anvil`), or fix the RPC URL: {CHAIN_SETTING}",
    )


def no_contract() -> ChainUnavailable:
    return ChainUnavailable("no MovieMinter contract address is configured", hint=CONTRACT_SETTING)


class _Provider(HTTPProvider):
    """web3's HTTP provider, but a node that does not answer (refused, timed out, HTTP error) raises
    ChainUnavailable, so every use of `ChainClient.w3` (reads, estimates, receipts, logs) says what to fix."""

    def make_request(self, method, params):
        try:
            return super().make_request(method, params)
        except OSError as exc:  # requests' connection errors, timeouts and HTTP errors are OSErrors
            raise chain_unreachable(self.endpoint_uri, exc) from None


@cache
def load_artifact(name: str = "MovieMinter") -> dict:
    """The compiled contract (abi, bytecode, compiler settings) from movieminter/chain/artifacts/."""
    path = ARTIFACTS / f"{name}.json"
    if not path.exists():
        raise MovieMinterError(f"contract artifact {path.name} is missing", hint="run `node contracts/build.js`")
    return json.loads(path.read_text())


# ----------------------------------------------------------------------------- revert decoding

# Readable text for each custom error: (message template over the error's arguments, hint).
ERROR_TEXT: dict[str, tuple[str, str]] = {
    "UnknownMovie": (
        "movie {movieId} does not exist on this contract",
        "check the movie id and that the app points at the right chain and contract address",
    ),
    "InvalidSegment": (
        "movie {movieId} has {segmentCount} segments; segment {segment} does not exist",
        "segments are numbered from 0 to segmentCount - 1",
    ),
    "InvalidSegmentCount": ("a movie needs at least one segment (got {segmentCount})", "set segmentCount >= 1"),
    "ZeroAddress": ("the creator and the director must be real addresses, not 0x0", "fill in both wallet addresses"),
    "InvalidShares": (
        "revenue shares must add up to 10000 basis points (creator {creatorBps} + director "
        "{directorBps} + minters {mintersBps})",
        "adjust the three shares so they sum to 100%",
    ),
    "InvalidRoyalty": ("royalty {royaltyBps} bps is above 100%", "use at most 10000 basis points"),
    "InvalidClaimWindow": ("the claim window must be longer than 0 seconds", "set a claim window, e.g. 86400"),
    "InvalidEntryDeadline": (
        "entry deadline {entryDeadline} is not valid (now {nowTimestamp})",
        "lottery movies need a deadline in the future; other modes take neither a deadline nor an entry fee",
    ),
    "InvalidAllowlistRoot": (
        "an allowlist root is required for allowlist movies, and only for them",
        "build the allowlist with movieminter.chain.merkle.StandardMerkleTree",
    ),
    "InvalidDigest": ("a digest is zero", "pass the sha256 digests of the pinned video's and metadata's CIDs"),
    "WrongMintMode": (
        "movie {movieId} is a {actual} movie, not a {expected} one",
        "use the action that fits the movie's mint mode",
    ),
    "EntriesClosedAlready": (
        "the lottery entries of movie {movieId} are closed (deadline {entryDeadline})",
        "entries are accepted only until the deadline and closed once",
    ),
    "EntriesStillOpen": (
        "the lottery entries of movie {movieId} are open until {entryDeadline}",
        "close the entries after the deadline",
    ),
    "AlreadyEntered": ("{account} already entered the lottery of movie {movieId}", "one entry per address"),
    "WrongPayment": ("the payment must be exactly {expected} wei (sent {sent})", "send the exact price"),
    "EntriesNotClosed": (
        "the lottery of movie {movieId} has not been closed yet",
        "call closeEntries after the entry deadline, then draw",
    ),
    "DrawTooEarly": (
        "the draw of movie {movieId} uses block {commitBlock}; the chain is at {currentBlock}",
        "wait until that block is mined, then call draw again",
    ),
    "DrawBlockExpired": (
        "nobody recorded the draw of movie {movieId} while block {expiredBlock}'s hash was readable; "
        "the draw now uses block {nextBlock}'s hash (fixed when the entries closed)",
        "call draw again once that block is mined (movieminter lottery draw MOVIE --wait)",
    ),
    "AlreadyDrawn": ("the lottery of movie {movieId} is already drawn", "see winnerOf / the segments view"),
    "LotteryNotDrawn": (
        "the lottery of movie {movieId} has not been drawn yet",
        "wait until the entries are closed and the draw block is mined (movieminter lottery draw)",
    ),
    "SegmentReserved": (
        "segment {segment} of movie {movieId} is reserved for {holder} until {until}",
        "pick another segment, or wait until the reservation expires",
    ),
    "TooManyClaims": (
        "{account} already holds {maxClaims} live claim(s) in movie {movieId}, its limit per address",
        "mint a claimed segment (or let a claim expire) before claiming another",
    ),
    "ClaimCooldown": (
        "{account}'s claim on segment {segment} of movie {movieId} expired unminted; it may claim that "
        "segment again from {until}",
        "pick another segment, or mint this one directly while it is open",
    ),
    "InvalidMaxClaims": (
        "maxClaims {maxClaims} is not allowed",
        "set how many live claims one address may hold: 1 to 8",
    ),
    "AlreadyMinted": (
        "segment {segment} of movie {movieId} is already minted",
        "each segment is minted once; pick another segment",
    ),
    "NotAllowed": (
        "{account} may not mint segment {segment} of movie {movieId} now",
        "only the lottery winner / allowlisted wallet may mint it during the claim window; a segment put to a "
        "takes ballot only its winning take's author, with that take's digests, once the ballot is settled",
    ),
    "TicketsNotForSale": ("movie {movieId} is free to watch: there are no tickets to buy", "just watch it"),
    "AlreadyHasTicket": ("{account} already has a ticket for movie {movieId}", "no need to buy another"),
    "NotSegmentHolder": (
        "{account} does not hold segment token {tokenId}",
        "only the token's current holder claims its revenue",
    ),
    "NothingToWithdraw": (
        "{account} has nothing to withdraw",
        "collect the movie's revenue or claim your segments' revenue first",
    ),
    "WithdrawFailed": ("sending {amount} wei to {account} failed", "the receiving contract must accept ether"),
    "ReentrancyGuardReentrantCall": ("re-entrant call refused", "do not call withdraw from inside a payout"),
    "NotCommunity": (
        "{account} may not do this: it is for the linked Community contract (linked once, by the deployer)",
        "send from the MovieMinter deployer's wallet to link a Community; the rest goes through Community",
    ),
    "SegmentNotApproved": (
        "segment token {tokenId} is waiting for its director's approval: its revenue is held back until then",
        "submit it for review (`movieminter director approval submit`); it counts as approved when the director "
        "approves it or when the approval window ends",
    ),
    "ERC721NonexistentToken": ("token {tokenId} does not exist", "it has not been minted yet"),
    "ERC721InsufficientApproval": ("{operator} may not transfer token {tokenId}", "ask its holder to approve you"),
    "ERC721IncorrectOwner": (
        "{sender} does not own token {tokenId} (its owner is {owner})",
        "transfer from the token's holder",
    ),
}
PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x32: "array index out of bounds",
}


@cache
def _error_abis() -> dict[bytes, dict]:
    out = {}
    # Community's errors too (contracts/Community.sol): its reverts decode through the same code.
    for item in load_artifact()["abi"] + load_artifact("Community")["abi"]:
        if item["type"] == "error":
            types = ",".join(_abi_type(i) for i in item["inputs"])
            out[function_signature_to_4byte_selector(f"{item['name']}({types})")] = item
    return out


def _abi_type(item: dict) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


def _revert_data(error: Any) -> bytes | None:
    """The raw revert bytes carried by a web3 exception, a hex string or bytes."""
    if isinstance(error, (bytes, bytearray)):
        return bytes(error)
    if isinstance(error, str):
        return bytes.fromhex(error[2:] if error.startswith("0x") else error) if error else None
    data = getattr(error, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


def decode_revert(error: Any) -> tuple[str, dict] | None:
    """(error name, {argument: value}) for a custom error, Error(string) or Panic(uint256); None if unknown."""
    data = _revert_data(error)
    if not data or len(data) < 4:
        return None
    selector, body = data[:4], data[4:]
    if selector == function_signature_to_4byte_selector("Error(string)"):
        return "Error", {"message": abi_decode(["string"], body)[0]}
    if selector == function_signature_to_4byte_selector("Panic(uint256)"):
        return "Panic", {"code": abi_decode(["uint256"], body)[0]}
    item = _error_abis().get(selector)
    if item is None:
        return None
    values = abi_decode([_abi_type(i) for i in item["inputs"]], body)
    args = {}
    for inp, value in zip(item["inputs"], values, strict=False):
        if inp["type"] == "address":
            value = to_checksum_address(value)
        elif inp["internalType"].startswith("enum MovieMinter.MintMode"):
            value = MINT_MODES[value]
        elif isinstance(value, bytes):
            value = "0x" + value.hex()
        args[inp["name"]] = value
    return item["name"], args


def explain_revert(error: Any) -> str:
    """A readable sentence (with a hint) for a failed call or transaction."""
    decoded = decode_revert(error)
    if decoded is None:
        text = str(getattr(error, "message", None) or error)
        return f"the transaction was rejected: {text}"
    name, args = decoded
    if name == "Error":
        return f"the contract refused: {args['message']}"
    if name == "Panic":
        return f"the contract panicked: {PANIC_CODES.get(args['code'], hex(args['code']))}"
    template, hint = ERROR_TEXT.get(name, (None, None))
    if template is None:
        return f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"
    return f"{template.format(**args)} ({name}); how to fix: {hint}"


def revert_error(error: Any) -> ChainError:
    """A ChainError for a web3 exception, carrying the decoded custom error."""
    decoded = decode_revert(error)
    message = explain_revert(error)
    if decoded and decoded[0] in ERROR_TEXT:
        template, hint = ERROR_TEXT[decoded[0]]
        return ChainError(template.format(**decoded[1]), hint, error=decoded[0], args=decoded[1])
    return ChainError(
        message,
        "check the transaction's arguments",
        error=decoded[0] if decoded else None,
        args=decoded[1] if decoded else None,
    )


# ----------------------------------------------------------------------------- the client

# content digests read from SegmentMinted logs: (rpc, contract, movie) -> {"block", "hash", "digests"}
_MINTED_LOGS: dict[tuple, dict] = {}
_MINTED_LOCK = threading.Lock()


def _movie_field(name: str) -> int:
    """The position of `name` in the movie() view's returned tuple."""
    for item in load_artifact()["abi"]:
        if item.get("name") == "movie" and item["type"] == "function":
            return [c["name"] for c in item["outputs"][0]["components"]].index(name)
    raise KeyError(name)


REVERT_ERRORS = (ContractCustomError, ContractLogicError, ContractPanicError)


@dataclass
class MovieConfig:
    """Arguments of createMovie, with defaults a director would pick."""

    manifest_digest: bytes | str  # 32 bytes, or their 0x-hex
    segment_count: int
    creator: str
    director: str
    mint_mode: str = "lottery"
    entry_deadline: int = 0
    claim_window: int = 86_400
    ticket_price: int = 0
    entry_fee: int = 0
    creator_bps: int = 2_000
    director_bps: int = 3_000
    minters_bps: int = 5_000
    royalty_bps: int = 500
    allowlist_root: bytes | str = b"\x00" * 32
    max_claims: int = 1  # live claims one address may hold in the movie at once (1..8)

    def as_tuple(self) -> tuple:
        return (
            _bytes32(self.manifest_digest),
            self.segment_count,
            to_checksum_address(self.creator),
            to_checksum_address(self.director),
            MINT_MODES.index(self.mint_mode),
            self.entry_deadline,
            self.claim_window,
            self.ticket_price,
            self.entry_fee,
            self.creator_bps,
            self.director_bps,
            self.minters_bps,
            self.royalty_bps,
            _bytes32(self.allowlist_root),
            self.max_claims,
        )


def _int(value) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _bytes32(value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = bytes.fromhex(value[2:] if value.startswith("0x") else value)
    if len(value) != 32:
        raise MovieMinterError(
            f"expected a 32-byte digest, got {len(value)} bytes", hint="use movieminter.ipfs.cid.cid_to_digest(cid)"
        )
    return bytes(value)


class ChainClient:
    """The MovieMinter contract on one chain. `contract_address` may be None until `deploy()`."""

    def __init__(
        self, rpc_url: str, contract_address: str | None = None, *, timeout: float = 30.0, deploy_block: int = 0
    ):
        self.rpc_url = rpc_url
        self.w3 = Web3(_Provider(rpc_url, request_kwargs={"timeout": timeout}))
        self.artifact = load_artifact()
        # The block the contract was deployed in: its logs are read from there (0 when unknown: from genesis,
        # which public RPC providers refuse or serve slowly). deploy() records it; settings give it otherwise.
        self.deploy_block = int(deploy_block)
        try:
            self.contract_address = to_checksum_address(contract_address) if contract_address else None
        except ValueError:
            raise ChainUnavailable(
                f"the MovieMinter contract address {contract_address!r} is not an address", hint=CONTRACT_SETTING
            ) from None

    def __repr__(self) -> str:
        return f"ChainClient(rpc_url={self.rpc_url!r}, contract_address={self.contract_address!r})"

    @classmethod
    def from_settings(cls, settings) -> ChainClient:
        """From `Settings`: `rpc_url` wins; else `chain` is a preset name or an RPC URL."""
        from movieminter.chain.presets import resolve_rpc_url

        return cls(
            resolve_rpc_url(settings.chain, settings.rpc_url),
            settings.contract_address or None,
            deploy_block=settings.contract_deploy_block,
        )

    # -- plumbing

    @property
    def contract(self):
        if not self.contract_address:
            raise no_contract()
        return self.w3.eth.contract(address=self.contract_address, abi=self.artifact["abi"])

    @property
    def chain_id(self) -> int:
        return self.w3.eth.chain_id

    def call(self, function: str, *args, sender: str | None = None, block: str | int = "latest"):
        """A read-only call of `function(*args)`; reverts raise ChainError with the decoded reason."""
        try:
            return getattr(self.contract.functions, function)(*args).call(
                {"from": sender} if sender else {}, block_identifier=block
            )
        except REVERT_ERRORS as exc:
            raise revert_error(exc) from None
        except OSError as exc:  # requests' connection errors are OSErrors
            raise self._unreachable(exc) from None

    def call_many(self, function: str, arg_lists: list) -> list:
        """`call(function, *args)` for each args tuple of `arg_lists`, in one JSON-RPC batch (a page of movies, a
        wallet's tokens: one round trip, not one each); a node without batches gets one call each."""
        if not arg_lists:
            return []
        fn = getattr(self.contract.functions, function)
        try:
            with self.w3.batch_requests() as batch:
                for args in arg_lists:
                    batch.add(fn(*args))
                return list(batch.execute())
        except MovieMinterError:
            raise
        except Exception:  # a node without JSON-RPC batches, or a call in the batch that reverted
            return [self.call(function, *args) for args in arg_lists]

    def call_bulk(self, function: str, *args, block: BlockIdentifier = "latest") -> tuple:
        """`call` for views that return long arrays (segments of a feature film): the same eth_call, decoded with
        eth_abi alone. web3's result formatters walk every value of every row and take ~6x as long as the call.
        Addresses come back lower-case hex."""
        entry = next(i for i in self.artifact["abi"] if i.get("name") == function and i["type"] == "function")
        try:
            data = self.contract.encode_abi(function, list(args))
            raw = self.w3.eth.call(cast(TxParams, {"to": self.contract_address, "data": data}), block)
        except REVERT_ERRORS as exc:
            raise revert_error(exc) from None
        except OSError as exc:
            raise self._unreachable(exc) from None
        return abi_decode(get_abi_output_types(entry), bytes(raw))

    def _unreachable(self, exc: Exception) -> MovieMinterError:
        return chain_unreachable(self.rpc_url, exc)

    # -- reads

    def movie(self, movie_id: int) -> MovieInfo:
        """The movie's configuration and state (see MovieInfo)."""
        info = self.call("movie", movie_id)
        names = [c["name"] for c in self._output_components("movie")]
        out = dict(zip(names, info, strict=True))
        out["mintMode"] = MINT_MODES[out["mintMode"]]
        for key in ("manifestDigest", "allowlistRoot", "seed"):
            out[key] = "0x" + out[key].hex()
        out["id"] = movie_id
        return cast(MovieInfo, out)

    def segments(self, movie_id: int, start: int = 0, count: int | None = None) -> list[SegmentRow]:
        """Every segment's status, account (claimer / winner / minter), deadline and digests, in one call.

        The contract stores each minted segment's metadata digest; the video's (`contentDigest`) is in its
        `SegmentMinted` event, read here from the logs (see `content_digests`)."""
        if count is None:
            count = 2**32
        (rows,) = self.call_bulk("segments", movie_id, start, count)
        out: list[SegmentRow] = []
        for i, (status, account, deadline, metadata) in enumerate(rows):
            out.append(
                {
                    "segment": start + i,
                    "status": SEGMENT_STATUSES[status],
                    "account": None if int(account, 16) == 0 else to_checksum_address(account),
                    "deadline": deadline or None,
                    "contentDigest": None,
                    "metadataDigest": None if metadata == b"\x00" * 32 else "0x" + metadata.hex(),
                }
            )
        if any(r["status"] == "minted" for r in out):
            digests = self.content_digests(movie_id, {r["segment"] for r in out if r["status"] == "minted"})
            for r in out:
                if r["status"] == "minted":
                    r["contentDigest"] = digests.get(r["segment"])
        return out

    def content_digests(self, movie_id: int, wanted: set[int] | None = None) -> dict[int, str]:
        """{segment: contentDigest} of the movie's minted segments, from their `SegmentMinted` logs.

        Logs are scanned once from the movie's creation block, then only the new blocks: the scan remembers the
        last block it read and that block's hash, and starts over when the hash changed (a reorg, or a test
        chain's evm_revert)."""
        key = (self.rpc_url, self.contract_address, movie_id)
        with _MINTED_LOCK:
            state = _MINTED_LOGS.get(key)
        if state is not None:
            try:
                block = self.w3.eth.get_block(state["block"])
            except BlockNotFound:  # the chain is shorter now (reverted)
                block = None
            if block is None or bytes(block["hash"]) != state["hash"]:
                state = None
        if state is None or (wanted is not None and not wanted <= state["digests"].keys()):
            latest = self.w3.eth.get_block("latest")
            start = state["block"] + 1 if state else int(self.call("movie", movie_id)[_movie_field("createdBlock")])
            digests = dict(state["digests"]) if state else {}
            event = self.contract.events.SegmentMinted
            for log in self._logs(event, {"movieId": movie_id}, start, int(latest["number"])):
                digests[int(log["args"]["segment"])] = "0x" + bytes(log["args"]["contentDigest"]).hex()
            state = {"block": int(latest["number"]), "hash": bytes(latest["hash"]), "digests": digests}
            with _MINTED_LOCK:
                _MINTED_LOGS[key] = state
        return dict(state["digests"])

    def logs(self, event, filters: dict | None = None, start: int = 0, end: int | None = None) -> list:
        """The contract's `event` logs matching `filters`, oldest first: from `start` (a movie's creation block,
        say), never before the contract's deployment block, to `end` (default: the latest block)."""
        end = int(self.w3.eth.block_number) if end is None else int(end)
        found = self._logs(event, filters or {}, max(int(start), self.deploy_block), end)
        return sorted(found, key=lambda e: (e["blockNumber"], e["logIndex"]))

    def _logs(self, event, filters: dict, start: int, end: int) -> list:
        """event.get_logs over [start, end]; a node that refuses the range (public RPCs cap it) gets halves."""
        if start > end:
            return []
        try:
            return list(event.get_logs(argument_filters=filters, from_block=start, to_block=end))
        except ChainUnavailable:
            raise
        except Exception:
            if end - start < 1_000:
                raise
            mid = (start + end) // 2
            return self._logs(event, filters, start, mid) + self._logs(event, filters, mid + 1, end)

    # -- the lottery draw

    def draw_status(self, movie_id: int) -> dict:
        """Where a lottery's draw stands, for an entrant's app that records it as soon as it can.

        `state` is one of: "not a lottery", "entries open", "ready to close" (deadline passed, closeEntries not
        sent), "waiting" (the draw block is not mined yet: `blocks_left`), "readable" (the winners are known from
        the draw block's hash and shown by the views, but not recorded: send `draw` now, before
        `readable_until`), "recorded". `draw_block` is the block whose hash is (or will be) the seed: B, or
        B + k * REDRAW_INTERVAL when nobody recorded an earlier one in time."""
        info = self.movie(movie_id)
        latest = self.w3.eth.block_number
        out: dict[str, Any] = {
            "movie_id": movie_id,
            "state": "",
            "commit_block": int(info["commitBlock"]),
            "draw_block": int(info["drawBlock"]),
            "current_block": latest,
            "seed": info["seed"] if int(info["seed"], 16) else None,
            "seed_recorded": bool(info["seedRecorded"]),
            "blocks_left": None,
            "readable_until": None,
            "history_contract": self.has_block_history(),
        }
        if info["mintMode"] != "lottery":
            out["state"] = "not a lottery"
        elif not info["commitBlock"]:
            out["state"] = "entries open" if self.timestamp() <= int(info["entryDeadline"]) else "ready to close"
        elif info["seedRecorded"]:
            out["state"] = "recorded"
        elif out["seed"]:
            out["state"] = "readable"
            out["readable_until"] = out["draw_block"] + (HISTORY_WINDOW if out["history_contract"] else 256)
        else:
            out["state"] = "waiting"
            out["blocks_left"] = out["draw_block"] + 1 - latest
        return out

    def has_block_history(self) -> bool:
        """Whether the chain has EIP-2935's history contract (block hashes readable for 8191 blocks, not 256)."""
        return len(self.w3.eth.get_code(HISTORY_CONTRACT)) > 0

    def record_draw(
        self, movie_id: int, account=None, *, sender: str | None = None, wait: bool = False, timeout: float = 600.0
    ) -> dict:
        """Records a lottery's seed (`draw`) as soon as the draw block exists: what every entrant's app should do,
        since a winner's win is only safe once recorded. Signs with `account` (a LocalAccount from a keystore)
        or sends from `sender` (an account the node holds unlocked: anvil). With `wait`, waits for the draw
        block first. Returns draw_status() after it, with "tx" when this call sent the transaction."""
        status = self.draw_status(movie_id)
        if status["state"] == "waiting" and wait:
            self.wait_for_block(status["draw_block"] + 1, timeout=timeout)
            status = self.draw_status(movie_id)
        if status["state"] != "readable":
            return status
        if account is None and sender is None:
            raise MovieMinterError(
                "record_draw needs an account to send from",
                hint="pass a keystore account, or `sender` on a local chain",
            )
        try:
            if account is not None:
                receipt = self.wait(self.send("draw", [movie_id], account))
            else:
                assert sender is not None  # checked above
                receipt = self.transact("draw", [movie_id], sender)
        except ChainError as exc:
            if exc.error != "AlreadyDrawn":  # someone else recorded it first: the same seed, nothing lost
                raise
            return self.draw_status(movie_id)
        status = self.draw_status(movie_id)
        status["tx"] = "0x" + bytes(receipt["transactionHash"]).hex()
        return status

    def _output_components(self, function: str) -> list[dict]:
        for item in self.artifact["abi"]:
            if item.get("name") == function and item["type"] == "function":
                return item["outputs"][0]["components"]
        raise KeyError(function)

    def events(self, receipt) -> list[dict]:
        """The MovieMinter events in a receipt, decoded: [{'event': name, 'args': {...}}]."""
        out = []
        contract = self.contract
        for log in receipt["logs"]:
            if log["address"] != self.contract_address:
                continue
            for event in contract.all_events():
                try:
                    decoded = event.process_log(log)
                except Exception:
                    continue
                out.append({"event": decoded["event"], "args": dict(decoded["args"])})
                break
        return out

    # -- writes

    def build_tx(self, function: str, args: list | tuple, sender: str, value: int = 0) -> dict:
        """An unsigned transaction for the browser wallet (eth_sendTransaction params), gas estimated.

        No nonce and no fee fields: the wallet fills them. An estimate that reverts raises ChainError saying why.
        """
        try:
            sender = to_checksum_address(sender)
            data = self.contract.encode_abi(function, list(args))
        except (ValueError, TypeError, OverflowError) as exc:  # an address or a number the ABI cannot take
            raise ChainError(
                f"cannot prepare {function}: {exc}", "check the address (0x + 40 hex digits) and the numbers given"
            ) from None
        tx = {"from": sender, "to": self.contract_address, "value": value, "data": data}
        try:
            gas = self.w3.eth.estimate_gas(cast(TxParams, tx))
        except REVERT_ERRORS as exc:
            raise revert_error(exc) from None
        except OSError as exc:
            raise self._unreachable(exc) from None
        return {
            "from": sender,
            "to": self.contract_address,
            "data": tx["data"],
            "value": hex(value),
            "gas": hex(gas + gas // 5 + 10_000),
            "chainId": hex(self.chain_id),
        }

    def send(self, function: str, args: list | tuple, account, value: int = 0) -> str:
        """Signs with a LocalAccount (from an encrypted keystore) and sends; returns the tx hash (hex)."""
        return self.sign_and_send(self.build_tx(function, args, account.address, value), account)

    def sign_and_send(self, tx: dict, account) -> str:
        """Signs a prepared transaction (`build_tx`'s shape) with `account`, as a browser wallet would: the nonce
        and the fees are filled here. Returns the tx hash (hex)."""
        if tx.get("from") and str(tx["from"]).lower() != account.address.lower():
            raise MovieMinterError(
                f"the prepared transaction is from {tx['from']}, not from the keystore's {account.address}",
                hint="sign with the keystore of the wallet the transaction was prepared for",
            )
        full = {
            "data": tx["data"],
            "value": _int(tx.get("value", 0)),
            "gas": _int(tx["gas"]),
            "chainId": _int(tx.get("chainId", self.chain_id)),
            "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
        }
        if tx.get("to"):
            full["to"] = tx["to"]
        tip = self.w3.eth.max_priority_fee
        full["maxPriorityFeePerGas"] = tip
        full["maxFeePerGas"] = 2 * self.w3.eth.get_block("latest").get("baseFeePerGas", 0) + tip
        signed = account.sign_transaction(full)
        return "0x" + self.w3.eth.send_raw_transaction(signed.raw_transaction).hex().removeprefix("0x")

    def signer(self, account) -> Callable[[dict], str]:
        """A headless signer for the job runner: prepared tx -> tx hash, signed by `account`."""
        return lambda tx: self.sign_and_send(tx, account)

    def wait(self, tx_hash: Any, timeout: float = 120.0) -> Any:
        """The receipt; a reverted transaction raises ChainError with the decoded reason."""
        if not isinstance(tx_hash, (str, bytes)) and "transactionHash" in tx_hash:  # already a receipt
            tx_hash = tx_hash["transactionHash"]
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.2)
        except TimeExhausted:
            raise ChainTimeout(
                f"transaction {tx_hash} was not mined within {timeout:.0f} s",
                hint="check the explorer; it may need a higher fee",
            ) from None
        if receipt["status"] != 1:
            raise self._replay_failure(tx_hash, receipt)
        return receipt

    def _replay_failure(self, tx_hash: Any, receipt) -> ChainError:
        tx = self.w3.eth.get_transaction(tx_hash)
        try:
            self.w3.eth.call(
                {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]},
                receipt["blockNumber"] - 1,
            )
        except REVERT_ERRORS as exc:
            return revert_error(exc)
        return ChainError(f"transaction {tx_hash} reverted", "see the transaction on the explorer")

    def deploy(self, account=None) -> str:
        """Deploys MovieMinter from `account` (a LocalAccount), or from the node's first unlocked account
        (anvil). Sets and returns the contract address."""
        factory = self.w3.eth.contract(abi=self.artifact["abi"], bytecode=self.artifact["bytecode"])
        data = factory.constructor().data_in_transaction
        tx_hash: Any  # HexBytes from the node, a 0x-hex str from sign_and_send
        if account is None:
            sender = self.w3.eth.accounts[0]
            tx_hash = self.w3.eth.send_transaction({"from": sender, "data": data})
        else:
            gas = self.w3.eth.estimate_gas({"from": account.address, "data": data})
            tx_hash = self.sign_and_send(
                {"data": data, "value": "0x0", "gas": hex(gas + gas // 10), "chainId": hex(self.chain_id)}, account
            )
        receipt = self.wait(tx_hash)
        self.contract_address = to_checksum_address(receipt["contractAddress"])
        self.deploy_block = int(receipt["blockNumber"])
        return self.contract_address

    def transact(self, function: str, args: list | tuple, sender: str, value: int = 0) -> dict:
        """Sends from an account the node holds unlocked (anvil's dev accounts) and waits: demo and tests."""
        tx = self.build_tx(function, args, sender, value)
        tx_hash = self.w3.eth.send_transaction(
            cast(TxParams, {k: tx[k] for k in ("from", "to", "data", "value", "gas")})
        )
        return self.wait(tx_hash)

    def explain_revert(self, error: Any) -> str:
        return explain_revert(error)

    # -- helpers others call

    def movie_id_from_receipt(self, receipt) -> int:
        """The id createMovie returned, from its receipt (or its transaction hash)."""
        if isinstance(receipt, (str, bytes)):
            receipt = self.wait(receipt)
        for event in self.events(receipt):
            if event["event"] == "MovieCreated":
                return event["args"]["movieId"]
        raise MovieMinterError("no MovieCreated event in this receipt", hint="was it a createMovie transaction?")

    def timestamp(self) -> int:
        """The latest block's timestamp (chain time: deadlines are compared with it, not the wall clock)."""
        return self.w3.eth.get_block("latest")["timestamp"]

    def token_id(self, movie_id: int, segment: int) -> int:
        return movie_id << 32 | segment

    def wait_for_block(self, number: int, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while self.w3.eth.block_number < number:
            if time.monotonic() > deadline:
                raise MovieMinterError(f"block {number} was not reached", hint="is the chain producing blocks?")
            time.sleep(1.0)
