"""Viewers: tickets, the stitched movie, chapters that credit each minter, and
the revenue dashboard (claimable balances). The routes are in routes_viewer.

Playback uses the movie stitched here from the minted segments (media.stitch);
an HLS playlist over IPFS gateway URLs (media.hls) is offered too, for players
that speak HLS natively.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from movieminter.app.errors import NotFound, NoTicket, NotSignedIn
from movieminter.errors import MovieMinterError

PUBLIC_NOTICE = (
    "A ticket unlocks this app's player and pays the creator, the director and the "
    "minters. The segments themselves are on IPFS, and IPFS content is public: anyone "
    "who knows a segment's CID can fetch it from any gateway."
)

_stitch_locks: dict[int, threading.Lock] = {}


# ---------------------------------------------------------------- chain reads
def movie_manifest(ctx, movie_id: int) -> dict:
    """The movie's manifest, fetched by the digest recorded on chain (and checked against that record)."""
    from movieminter.app.rights import movie_manifest as onchain

    return onchain(ctx, movie_id)[0]


def has_ticket(ctx, movie_id: int, address: str) -> bool:
    from eth_utils import is_address, to_checksum_address

    if not is_address(address):
        raise MovieMinterError(f"{address!r} is not an Ethereum address.", hint="Reconnect your wallet.")
    if ctx.settings.community_address:
        # A season pass of the movie's collective counts as a ticket (Community.canWatch: a pass, or hasTicket).
        return bool(ctx.community.can_watch(movie_id, to_checksum_address(address)))
    return bool(ctx.chain.call("hasTicket", movie_id, to_checksum_address(address)))


def minted_segments(ctx, movie_id: int) -> list[dict]:
    """The minted segments from the chain's one-call `segments` view."""
    return [s for s in ctx.chain.segments(movie_id, 0, None) if s["status"] == "minted"]


def awaiting_approval(ctx, movie_id: int, segs: list[dict]) -> dict[int, dict]:
    """The minted segments (of `segs`) that do not play yet: the movie requires the director's approval
    (Community `approvalWindow`) and the segment is unsubmitted, or pending before its auto-approval time.
    {segment: {"review": "unsubmitted" | "pending", "auto_approve_at": unix time or None}}; empty for a movie
    that requires no approval. Chain time decides (`reviewOf`), as for the payout, so the answer changes once
    the director approves or the window ends."""
    from movieminter.chain.community import REVIEW_STATES

    if not ctx.settings.community_address or not segs:
        return {}
    community = ctx.community
    if not int(community.call("approvalWindow", movie_id)):
        return {}
    fns = community.contract.functions
    ids = sorted(s["segment"] for s in segs)
    try:  # one round trip for a movie's ~1,000 segments
        with community.w3.batch_requests() as batch:
            for i in ids:
                batch.add(fns.reviewOf(movie_id, i))
                batch.add(fns.autoApproveAt(movie_id, i))
            results = batch.execute()
    except MovieMinterError:
        raise
    except Exception:  # a node without JSON-RPC batches: one call each
        results = [
            r for i in ids for r in (community.call("reviewOf", movie_id, i), community.auto_approve_at(movie_id, i))
        ]
    out = {}
    for n, i in enumerate(ids):
        review, at = REVIEW_STATES[int(results[2 * n])], int(results[2 * n + 1])
        if review in ("unsubmitted", "pending"):
            out[i] = {"review": review, "auto_approve_at": at if review == "pending" else None}
    return out


def playable_segments(ctx, movie_id: int) -> list[dict]:
    """The minted segments that play: not those awaiting the director's approval."""
    segs = minted_segments(ctx, movie_id)
    held = awaiting_approval(ctx, movie_id, segs)
    return [s for s in segs if s["segment"] not in held]


