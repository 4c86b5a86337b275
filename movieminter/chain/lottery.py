"""The lottery's math in Python, identical to the contract (contracts/SwapOrNot.sol, MovieMinter.draw).

drawBlock = commitBlock + k * REDRAW_INTERVAL: B (fixed by closeEntries) unless nobody recorded the seed while
            B's hash was readable; then the next block of that ladder whose hash is readable when it is recorded
seed      = keccak256(abi.encode(blockhash(drawBlock), movieId))
permute   = swap-or-not shuffle, ROUNDS rounds; round r:
              pivot    = keccak256(abi.encode(seed, r)) mod n
              flip     = (pivot + n - index) mod n
              position = max(index, flip)
              swap if bit 0 of keccak256(abi.encode(seed, r, position)) is 1: index = flip
winner(s) = entrants[permute(seed, s, n)] for segment s < n entrants; segments s >= n have no winner.

`verify_draw(client, movie_id)` recomputes a movie's draw from chain data and compares it with the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import keccak

from movieminter.errors import MovieMinterError

ROUNDS = 24
REDRAW_INTERVAL = 8192  # MovieMinter.REDRAW_INTERVAL
HISTORY_WINDOW = 8191  # EIP-2935: block hashes readable on chain for 8191 blocks (blockhash(): 256)
BLOCKHASH_WINDOW = 256


def draw_block_at(commit_block: int, block_number: int) -> int:
    """The draw block a transaction in block `block_number` would use if the seed is not recorded yet (as
    MovieMinter._drawCandidate): round k = (block_number - 1 - B) // REDRAW_INTERVAL, block B + k * interval."""
    if block_number <= commit_block:
        return commit_block
    return commit_block + (block_number - 1 - commit_block) // REDRAW_INTERVAL * REDRAW_INTERVAL


def hash_readable(draw_block: int, block_number: int, history: bool) -> bool:
    """Whether a transaction in `block_number` can read `draw_block`'s hash (blockhash(), or EIP-2935)."""
    age = block_number - draw_block
    return 1 <= age <= (HISTORY_WINDOW if history else BLOCKHASH_WINDOW)


