"""The director's side: create a movie from a manifest and run its allowlist.

Shared by the studio page's routes (routes_director), `movieminter director ...`
(director_cli) and the demo. Every transaction is prepared here unsigned; the
browser wallet signs it, or the CLI signs it with an encrypted keystore. No key
ever reaches this module. Following the work (lottery, activity) is in
movieminter.app.activity.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from eth_typing import ChecksumAddress

from movieminter.errors import MovieMinterError

MAX_SEGMENTS = 100_000  # an allowlist range without a known movie is refused beyond this
BPS = 10_000


class DirectorError(MovieMinterError, status=400): ...


class InvalidManifest(DirectorError, status=422):
    """A manifest with problems, each with its JSON pointer and a hint."""

    def __init__(self, problems: list[dict]):
        super().__init__("The manifest is not valid.", hint="Fix the problems listed, then try again.")
        self.problems = problems

    def to_dict(self) -> dict:
        return {**super().to_dict(), "error": "ManifestError", "problems": self.problems}


# ------------------------------------------------------------ manifest steps
def validate(manifest_source) -> dict:
    """Validate a manifest (path, bytes, text or dict) and summarise it for the studio."""
    from movieminter.manifest import ManifestError, load_manifest, manifest_digest

    if isinstance(manifest_source, str) and manifest_source.lstrip().startswith("{"):
        manifest_source = manifest_source.encode()
    try:
        manifest = load_manifest(manifest_source)
    except ManifestError as exc:
        return {
            "ok": False,
            "problems": [{"pointer": p.pointer, "message": p.message, "hint": p.hint} for p in exc.problems],
        }
    movie = manifest["movie"]
    return {
        "ok": True,
        "problems": [],
        "manifest": manifest,
        "digest": "0x" + manifest_digest(manifest).hex(),
        "title": movie["title"],
        "segment_count": len(manifest["segments"]),
        "fps": movie["fps"],
        "duration": sum(s["frame_count"] for s in manifest["segments"]) / movie["fps"],
        "segments": [
            {"index": s["index"], "title": s.get("title", ""), "frame_count": s["frame_count"]}
            for s in manifest["segments"]
        ],
    }


def checked_manifest(source) -> dict:
    """The manifest (dict or JSON text), or InvalidManifest listing every problem."""
    result = validate(source if isinstance(source, dict) else source.encode())
    if not result["ok"]:
        raise InvalidManifest(result["problems"])
    return result["manifest"]


def pin_manifest(store, manifest: dict) -> dict:
    """Pin the canonical JSON of the manifest; the chain records its CID's digest."""
    from movieminter.ipfs.cid import cid_to_digest
    from movieminter.manifest import canonical_json

    cid = store.add_bytes(canonical_json(manifest))
    store.pin(cid)
    return {"cid": cid, "digest": "0x" + cid_to_digest(cid).hex()}


@dataclass
class MovieTerms:
    """Everything createMovie needs besides the manifest."""

    mode: str = "lottery"
    creator: str = ""
    director: str = ""
    ticket_price_wei: int = 10**15
    creator_bps: int = 3000
    director_bps: int = 2000
    minters_bps: int = 5000
    royalty_bps: int = 500
    entry_seconds: int = 3600  # lottery entries stay open this long
    claim_window_seconds: int = 7 * 24 * 3600
    entry_fee_wei: int = 0
    merkle_root: str = "0x" + "00" * 32
    max_claims: int = 1  # open claims one address may hold at once (the contract allows 1..8)

    def check(self) -> None:
        from eth_utils import is_address

        from movieminter.chain.client import MINT_MODES

        if self.mode not in MINT_MODES:
            raise DirectorError(f"Unknown mint mode {self.mode!r}.", hint="Use open, allowlist or lottery.")
        if self.creator_bps + self.director_bps + self.minters_bps != BPS:
            raise DirectorError(
                f"Revenue shares add up to {(self.creator_bps + self.director_bps + self.minters_bps) / 100:g}%, not 100%.",
                hint="Creator + director + minters must be 100% (e.g. 30 / 20 / 50).",
            )
        if not 0 <= self.royalty_bps <= 1000:
            raise DirectorError("The royalty must be between 0 and 10%.", hint="Try 5%.")
        if self.ticket_price_wei < 0 or self.entry_fee_wei < 0:
            raise DirectorError("Prices cannot be negative.", hint="Use 0 for free.")
        if self.claim_window_seconds <= 0:
            raise DirectorError("The mint window must be longer than zero.", hint="e.g. 7 days.")
        if not 1 <= self.max_claims <= 8:
            raise DirectorError(
                "Each wallet may hold 1 to 8 open claims at once.",
                hint="1 keeps one wallet from reserving every segment; raise it for small crews.",
            )
        if self.mode == "lottery" and self.entry_seconds <= 0:
            raise DirectorError("Lottery entries must stay open for some time.", hint="e.g. 24 hours.")
        for role in ("creator", "director"):
            if not is_address(getattr(self, role)):
                raise DirectorError(
                    f"The {role} address {getattr(self, role)!r} is not an Ethereum address.",
                    hint="0x followed by 40 hex digits, or leave it empty to use your wallet.",
                )