def awaiting_text(held: dict) -> str:
    """What the chapter list says of a segment held back for approval."""
    from datetime import datetime, timezone

    if held["auto_approve_at"]:
        when = datetime.fromtimestamp(held["auto_approve_at"], timezone.utc).strftime("%Y-%m-%d %H:%M")
        return f"awaiting the director's approval (auto-approved {when} UTC)"
    return "awaiting the director's approval (not submitted for review yet)"


def chapters(ctx, movie_id: int) -> list[dict]:
    """One chapter per segment, crediting its minter (or saying it is still to be made, or that it awaits the
    director's approval: `awaiting` is that text, None for a segment that plays or is not minted)."""
    manifest = movie_manifest(ctx, movie_id)
    fps = manifest["movie"]["fps"]
    segs = minted_segments(ctx, movie_id)
    minters = {s["segment"]: s["account"] for s in segs}
    held = awaiting_approval(ctx, movie_id, segs)
    out, frames = [], 0
    for seg in sorted(manifest["segments"], key=lambda s: int(s["index"])):
        i = int(seg["index"])
        # times from whole frame counts (no drift summing float durations over 1,080 segments)
        start, frames = frames, frames + seg["frame_count"]
        out.append(
            {
                "index": i,
                "title": seg.get("title") or f"Segment {i}",
                "start": round(start / fps, 3),
                "end": round(frames / fps, 3),
                "minted": i in minters,
                "minter": minters.get(i),
                "awaiting": awaiting_text(held[i]) if i in held else None,
            }
        )
    return out


