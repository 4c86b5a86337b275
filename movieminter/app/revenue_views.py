"""The revenue dashboard: what a wallet can collect (its credits, its movies' shares, its segment tokens'
pool share) and what each wallet can still collect from one movie. Amounts are wei as decimal strings.
The routes are in routes_viewer."""

from __future__ import annotations

from typing import Any

from movieminter.errors import MovieMinterError


def revenue(ctx, address: str) -> dict:
    """What `address` can collect: its withdrawable credits, the creator/director shares of movies it
    runs (credited by `collect`), and the minters'-pool share of every segment token it holds."""
    from eth_utils import is_address, to_checksum_address

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
    # Segment tokens it holds now: of every token moved to or from it (Transfer logs, both indexed), those whose
    # last move was to it. A burnt token (its director rejected it, Community) last moved away. Two log reads
    # and one batch per view, not an ownerOf call per token.
    transfer = chain.contract.events.Transfer
    moves = chain.logs(transfer, {"to": address}) + chain.logs(transfer, {"from": address})
    last: dict[int, bool] = {}
    for log in sorted(moves, key=lambda e: (e["blockNumber"], e["logIndex"])):
        last[int(log["args"]["tokenId"])] = log["args"]["to"] == address
    held = sorted(token for token, mine in last.items() if mine)
    amounts = chain.call_many("claimableSegmentRevenue", [(token,) for token in held])
    community = ctx.community if ctx.settings.community_address else None
    approved = community.call_many("segmentApproved", [(t,) for t in held]) if community else [True] * len(held)
    for token, amount, ok in zip(held, amounts, approved, strict=True):
        claim = {
            "movie_id": token >> 32,
            "segment": token & 0xFFFFFFFF,
            "token_id": str(token),
            "claimable_wei": str(int(amount)),
        }
        if community is not None and not ok:
            # Waiting for the director's approval: a claim would revert, so it is listed apart, not in the total.
            out["segments_held_back"].append({**claim, "review": community.review_of(token >> 32, token & 0xFFFFFFFF)})
            continue
        out["segment_claims"].append(claim)
        total += int(amount)
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
