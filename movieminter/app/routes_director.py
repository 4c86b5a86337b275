"""The director's side: create a movie from a manifest, run its lottery or
allowlist, and follow the work. Also the minters' "what did I win" view.

Module-level functions hold the logic and are shared by the REST routes (the
studio page), `movieminter director ...` (director_cli) and the demo. Every
transaction is prepared here unsigned; the browser wallet signs it, or the CLI
signs it with an encrypted keystore. No key ever reaches this module.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from movieminter.app.params import UINT32_MAX, EthAddress, MovieId, SegmentIndex
from movieminter.errors import MovieMinterError

MODES = {"open": 0, "allowlist": 1, "lottery": 2}
MAX_SEGMENTS = 100_000  # an allowlist range without a known movie is refused beyond this
BPS = 10_000


class DirectorError(MovieMinterError):
    pass


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

        if self.mode not in MODES:
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
    config = MovieConfig(
        manifest_digest=manifest_digest_hex,
        segment_count=len(manifest["segments"]),
        creator=terms.creator,
        director=terms.director,
        mint_mode=terms.mode,
        entry_deadline=now + terms.entry_seconds if lottery else 0,
        claim_window=terms.claim_window_seconds,
        ticket_price=terms.ticket_price_wei,
        entry_fee=terms.entry_fee_wei if lottery else 0,
        creator_bps=terms.creator_bps,
        director_bps=terms.director_bps,
        minters_bps=terms.minters_bps,
        royalty_bps=terms.royalty_bps,
        allowlist_root=terms.merkle_root,
        max_claims=terms.max_claims,
    )
    return "createMovie", [config.as_tuple()]


def chain_now(chain) -> int:
    """The chain's clock (the latest block's timestamp): deadlines are checked against it, not ours."""
    return int(chain.w3.eth.get_block("latest")["timestamp"])


# ----------------------------------------------------------------- allowlist
def parse_allowlist_csv(text: str, segment_count: int | None = None) -> list[tuple[str, int]]:
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


def build_allowlist(store, pairs: list[tuple[str, int]]) -> dict:
    """The OpenZeppelin StandardMerkleTree of (address, uint256 segment) leaves, pinned as its standard
    JSON dump (the format OpenZeppelin's JS library loads), so each minter's app can fetch its proof."""
    from movieminter.chain.merkle import allowlist_tree

    tree = allowlist_tree(pairs)
    root = _hex(tree.root)
    proofs = {f"{a}:{s}": [_hex(x) for x in tree.get_proof(i)] for i, (a, s) in enumerate(pairs)}
    cid = store.add_bytes(json.dumps({**tree.dump(), "proofs": proofs}, indent=1, sort_keys=True).encode())
    store.pin(cid)
    return {"root": root, "proofs_cid": cid, "count": len(pairs), "proofs": proofs}


def _hex(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value if str(value).startswith("0x") else "0x" + str(value)


# ------------------------------------------------------------------ lottery
def lottery_status(chain, movie_id: int) -> dict:
    """Entries, phase and (once drawn) the winners with the verifier's explanation."""
    info = chain.movie(movie_id)
    out = {
        "movie_id": movie_id,
        "mode": info["mintMode"],
        "entrant_count": int(info["entrantCount"]),
        "entry_deadline": int(info["entryDeadline"]),
        "commit_block": int(info["commitBlock"]),
        "seed": info["seed"],
        "claim_deadline": int(info["claimDeadline"]),
    }
    if info["mintMode"] != "lottery":
        out["phase"] = "not a lottery"
        return out
    drawn = int(info["seed"], 16) != 0
    if drawn:
        out["phase"] = "drawn"
    elif out["commit_block"]:
        out["phase"] = f"closed; the draw uses block {out['commit_block']}'s hash"
    elif chain_now(chain) <= out["entry_deadline"]:
        out["phase"] = "entries open"
    else:
        out["phase"] = "entry deadline passed; close the entries"
    if drawn:
        out.update(verify_lottery(chain, movie_id, info))
    return out


def verify_lottery(chain, movie_id: int, info: dict | None = None) -> dict:
    """Winners as the contract reports them, recomputed in Python (chain.lottery), and explained."""
    from movieminter.chain.lottery import verify_draw

    check = verify_draw(chain, movie_id)
    return {
        "winners": check.onchain,
        "recomputed": check.expected,
        "verified": bool(check.ok),
        "explanation": check.text,
        "block_hash": check.block_hash,
    }


# ------------------------------------------------------------------ the work
EVENTS = (
    "MovieCreated",
    "Entered",
    "EntriesClosed",
    "Drawn",
    "SegmentClaimed",
    "SegmentMinted",
    "TicketBought",
    "RevenueCollected",
)


def movie_events(chain, movie_id: int, from_block: int = 0) -> list[dict]:
    """Every event of the movie, oldest first, each with a one-line summary."""
    out = []
    for name in EVENTS:
        event = getattr(chain.contract.events, name)
        for log in event.get_logs(from_block=from_block, argument_filters={"movieId": movie_id}):
            out.append(
                {
                    "event": name,
                    "block": log["blockNumber"],
                    "tx": _hex(log["transactionHash"]),
                    "log_index": log["logIndex"],
                    "args": {k: _plain(v) for k, v in log["args"].items()},
                }
            )
    out.sort(key=lambda e: (e["block"], e["log_index"]))
    for e in out:
        e["summary"] = _summary(e)
    return out


def _plain(v):
    return _hex(v) if isinstance(v, (bytes, bytearray)) else v


def _summary(e: dict) -> str:
    a = e["args"]
    return {
        "MovieCreated": lambda: f"movie created by director {a.get('director')} ({a.get('segmentCount')} segments)",
        "Entered": lambda: f"{a.get('entrant')} entered the lottery (entry #{a.get('index')})",
        "EntriesClosed": lambda: (
            f"entries closed with {a.get('entrantCount')} entrants; draw committed to block {a.get('commitBlock')}"
        ),
        "Drawn": lambda: f"winners drawn from block {a.get('commitBlock')}'s hash",
        "SegmentClaimed": lambda: f"{a.get('claimer')} claimed segment {a.get('segment')}",
        "SegmentMinted": lambda: f"{a.get('minter')} rendered and minted segment {a.get('segment')}",
        "TicketBought": lambda: f"{a.get('buyer')} bought a ticket",
        "RevenueCollected": lambda: (
            f"revenue collected: creator {a.get('creatorAmount')} wei, director {a.get('directorAmount')} wei"
        ),
    }.get(e["event"], lambda: e["event"])()


def activity(chain, movie_id: int, manifest: dict | None = None) -> dict:
    """Who claimed, rendered and minted which segment: the one-call segments view plus events."""
    from movieminter.ipfs.cid import digest_to_cid

    info = chain.movie(movie_id)
    titles = {int(s["index"]): s.get("title", "") for s in (manifest or {}).get("segments", [])}
    segs = []
    for s in chain.segments(movie_id, 0, int(info["segmentCount"])):
        segs.append(
            {
                "index": s["segment"],
                "title": titles.get(s["segment"], ""),
                "status": s["status"],
                "account": s["account"],
                "minter": s["account"] if s["status"] == "minted" else None,
                "claimer": s["account"] if s["status"] in ("claimed", "won") else None,
                "deadline": s["deadline"],
                "content_cid": digest_to_cid(s["contentDigest"]) if s["contentDigest"] else None,
                "metadata_cid": digest_to_cid(s["metadataDigest"]) if s["metadataDigest"] else None,
            }
        )
    movie = {
        "id": movie_id,
        "mode": info["mintMode"],
        "segment_count": int(info["segmentCount"]),
        "creator": info["creator"],
        "director": info["director"],
        "ticket_price": str(info["ticketPrice"]),
        "tickets_sold": int(info["ticketsSold"]),
        "minted_count": sum(s["status"] == "minted" for s in segs),
        "claim_deadline": int(info["claimDeadline"]),
        "manifest_digest": info["manifestDigest"],
    }
    return {"movie": movie, "segments": segs, "events": movie_events(chain, movie_id)}


def render_details(ctx, movie_id: int, segments: list[dict]) -> None:
    """Add who rendered what, beyond the chain: each minted segment's render provenance from its
    metadata (A1111 and Deforum versions, seconds, seed), and this app's own jobs still in progress."""
    for s in segments:
        if s.get("metadata_cid"):
            try:
                prov = json.loads(ctx.store.cat(s["metadata_cid"]))["properties"]["provenance"]
            except Exception:  # metadata on a store this app cannot read: the chain data still stands
                continue
            s["rendered"] = {
                k: prov.get(k) for k in ("render_seconds", "a1111_version", "deforum_version", "seed", "rendered_at")
            }
    try:
        jobs = [j for j in ctx.journal.list(limit=5000) if j.movie_id == movie_id and not j.terminal]
    except Exception:
        jobs = []
    by_segment = {s["index"]: s for s in segments}
    for j in jobs:
        if j.segment in by_segment:
            by_segment[j.segment]["local_job"] = {"id": j.id, "state": j.state, "wallet": j.wallet}


def my_assignments(chain, movie_id: int, address: str) -> list[dict]:
    """Segments reserved for `address` now: "you won segment 12, mint before DATE"."""
    out = []
    for s in chain.segments(movie_id, 0, None):
        if s["account"] and s["account"].lower() == address.lower() and s["status"] in ("won", "claimed"):
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(s["deadline"])) if s["deadline"] else None
            verb = "won" if s["status"] == "won" else "claimed"
            out.append(
                {
                    "segment": s["segment"],
                    "status": s["status"],
                    "deadline": s["deadline"],
                    "deadline_utc": when,
                    "message": f"You {verb} segment {s['segment']}" + (f": mint before {when}." if when else "."),
                }
            )
    return out


