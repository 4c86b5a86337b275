"""Following a movie's work: the lottery (entries, draw, verified winners), who claimed,
rendered and minted which segment, and a minter's own assignments. Shared by the studio's
routes, `movieminter director lottery|status` and the demo."""

from __future__ import annotations

import json
import time

from movieminter.app.director import chain_now, hex0x
from movieminter.app.movies import movie_info


# ------------------------------------------------------------------ lottery
def lottery_report(chain, movie_id: int) -> dict:
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
    """Every event of the movie from `from_block` (its creation block: none is older), oldest first, each with a
    one-line summary. Read through `chain.logs`: never before the contract's deployment, ranges a public RPC
    refuses are halved."""
    out = []
    for name in EVENTS:
        for log in chain.logs(getattr(chain.contract.events, name), {"movieId": movie_id}, start=from_block):
            out.append(
                {
                    "event": name,
                    "block": log["blockNumber"],
                    "tx": hex0x(log["transactionHash"]),
                    "log_index": log["logIndex"],
                    "args": {k: _plain(v) for k, v in log["args"].items()},
                }
            )
    out.sort(key=lambda e: (e["block"], e["log_index"]))
    for e in out:
        e["summary"] = _summary(e)
    return out


def _plain(v):
    return hex0x(v) if isinstance(v, (bytes, bytearray)) else v


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
        **movie_info(movie_id, info),  # the record as the movie page shows it, and what the studio adds:
        "ticket_price": str(info["ticketPrice"]),
        "tickets_sold": int(info["ticketsSold"]),
        "minted_count": sum(s["status"] == "minted" for s in segs),
        "claim_deadline": int(info["claimDeadline"]),
    }
    return {"movie": movie, "segments": segs, "events": movie_events(chain, movie_id, int(info["createdBlock"]))}


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