def create_movie_call(
    manifest: dict, manifest_digest_hex: str, terms: MovieTerms, now: int | None = None
) -> tuple[str, list]:
    """(function, args) for createMovie."""
    from movieminter.chain.client import MovieConfig

    terms.check()
    now = int(now if now is not None else time.time())
    lottery = terms.mode == "lottery"
    as_is = ("creator", "director", "creator_bps", "director_bps", "minters_bps", "royalty_bps", "max_claims")
    config = MovieConfig(
        manifest_digest=manifest_digest_hex,
        segment_count=len(manifest["segments"]),
        mint_mode=terms.mode,
        entry_deadline=now + terms.entry_seconds if lottery else 0,
        claim_window=terms.claim_window_seconds,
        ticket_price=terms.ticket_price_wei,
        entry_fee=terms.entry_fee_wei if lottery else 0,
        allowlist_root=terms.merkle_root,
        **{name: getattr(terms, name) for name in as_is},  # the terms' fields of the same name and unit
    )
    return "createMovie", [config.as_tuple()]


def import_deforum_segment(
    settings: str, manifest_source=None, at: int | None = None, title: str | None = None
) -> dict:
    """A manifest segment from a Deforum settings file's text (the .txt Deforum saves, or the API's JSON),
    for the studio's segment table: `at` is where it goes (default: after the last segment). With the
    movie's manifest, only what differs from its defaults is kept. {segment, notes}; a ManifestError lists
    what cannot become a segment."""
    from movieminter.manifest.deforum import import_deforum_report
    from movieminter.manifest.problems import ManifestError, Problem
    from movieminter.manifest.validate import parse_json_text

    data = parse_json_text(settings, "the Deforum settings file")  # text only: never read as a path
    if not isinstance(data, dict):  # (a JSON string would be taken for a file name by the importer)
        raise ManifestError(
            [Problem("", "a Deforum settings file is a JSON object", "choose the settings .txt Deforum saved")],
            "the Deforum settings file",
        )
    manifest = checked_manifest(manifest_source) if manifest_source else None
    segs = manifest["segments"] if manifest else []
    index = len(segs) if at is None else at
    if not 0 <= index <= len(segs):
        raise DirectorError(f"There is no segment {index} to replace.", hint=f"Pick 0..{max(len(segs) - 1, 0)}.")
    start = sum(s["frame_count"] for s in segs[:index])
    segment, notes = import_deforum_report(data, manifest=manifest, index=index, start_frame=start, title=title)
    return {"segment": segment, "notes": notes}