# ------------------------------------------------------------------ router
class ManifestBody(BaseModel):
    manifest: dict | str


class PreviewBody(ManifestBody):
    segment: int = Field(0, ge=0, le=UINT32_MAX)


class CreateBody(BaseModel):
    manifest: dict | str
    sender: EthAddress
    mode: str = "lottery"
    creator: EthAddress | None = None
    director: EthAddress | None = None
    ticket_price_wei: int = 10**15
    creator_bps: int = 3000
    director_bps: int = 2000
    minters_bps: int = 5000
    royalty_bps: int = 500
    entry_seconds: int = 3600
    claim_window_seconds: int = 7 * 24 * 3600
    entry_fee_wei: int = 0
    max_claims: int = Field(1, ge=1, le=8)
    allowlist_csv: str | None = None


class SenderBody(BaseModel):
    sender: EthAddress


class PrepareBody(SenderBody):
    start: int = Field(0, ge=0, le=UINT32_MAX)
    count: int = Field(200, ge=1, le=500)  # a block holds ~600 segments' worth of storage writes


def build_router(ctx) -> APIRouter:
    from movieminter.app.routes_viewer import jsonable_tx, movie_manifest

    router = APIRouter(tags=["director"])

    def guard(fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except HTTPException:
            raise
        except MovieMinterError as exc:
            raise HTTPException(getattr(exc, "status", 400), detail=exc.to_dict()) from exc

    def load(body_manifest) -> dict:
        result = validate(body_manifest if isinstance(body_manifest, dict) else body_manifest.encode())
        if not result["ok"]:
            raise HTTPException(
                422,
                detail={
                    "error": "ManifestError",
                    "message": "The manifest is not valid.",
                    "hint": "Fix the problems listed, then try again.",
                    "problems": result["problems"],
                },
            )
        return result["manifest"]

    @router.post("/director/validate")
    def validate_route(body: ManifestBody):
        """Validate a manifest: every problem with its JSON pointer and a hint, or a summary."""
        result = validate(body.manifest if isinstance(body.manifest, dict) else body.manifest.encode())
        result.pop("manifest", None)
        return result

    @router.post("/director/previews")
    def previews(body: PreviewBody):
        """Keyframe stills of one segment rendered through A1111 (few steps)."""
        from movieminter.manifest import manifest_digest
        from movieminter.render.previews import keyframe_previews

        manifest = load(body.manifest)
        if not 0 <= body.segment < len(manifest["segments"]):
            raise HTTPException(
                400,
                detail=DirectorError(
                    f"There is no segment {body.segment}.", hint=f"Pick 0..{len(manifest['segments']) - 1}."
                ).to_dict(),
            )
        key = manifest_digest(manifest).hex()[:16]
        out_dir = ctx.settings.path("previews", key, str(int(body.segment)))
        paths = guard(keyframe_previews, ctx.a1111, manifest, int(body.segment), out_dir)
        return {"images": [f"api/v1/director/previews/{key}/{int(body.segment)}/{Path(p).name}" for p in paths]}

    @router.get("/director/previews/{key}/{segment}/{name}")
    def preview_file(key: str, segment: SegmentIndex, name: str):
        # Only names this app wrote: hex key, a number, a plain file name (never a path from the request).
        if not key.isalnum() or "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".png"):
            raise HTTPException(404)
        path = ctx.settings.path("previews") / key / str(int(segment)) / name
        if not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type="image/png")

    @router.post("/director/create/tx")
    def create_tx(body: CreateBody):
        """Pin the manifest (and the allowlist proofs), then the unsigned createMovie tx for the wallet."""
        manifest = load(body.manifest)
        terms = MovieTerms(
            mode=body.mode,
            creator=body.creator or body.sender,
            director=body.director or body.sender,
            ticket_price_wei=body.ticket_price_wei,
            creator_bps=body.creator_bps,
            director_bps=body.director_bps,
            minters_bps=body.minters_bps,
            royalty_bps=body.royalty_bps,
            entry_seconds=body.entry_seconds,
            claim_window_seconds=body.claim_window_seconds,
            entry_fee_wei=body.entry_fee_wei,
            max_claims=body.max_claims,
        )
        guard(terms.check)
        allow = None
        if body.mode == "allowlist":
            if not body.allowlist_csv:
                raise HTTPException(
                    400,
                    detail=DirectorError(
                        "Allowlist mode needs a CSV of addresses.", hint="Choose the allowlist CSV file first."
                    ).to_dict(),
                )
            pairs = guard(parse_allowlist_csv, body.allowlist_csv, len(manifest["segments"]))
            allow = guard(build_allowlist, ctx.store, pairs)
            terms.merkle_root = allow["root"]
            manifest = {**manifest, "allowlist": {"cid": allow["proofs_cid"]}}  # where minters' apps find proofs
        pinned = guard(pin_manifest, ctx.store, manifest)
        fn, args = guard(create_movie_call, manifest, pinned["digest"], terms, now=guard(chain_now, ctx.chain))
        tx = guard(ctx.chain.build_tx, fn, args, body.sender)
        return {
            "tx": jsonable_tx(tx),
            "manifest_cid": pinned["cid"],
            "allowlist": allow and {k: allow[k] for k in ("root", "proofs_cid", "count")},
        }

    @router.post("/director/allowlist")
    def allowlist_route(body: dict):
        """Root and pinned proofs of an allowlist CSV (to check it before creating the movie)."""
        pairs = guard(parse_allowlist_csv, str(body.get("csv", "")), body.get("segment_count"))
        allow = guard(build_allowlist, ctx.store, pairs)
        return {k: allow[k] for k in ("root", "proofs_cid", "count")}

    @router.post("/director/movies/{movie_id}/lottery/{action}/tx")
    def lottery_tx(movie_id: MovieId, action: str, body: SenderBody):
        """Unsigned closeEntries / draw (anyone may send them; the seed cannot be chosen by the sender)."""
        fn = {"close": "closeEntries", "draw": "draw"}.get(action)
        if not fn:
            raise HTTPException(
                404, detail=DirectorError(f"Unknown lottery action {action!r}.", hint="close or draw").to_dict()
            )
        return {"tx": jsonable_tx(guard(ctx.chain.build_tx, fn, [movie_id], body.sender))}

    @router.post("/director/movies/{movie_id}/prepare/tx")
    def prepare_tx(movie_id: MovieId, body: PrepareBody):
        """Unsigned prepareSegments(from, count): the caller pre-pays the segments' digest storage, so each
        minter's mintSegment costs ~34,200 gas less (optional; ~45,000 gas per segment for the caller)."""
        return {
            "tx": jsonable_tx(
                guard(ctx.chain.build_tx, "prepareSegments", [movie_id, body.start, body.count], body.sender)
            )
        }

    @router.get("/director/movies/{movie_id}/lottery")
    def lottery_route(movie_id: MovieId):
        return guard(lottery_status, ctx.chain, movie_id)

    @router.get("/director/movies/{movie_id}/activity")
    def activity_route(movie_id: MovieId):
        try:
            manifest = movie_manifest(ctx, movie_id)
        except MovieMinterError:
            manifest = None  # titles are a nicety; the chain data is the point
        out = guard(activity, ctx.chain, movie_id, manifest)
        render_details(ctx, movie_id, out["segments"])
        return out

    @router.get("/movies/{movie_id}/my-assignments")
    def assignments(movie_id: MovieId, address: str):
        """Segments reserved for `address`, with the date to mint by (for the Minter tab)."""
        return {
            "movie_id": movie_id,
            "address": address,
            "assignments": guard(my_assignments, ctx.chain, movie_id, address),
        }

    return router