def webvtt_chapters(items: list[dict]) -> str:
    def ts(t: float) -> str:
        ms = int(round(t * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    lines = ["WEBVTT", ""]
    for c in items:
        credit = f"minted by {c['minter']}" if c["minter"] else "not minted yet"
        if c.get("awaiting"):
            credit += f", {c['awaiting']}"
        lines += [f"seg-{c['index']}", f"{ts(c['start'])} --> {ts(c['end'])}", f"{c['title']} ({credit})", ""]
    return "\n".join(lines)


# ----------------------------------------------------------- stitched movie
def segment_files(ctx, movie_id: int, segs: list[dict] | None = None) -> dict[int, Path]:
    """Local copies of the minted segment videos, fetched from the content store by the digest the
    chain recorded (so what plays is what was minted); each is fetched once."""
    from movieminter.ipfs.cid import digest_to_cid

    folder = ctx.settings.path("movies", str(int(movie_id)), "segments")
    out = {}
    for s in minted_segments(ctx, movie_id) if segs is None else segs:
        cid = digest_to_cid(s["contentDigest"])
        path = folder / f"{s['segment']:05d}-{cid}.mp4"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(ctx.store.cat(cid))
            tmp.replace(path)
        out[s["segment"]] = path
    return out


def stitched_movie(ctx, movie_id: int) -> Path:
    """The movie stitched from every minted segment (placeholders for the rest, and for the minted ones that
    await the director's approval), ending with the credits.

    Rebuilt only when the set of minted segments, their approval or the credits changed: the file name carries
    a digest of the minted content digests, the segments held back for approval and the credits."""
    from movieminter.app.community import credits_roll
    from movieminter.media.stitch import stitch_movie

    manifest = movie_manifest(ctx, movie_id)
    segs = minted_segments(ctx, movie_id)
    roll = credits_roll(ctx, movie_id)  # the end credits; a new pass holder or ENS name makes a new cut
    held = sorted(awaiting_approval(ctx, movie_id, segs))  # an approval (or the window ending) makes a new cut
    cut: list = [sorted((s["segment"], s["contentDigest"]) for s in segs), roll]
    if held:  # only then: the key of a movie without approval stays what it was
        cut.append(held)
    key = hashlib.sha256(json.dumps(cut).encode()).hexdigest()[:16]
    folder = ctx.settings.path("movies", str(int(movie_id)))
    out = folder / f"movie-{key}.mp4"
    lock = _stitch_locks.setdefault(int(movie_id), threading.Lock())
    with lock:
        if out.exists():
            return out
        files = segment_files(ctx, movie_id, [s for s in segs if s["segment"] not in held])
        minters = {s["segment"]: s["account"] or "" for s in segs}
        soundtrack = None
        track = manifest["movie"].get("soundtrack")
        if track:  # the manifest pins its soundtrack by CID; fetch it like the segments
            soundtrack = folder / f"soundtrack-{track['cid']}"
            if not soundtrack.exists():
                soundtrack.write_bytes(ctx.store.cat(track["cid"]))
        tmp = folder / f".movie-{key}.part.mp4"
        stitch_movie(
            manifest,
            files,
            tmp,
            minters=minters,
            soundtrack=soundtrack,
            cache_dir=ctx.settings.path("cache", "placeholders"),
            credits=roll,
            awaiting=set(held),
        )
        tmp.replace(out)
        for old in folder.glob("movie-*.mp4"):  # keep only the current cut
            if old != out:
                old.unlink(missing_ok=True)
    return out


def poster_jpg(ctx, movie_id: int) -> Path:
    """The movie's poster: the first frame of its first minted segment's video that plays (not one awaiting the
    director's approval), as a JPEG. The video is the one the chain recorded (fetched by its digest), so the
    still is minted content, not a stand-in."""
    from movieminter.ipfs.cid import digest_to_cid
    from movieminter.media.profile import ffmpeg_exe, run_ffmpeg

    segs = playable_segments(ctx, movie_id)
    if not segs:
        raise NotFound(
            f"No segment of movie {movie_id} is minted (and approved, where the director approves) yet, so it "
            "has no poster.",
            hint="The poster is a still of the first minted segment that plays.",
        )
    first = min(segs, key=lambda s: s["segment"])
    cid = digest_to_cid(first["contentDigest"])
    out = ctx.settings.path("movies", str(int(movie_id))) / f"poster-{first['segment']}-{cid}.jpg"
    if not out.exists():
        video = segment_files(ctx, movie_id, [first])[first["segment"]]
        tmp = out.with_name(f".{out.name}.part.jpg")
        run_ffmpeg(
            [ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-frames:v", "1", "-q:v", "3", str(tmp)],
            what=f"the poster from segment {first['segment']}",
        )
        tmp.replace(out)
    return out


def hls_playlist(ctx, movie_id: int, gateway_url: str) -> str:
    """An HLS playlist whose media are the minted segment videos on an IPFS gateway (`gateway_url`,
    e.g. the app's own /ipfs/ or a public one); byte layouts come from the local copies."""
    from movieminter.ipfs.cid import digest_to_cid
    from movieminter.media.hls import SegmentLayout, build_playlist

    segs = playable_segments(ctx, movie_id)  # awaiting the director's approval: a gap, as unminted
    files = segment_files(ctx, movie_id, segs)
    gateway = gateway_url.rstrip("/") + "/"
    urls = {s["segment"]: gateway + digest_to_cid(s["contentDigest"]) for s in segs}
    layouts = {i: SegmentLayout.of_file(p) for i, p in files.items()}
    return build_playlist(movie_manifest(ctx, movie_id), urls, layouts=layouts)


# ------------------------------------------------------------------ revenue
def revenue(ctx, address: str) -> dict:
    """What `address` can collect: its withdrawable credits, the creator/director shares of movies it
    runs (credited by `collect`), and the minters'-pool share of every segment token it holds."""
    from eth_utils import is_address, to_checksum_address

    from movieminter.chain.client import ChainError

    if not is_address(address):
        raise MovieMinterError(f"{address!r} is not an Ethereum address.", hint="Reconnect your wallet.")
    address = to_checksum_address(address)
    chain = ctx.chain
    out: dict[str, Any] = {
        "address": address,
        "withdrawable_wei": str(chain.call("credits", address)),
        "movies": [],
        "segment_claims": [],
        "segments_held_back": [],  # tokens whose pool share waits for the director's approval (Community)
    }
    total = int(out["withdrawable_wei"])
    # Movies it is the creator or director of (both indexed in MovieCreated).
    roles: dict[int, list[str]] = {}
    for role in ("creator", "director"):
        for log in chain.logs(chain.contract.events.MovieCreated, {role: address}):
            roles.setdefault(int(log["args"]["movieId"]), []).append(role)
    for movie_id in sorted(roles):
        to_creator, to_director = chain.call("collectable", movie_id)
        pending = (to_creator if "creator" in roles[movie_id] else 0) + (
            to_director if "director" in roles[movie_id] else 0
        )
        out["movies"].append({"movie_id": movie_id, "roles": roles[movie_id], "collectable_wei": str(pending)})
        total += pending
    # Segment tokens it holds now: every token ever transferred to it (Transfer logs, `to` indexed),
    # kept if it still owns it. O(tokens received), not O(all segments of all movies).
    received = {log["args"]["tokenId"] for log in chain.logs(chain.contract.events.Transfer, {"to": address})}
    community = ctx.community if ctx.settings.community_address else None
    for token in sorted(received):
        try:
            if chain.call("ownerOf", token) != address:
                continue
        except ChainError as exc:
            if exc.error == "ERC721NonexistentToken":
                continue  # burnt: its director rejected it (Community) and the segment reopened
            raise
        amount = int(chain.call("claimableSegmentRevenue", token))
        claim = {
            "movie_id": token >> 32,
            "segment": token & 0xFFFFFFFF,
            "token_id": str(token),
            "claimable_wei": str(amount),
        }
        if community is not None and not community.call("segmentApproved", token):
            # Waiting for the director's approval: a claim would revert, so it is listed apart, not in the total.
            out["segments_held_back"].append({**claim, "review": community.review_of(token >> 32, token & 0xFFFFFFFF)})
            continue
        out["segment_claims"].append(claim)
        total += amount
    out["total_wei"] = str(total)
    return out


def movie_revenue(ctx, movie_id: int) -> dict:
    """What each wallet can still collect from one movie's ticket sales, in wei (decimal strings): the
    creator's and director's uncollected shares, and per token holder the minters'-pool share of the
    segment tokens it holds. Reads are O(1) in the segment count: the movie, `collectable`, the one-call
    `segments` view, and two log queries (token transfers, revenue claims) from the movie's creation
    block; claimable = accrued per segment - what the token's holders already claimed."""
    chain = ctx.chain
    movie = chain.movie(movie_id)
    per_segment = int(movie["revenuePerSegment"])
    to_creator, to_director = chain.call("collectable", movie_id)
    since = int(movie.get("createdBlock") or 0)

    def of_movie(token) -> bool:
        return int(token) >> 32 == int(movie_id)

    holders: dict[int, str] = {}
    for log in chain.logs(chain.contract.events.Transfer, start=since):
        if of_movie(log["args"]["tokenId"]):
            holders[int(log["args"]["tokenId"]) & 0xFFFFFFFF] = log["args"]["to"]
    claimed: dict[int, int] = {}
    for log in chain.logs(chain.contract.events.SegmentRevenueClaimed, start=since):
        if of_movie(log["args"]["tokenId"]):
            seg = int(log["args"]["tokenId"]) & 0xFFFFFFFF
            claimed[seg] = claimed.get(seg, 0) + int(log["args"]["amount"])
    wallets: dict[str, dict] = {}

    def row(address: str) -> dict:
        return wallets.setdefault(
            address,
            {"address": address, "roles": [], "segments": [], "shares_wei": 0, "segments_wei": 0},
        )

    for role, amount in (("creator", to_creator), ("director", to_director)):
        r = row(movie[role])
        r["roles"].append(role)
        r["shares_wei"] += int(amount)
    unminted, unminted_wei = 0, 0
    for s in chain.segments(movie_id, 0, None):
        i = s["segment"]
        if s["status"] != "minted":
            unminted += 1
            unminted_wei += per_segment  # unminted segments accrue too; their future minter claims it
            continue
        r = row(holders.get(i) or s["account"])
        if "minter" not in r["roles"]:
            r["roles"].append("minter")
        r["segments"].append(i)
        r["segments_wei"] += per_segment - claimed.get(i, 0)
    out = []
    for r in wallets.values():
        total = r["shares_wei"] + r["segments_wei"]
        out.append(
            {**r, "shares_wei": str(r["shares_wei"]), "segments_wei": str(r["segments_wei"]), "total_wei": str(total)}
        )
    out.sort(key=lambda r: (-int(r["total_wei"]), r["address"]))
    return {
        "movie_id": movie_id,
        "tickets_sold": int(movie["ticketsSold"]),
        "ticket_price_wei": str(movie["ticketPrice"]),
        "sales_wei": str(int(movie["ticketsSold"]) * int(movie["ticketPrice"])),
        "per_segment_wei": str(per_segment),
        "wallets": out,
        "unminted_segments": unminted,
        "unminted_wei": str(unminted_wei),
    }


def receipt_status(chain, tx_hash: str) -> dict:
    from web3.exceptions import TransactionNotFound

    if not (tx_hash.startswith("0x") and len(tx_hash) == 66):
        raise MovieMinterError(f"{tx_hash!r} is not a transaction hash.")
    try:
        receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return {"status": "pending"}
    out = {"status": "success" if receipt["status"] == 1 else "reverted", "block_number": receipt["blockNumber"]}
    if receipt["status"] != 1:
        try:
            chain.wait(tx_hash)
        except MovieMinterError as exc:
            out["error"], out["hint"] = exc.message, exc.hint
        return out
    for e in chain.events(receipt):
        if e["event"] == "MovieCreated":
            out["movie_id"] = int(e["args"]["movieId"])
    return out


def require_ticket(ctx, movie_id: int, address: str | None) -> str:
    """The signed-in address, if it holds a ticket for the movie."""
    if not address:
        raise NotSignedIn(
            "Connect and sign in with your wallet first.",
            hint="Click Connect wallet; the app checks the ticket of that address.",
        )
    if not has_ticket(ctx, movie_id, address):
        raise NoTicket(
            f"{address} has no ticket for movie {movie_id}.",
            hint="Click Buy ticket and confirm the transaction in your wallet.",
        )
    return address


def ticket_info(ctx, movie_id: int, address: str | None) -> dict:
    """Price, title, chapters and whether `address` holds a ticket."""
    from movieminter.app.rights import MovieMismatch

    movie = ctx.chain.movie(movie_id)
    try:
        title, items = movie_manifest(ctx, movie_id)["movie"]["title"], chapters(ctx, movie_id)
    except MovieMismatch:  # no ticket is sold for a movie whose record is not its manifest's
        raise
    except MovieMinterError:
        title, items = f"Movie {movie_id}", []
    poster = next((c["index"] for c in items if c["minted"] and not c["awaiting"]), None)
    return {
        "movie_id": movie_id,
        "title": title,
        "director": movie["director"],
        "creator": movie["creator"],
        "runtime_seconds": items[-1]["end"] if items else None,
        "segment_count": int(movie["segmentCount"]),
        "minted_count": sum(c["minted"] for c in items),
        # a still of the first minted segment's video that plays (poster_jpg); none while no segment plays
        "poster_url": f"api/v1/movies/{movie_id}/poster.jpg" if poster is not None else None,
        "poster_segment": poster,
        "price_wei": str(movie["ticketPrice"]),
        "address": address,
        "has_ticket": address is not None and has_ticket(ctx, movie_id, address),
        "chapters": items,
        "public_notice": PUBLIC_NOTICE,
    }