def chain_clock(chain, sample: int = 64) -> dict:
    """The chain's head (number, timestamp) and its block time estimated over the last `sample` blocks,
    for countdowns to a deadline (chain time) and to a block number (blocks x block time)."""
    head = chain.w3.eth.get_block("latest")
    n = min(sample, int(head["number"]))
    seconds = None
    if n:
        old = chain.w3.eth.get_block(int(head["number"]) - n)
        seconds = (int(head["timestamp"]) - int(old["timestamp"])) / n
    return {
        "block": int(head["number"]),
        "timestamp": int(head["timestamp"]),
        # a chain that mines only on demand (anvil) has no steady pace; 12 s is Ethereum's slot time
        "block_seconds": round(seconds, 3) if seconds and seconds > 0 else 12.0,
        "estimated": bool(seconds and seconds > 0),
        "sampled_blocks": n,
    }


def chain_now(chain) -> int:
    """The chain's clock (the latest block's timestamp): deadlines are checked against it, not ours."""
    return int(chain.timestamp())


# ----------------------------------------------------------------- allowlist
def parse_allowlist_csv(text: str, segment_count: int | None = None) -> list[tuple[ChecksumAddress, int]]:
    """(address, segment) pairs from a CSV: `address,segment` per row, where segment may be a number,
    a range `3-5`, a list `2;7`, or `*` (every segment). A header row and `#` comments are skipped."""
    from eth_utils import is_address, to_checksum_address

    out, bad, first, seen = [], [], True, set()
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        row = [c.strip() for c in row]
        if not row or not row[0] or row[0].startswith("#"):
            continue
        if first and not row[0].lower().startswith("0x"):
            first = False
            continue  # the header row
        first = False
        if not is_address(row[0]):
            bad.append(f"line {n}: {row[0]!r} is not an address")
            continue
        spec = row[1] if len(row) > 1 and row[1] else ""
        try:
            segments = _segments(spec, segment_count)
        except ValueError as exc:
            bad.append(f"line {n}: {exc}")
            continue
        for seg in segments:
            pair = (to_checksum_address(row[0]), seg)
            if pair not in seen:
                seen.add(pair)
                out.append(pair)
    if bad:
        raise DirectorError(
            "The allowlist CSV has problems: " + "; ".join(bad[:10]),
            hint="One row per minter: 0x-address,segment (segment: 3, 3-5, 2;7 or *).",
        )
    if not out:
        raise DirectorError("The allowlist is empty.", hint="One row per minter: 0x-address,segment.")
    return out


def _segments(spec: str, segment_count: int | None) -> list[int]:
    if not spec:
        raise ValueError("no segment (the contract allowlists an address for given segments)")
    if spec == "*":
        if segment_count is None:
            raise ValueError("'*' needs the movie's segment count")
        return list(range(segment_count))
    out = []
    for part in spec.split(";"):
        lo, _, hi = part.partition("-")
        if not lo.strip().isdigit() or (hi and not hi.strip().isdigit()):
            raise ValueError(f"{spec!r} is not a segment number, range or list")
        first, last = int(lo), int(hi or lo)
        limit = segment_count if segment_count is not None else MAX_SEGMENTS
        if last >= limit:  # checked before the range is made: `0-99999999999999` is refused, not built
            raise ValueError(f"segment {last} is beyond the movie's {limit} segments")
        if first > last:
            raise ValueError(f"{part!r} is an empty range")
        out += list(range(first, last + 1))
    return out


def build_allowlist(store, pairs: Sequence[tuple[str, int]]) -> dict:
    """The OpenZeppelin StandardMerkleTree of (address, uint256 segment) leaves, pinned as its standard
    JSON dump (the format OpenZeppelin's JS library loads), so each minter's app can fetch its proof."""
    from movieminter.chain.merkle import allowlist_tree

    tree = allowlist_tree(pairs)
    root = hex0x(tree.root)
    proofs = {f"{a}:{s}": [hex0x(x) for x in tree.get_proof(i)] for i, (a, s) in enumerate(pairs)}
    cid = store.add_bytes(json.dumps({**tree.dump(), "proofs": proofs}, indent=1, sort_keys=True).encode())
    store.pin(cid)
    return {"root": root, "proofs_cid": cid, "count": len(pairs), "proofs": proofs}


def hex0x(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value if str(value).startswith("0x") else "0x" + str(value)