def _word(value: int | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.to_bytes(32, "big")


def lottery_seed(block_hash: bytes, movie_id: int) -> bytes:
    """The draw's seed from the committed block's hash (MovieMinter.lotterySeed)."""
    return keccak(_word(_as_bytes32(block_hash)) + _word(movie_id))


def _as_bytes32(value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = bytes.fromhex(value.removeprefix("0x"))
    if len(value) != 32:
        raise ValueError("expected 32 bytes")
    return bytes(value)


def _round(seed: bytes, r: int, index: int, n: int) -> tuple[int, int, int, bool]:
    pivot = int.from_bytes(keccak(seed + _word(r)), "big") % n
    flip = (pivot + n - index) % n
    position = max(index, flip)
    swap = keccak(seed + _word(r) + _word(position))[31] & 1 == 1
    return pivot, flip, position, swap


def _pivots(seed: bytes, n: int, rounds: int) -> list[int]:
    return [int.from_bytes(keccak(seed + _word(r)), "big") % n for r in range(rounds)]


def _permute(seed: bytes, index: int, n: int, pivots: list[int]) -> int:
    if not 0 <= index < n:
        raise ValueError(f"index {index} is outside 0..{n - 1}")
    for r, pivot in enumerate(pivots):
        flip = (pivot + n - index) % n
        if keccak(seed + _word(r) + _word(max(index, flip)))[31] & 1:
            index = flip
    return index


def permute(seed: bytes | str, index: int, n: int, rounds: int = ROUNDS) -> int:
    """Where the permutation keyed by `seed` sends `index` (0 <= index < n)."""
    seed = _as_bytes32(seed)
    return _permute(seed, index, n, _pivots(seed, n, rounds) if n > 0 else [])


def permutation(seed: bytes | str, n: int, count: int | None = None, start: int = 0) -> list[int]:
    """permute(seed, i, n) for i in start..start+count-1 (default: to n), like the contract's `permutation`
    view; the round pivots are computed once."""
    seed = _as_bytes32(seed)
    pivots = _pivots(seed, n, ROUNDS) if n > 0 else []
    end = n if count is None else min(start + count, n)
    return [_permute(seed, i, n, pivots) for i in range(start, end)]


def winners(seed: bytes | str, entrants: list[str], segment_count: int) -> list[str | None]:
    """The winner of each segment (None: no winner, the segment is open after the draw)."""
    indices = permutation(seed, len(entrants), segment_count)
    return [entrants[indices[s]] if s < len(indices) else None for s in range(segment_count)]


def explain(
    seed: bytes | str,
    entrants: list[str],
    segment_count: int,
    segments: list[int] | None = None,
    *,
    block_number: int | None = None,
    block_hash: str | None = None,
    movie_id: int | None = None,
    commit_block: int | None = None,
) -> str:
    """Step-by-step text anyone can redo by hand (with any keccak256 tool) for the chosen segments."""
    seed = _as_bytes32(seed)
    n = len(entrants)
    lines = ["How the lottery was drawn", ""]
    if block_hash is not None:
        if commit_block is not None and block_number is not None and commit_block != block_number:
            rounds = (block_number - commit_block) // REDRAW_INTERVAL
            lines += [
                f"1. Entries closed and committed to block {commit_block}. Nobody recorded the seed while its "
                f"hash was readable, so the draw moved {rounds} x {REDRAW_INTERVAL} blocks on, to block "
                f"{block_number} (a block fixed when the entries closed); its hash (read from the chain: "
                f"eth_getBlockByNumber) is {block_hash}."
            ]
        else:
            lines += [
                f"1. Entries closed and committed to block {block_number}; its hash (read from the chain: "
                f"eth_getBlockByNumber) is {block_hash}."
            ]
        lines += [f"2. seed = keccak256(abi.encode(blockHash, movieId={movie_id}))", f"        = 0x{seed.hex()}"]
    else:
        lines += [f"seed = 0x{seed.hex()}"]
    lines += ["", f"{n} entrants, in entry order:"]
    lines += [f"  #{i}: {a}" for i, a in enumerate(entrants)]
    lines += [
        "",
        f"Segment s (< {n}) goes to entrant #permute(s); segments {n} and above have no winner and are open to anyone.",
        f"permute runs {ROUNDS} rounds of a swap-or-not shuffle; round r:",
        "  pivot = keccak256(abi.encode(seed, r)) mod n",
        "  flip = (pivot + n - index) mod n",
        "  swap when the last bit of keccak256(abi.encode(seed, r, max(index, flip))) is 1",
        "(abi.encode writes each number as a 32-byte big-endian word; the hashes are read as big-endian integers.)",
        "",
    ]
    chosen = range(segment_count) if segments is None else segments
    for s in chosen:
        if s >= n:
            lines.append(f"Segment {s}: no winner ({n} entrants), open after the draw.")
            continue
        lines.append(f"Segment {s}: start at index {s}")
        index = s
        for r in range(ROUNDS):
            pivot, flip, position, swap = _round(seed, r, index, n)
            after = flip if swap else index
            lines.append(
                f"  round {r:2d}: pivot {pivot}, flip {flip}, position {position}, bit {int(swap)} -> index {after}"
            )
            index = after
        lines.append(f"  winner: entrant #{index} = {entrants[index]}")
    return "\n".join(lines)


@dataclass
class DrawCheck:
    """The result of `verify_draw`: `ok` when every segment's winner matches the contract and the draw used the
    block the rules give."""

    movie_id: int
    ok: bool
    seed: str
    block_number: int  # the draw block: its hash is the seed's source
    block_hash: str
    entrants: list[str]
    expected: list[str | None]
    onchain: list[str | None]
    mismatches: list[int] = field(default_factory=list)
    text: str = ""
    commit_block: int = 0  # B, fixed by closeEntries
    recorded: bool = False  # False: readable now and shown by the views, but nobody recorded it yet
    recorded_in_block: int | None = None
    problems: list[str] = field(default_factory=list)


def verify_draw(client, movie_id: int, segments_to_explain: list[int] | None = None) -> DrawCheck:
    """Recomputes a lottery's draw from chain data and compares it with the contract: the draw block must be
    B + k * REDRAW_INTERVAL, and a recorded seed must have been recorded while that block's hash was readable
    (its Drawn event, found in the bounded range after the draw block); the seed comes from that block's hash
    as the chain (not the contract) reports it; every segment's winner is recomputed from the entrant list and
    compared with the contract's winnersOf. Works before the seed is recorded too (the views already show it)."""
    info = client.movie(movie_id)
    if info["mintMode"] != "lottery":
        raise MovieMinterError(
            f"movie {movie_id} is a {info['mintMode']} movie, not a lottery",
            hint="only lottery movies have a draw to verify",
        )
    if int(info["seed"], 16) == 0:
        raise MovieMinterError(
            f"the lottery of movie {movie_id} has not been drawn yet",
            hint="wait for closeEntries and the draw block (movieminter lottery draw MOVIE --wait)",
        )
    commit_block = int(info["commitBlock"])
    block_number = int(info["drawBlock"])
    recorded = bool(info["seedRecorded"])
    problems = []
    if block_number < commit_block or (block_number - commit_block) % REDRAW_INTERVAL:
        problems.append(f"draw block {block_number} is not {commit_block} + k x {REDRAW_INTERVAL}")
    block = client.w3.eth.get_block(block_number)
    block_hash = "0x" + bytes(block["hash"]).hex()
    seed = lottery_seed(bytes(block["hash"]), movie_id)
    recorded_in = None
    if recorded:
        last = min(block_number + REDRAW_INTERVAL, client.w3.eth.block_number)
        logs = client.contract.events.Drawn.get_logs(
            argument_filters={"movieId": movie_id}, from_block=block_number + 1, to_block=last
        )
        if len(logs) != 1:
            problems.append(
                f"expected one Drawn event in blocks {block_number + 1}..{block_number + REDRAW_INTERVAL}, "
                f"found {len(logs)}"
            )
        else:
            args = logs[0]["args"]
            recorded_in = int(logs[0]["blockNumber"])
            if int(args["commitBlock"]) != block_number or bytes(args["blockHash"]) != bytes(block["hash"]):
                problems.append("the Drawn event names another block or hash than the chain's")
            if draw_block_at(commit_block, recorded_in) != block_number or not hash_readable(
                block_number, recorded_in, history=True
            ):
                problems.append(
                    f"the seed was recorded in block {recorded_in}, when block {block_number} was not the draw block"
                )
    entrants = list(client.call("entrants", movie_id, 0, info["entrantCount"]))
    count = info["segmentCount"]
    expected = winners(seed, entrants, count)
    onchain = [None if a == "0x" + "00" * 20 else a for a in client.call("winnersOf", movie_id, 0, count)]
    mismatches = [s for s in range(count) if expected[s] != onchain[s]]
    seed_ok = "0x" + seed.hex() == info["seed"]
    ok = not mismatches and seed_ok and not problems
    segs = segments_to_explain if segments_to_explain is not None else list(range(min(count, 3)))
    text = explain(
        seed,
        entrants,
        count,
        segs,
        block_number=block_number,
        block_hash=block_hash,
        movie_id=movie_id,
        commit_block=commit_block,
    )
    summary = ["", "Result:"]
    if recorded:
        summary.append(f"  the seed was recorded in block {recorded_in} (Drawn event); the winners are final")
    else:
        summary.append(
            f"  the seed is not recorded yet: the views compute it from block {block_number}'s hash, and "
            "anyone can record it (movieminter lottery draw MOVIE); the winners are final once recorded"
        )
    summary.append(f"  contract seed {info['seed']} {'==' if seed_ok else '!='} recomputed seed 0x{seed.hex()}")
    for s in range(count):
        mark = "ok" if s not in mismatches else "MISMATCH"
        summary.append(f"  segment {s}: recomputed {expected[s] or 'open'}, contract {onchain[s] or 'open'}  {mark}")
    summary += [f"  PROBLEM: {p}" for p in problems]
    summary.append(
        "VERIFIED: the contract's winners are the keyed permutation of the entrants."
        if ok
        else "NOT VERIFIED: see the mismatches above."
    )
    return DrawCheck(
        movie_id,
        ok,
        "0x" + seed.hex(),
        block_number,
        block_hash,
        entrants,
        expected,
        onchain,
        mismatches,
        text + "\n" + "\n".join(summary),
        commit_block,
        recorded,
        recorded_in,
        problems,
    )
