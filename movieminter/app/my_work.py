"""The Minter tab's "my segments and jobs" and "my revenue share" for the connected wallet (no FastAPI here).

Across every movie: segments the wallet won in a lottery, claimed, or holds through an allowlist, and
must still render (with the deadline); this app's jobs for the wallet that wait for its signature,
failed or were cancelled (to resume), are running, or rest as recorded takes (a winning one is to mint);
and the segments it minted. The chain says what the wallet holds: its `Entered` and `SegmentClaimed`
logs name the movies to look at, then one `segments()` call per such movie, all in one JSON-RPC batch;
allowlists come from the trees the manifests name; minted segments from the catalog's `SegmentMinted` scan.
"""

from __future__ import annotations

from movieminter.app.catalog import catalog_of
from movieminter.app.errors import NotSignedIn
from movieminter.errors import MovieMinterError

PER_PAGE = 20
ACTIVE = ("queued", "models_ready", "rendering", "rendered", "encoded", "pinned", "awaiting_signature")
# Rows that need the wallet's action come first, in this order; then what runs or waits; then what is done.
ORDER = {"sign": 0, "take_won": 1, "render": 2, "retry": 3, "running": 4, "take": 5, "minted": 6}


class NothingToWithdraw(MovieMinterError, status=409): ...


def signed_in(wallet: str | None, what: str) -> str:
    if not wallet:
        raise NotSignedIn(f"Connect and sign in with your wallet to {what}.", hint="Click Connect wallet at the top.")
    return wallet


def _reserved(catalog, chain, me: str) -> dict[tuple[int, int], dict]:
    """Segments won or claimed by `me` and not minted yet, with their deadlines (chain's view now)."""
    from movieminter.chain.client import SEGMENT_STATUSES

    movies: set[int] = set()
    first = catalog.first_block()
    if first is None:
        return {}  # no movie on the contract yet
    latest = int(chain.w3.eth.block_number)
    for name, who in (("Entered", "entrant"), ("SegmentClaimed", "claimer")):
        event = getattr(chain.contract.events, name)
        for log in chain._logs(event, {who: chain.w3.to_checksum_address(me)}, first, latest):
            movies.add(int(log["args"]["movieId"]))
    ids = sorted(movies)
    if not ids:
        return {}
    results = chain.call_many("segments", [(movie_id, 0, 2**32) for movie_id in ids])
    out = {}
    for movie_id, rows in zip(ids, results, strict=True):
        for index, (status, account, deadline, _meta) in enumerate(rows):
            name = SEGMENT_STATUSES[status]
            if name in ("won", "claimed") and str(account).lower() == me:
                out[(movie_id, index)] = {"status": name, "deadline": int(deadline) or None}
    return out


def _allowlisted(ctx, catalog, me: str, now: int) -> dict[tuple[int, int], dict]:
    """Segments the allowlist of a movie still in its reservation window gives `me` (from the trees the
    manifests name, each read once; the proof itself stays with the mint step)."""
    from movieminter.app.rights import allowlist_tree

    ids = catalog.unfinished("allowlist")
    out: dict[tuple[int, int], dict] = {}
    for movie_id, info in catalog.infos(ids).items():
        deadline = int(info["claimDeadline"])
        if deadline <= now:
            continue
        record = {"manifest_digest": "0x" + bytes(info["manifestDigest"]).hex(), "segment_count": info["segmentCount"]}
        try:
            manifest, _ = ctx.movies.manifest(movie_id, record)
            tree = allowlist_tree(ctx.store, manifest, "0x" + bytes(info["allowlistRoot"]).hex())
        except MovieMinterError:
            continue  # a manifest or tree this app cannot read: the scene explains it when opened
        for value in tree.values if tree is not None else ():
            if str(value["value"][0]).lower() == me:
                out[(movie_id, int(value["value"][1]))] = {"status": "allowlisted", "deadline": deadline}
    return out


def _take_row(ctx, job) -> dict:
    """A recorded take: waiting for its ballot, or won (its author mints it from the scene's takes box)."""
    from movieminter.app.community_views import community
    from movieminter.app.takes import winner_of

    recorded = job.data.get("take_recorded") or {}
    ballot, take = int(job.params["take_ballot"]), int(recorded.get("take", 0))
    row = {"kind": "take", "ballot": ballot, "take": take, "winner": None}
    if ctx.settings.community_address:
        winner = winner_of(community(ctx), ballot)
        if winner is not None:
            row["winner"] = winner["take"]
            if winner["take"] == take and winner["taker"].lower() == job.wallet.lower():
                row["kind"] = "take_won"
    return row


def my_work(ctx, wallet: str | None, page: int = 1, per_page: int = PER_PAGE) -> dict:
    """The wallet's rows, what needs its action first; `needs_action` counts those on every page."""
    me = signed_in(wallet, "see your segments and jobs").lower()
    catalog = catalog_of(ctx)
    catalog.sync()
    chain = catalog.chain
    contract = catalog.contract()
    rows: dict[tuple[int, int], dict] = {}

    now = chain.timestamp()
    held_now = {**_allowlisted(ctx, catalog, me, now), **_reserved(catalog, chain, me)}
    for (movie_id, index), held in held_now.items():
        rows[(movie_id, index)] = {"kind": "render", "chain_status": held["status"], "deadline": held["deadline"]}
    for movie_id, index in catalog.minted_by(me):
        rows[(movie_id, index)] = {"kind": "minted"}

    try:
        jobs = [j for j in ctx.journal.list(limit=5000) if j.wallet.lower() == me and j.contract.lower() == contract]
    except MovieMinterError:
        jobs = []  # the journal is not readable: the chain's view still stands
    for job in jobs:  # one job per (movie, segment, wallet): the journal's key
        key = (job.movie_id, job.segment)
        row = rows.setdefault(key, {"kind": None})
        row["job"] = {"id": job.id, "state": job.state, "error": job.error}
        if row["kind"] == "minted":
            continue
        if job.state == "awaiting_signature" and not job.data.get("_tx_hash"):
            row["kind"] = "sign"
        elif job.state in ACTIVE:
            row["kind"] = "running"
        elif job.state in ("failed", "cancelled"):
            row["kind"] = "retry"
        elif job.state == "minted":
            row["kind"] = "minted"
        elif job.state == "take_recorded":
            row.update(_take_row(ctx, job))
    rows = {k: v for k, v in rows.items() if v["kind"]}

    titles = catalog.titles({m for m, _ in rows})
    items = [{"movie_id": m, "segment": s, "title": titles.get(m, f"Movie {m}"), **row} for (m, s), row in rows.items()]
    items.sort(key=lambda r: (ORDER[r["kind"]], r.get("deadline") or 2**63, -r["movie_id"], r["segment"]))
    per_page = max(1, min(100, int(per_page)))
    page = max(1, int(page))
    total = len(items)
    return {
        "address": wallet,
        "now": now,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
        "needs_action": sum(r["kind"] in ("sign", "take_won", "render", "retry") for r in items),
        "items": items[(page - 1) * per_page : page * per_page],
    }


# ------------------------------------------------------------------ revenue share
def my_revenue(ctx, wallet: str | None) -> dict:
    """The wallet's withdrawable balance and the minters'-pool share its segment tokens can still claim,
    in wei as decimal strings (exact in JSON; the page formats them with BigInt)."""
    from movieminter.app.revenue_views import revenue

    r = revenue(ctx, signed_in(wallet, "see your revenue share"))
    claimable = [c for c in r["segment_claims"] if int(c["claimable_wei"])]
    return {
        "address": r["address"],
        "withdrawable_wei": r["withdrawable_wei"],
        "claimable_wei": str(sum(int(c["claimable_wei"]) for c in claimable)),
        "tokens": [{k: c[k] for k in ("movie_id", "segment", "token_id", "claimable_wei")} for c in claimable],
        "segments_held": len(r["segment_claims"]),
        # Its approved segment tokens (a claim of one awaiting approval would revert): pass_revenue's input.
        "held_tokens": [{k: c[k] for k in ("movie_id", "segment", "token_id")} for c in r["segment_claims"]],
    }


def claim_tx(ctx, wallet: str | None) -> dict:
    """The unsigned claimSegmentRevenue of every token of the wallet with a share to claim."""
    r = my_revenue(ctx, wallet)
    nothing = NothingToWithdraw(
        "Your segment tokens have no new revenue share to claim.",
        hint="Shares accrue as viewers buy tickets; look again later.",
    )
    return tokens_claim_tx(ctx.chain, "claimSegmentRevenue", r, r["address"], nothing)


def withdraw_tx(ctx, wallet: str | None) -> dict:
    """The unsigned withdraw of the wallet's whole credited balance (refused at 0)."""
    nothing = NothingToWithdraw(
        "There is nothing to withdraw yet.",
        hint="Claim your segment tokens' share first: it moves to your withdrawable balance.",
    )
    return credits_withdraw_tx(ctx.chain, signed_in(wallet, "withdraw"), nothing)


# MovieMinter and Community pay the same way: a holder claims its tokens' share into its credits, then withdraws.
def tokens_claim_tx(client, function: str, share: dict, wallet: str, nothing: MovieMinterError) -> dict:
    """The unsigned `function(tokenIds)` claim of `share`'s tokens (raises `nothing` when it has none)."""
    if not share["tokens"]:
        raise nothing
    ids = [int(t["token_id"]) for t in share["tokens"]]
    return {"tx": client.build_tx(function, [ids], wallet), "amount_wei": share["claimable_wei"]}


def credits_withdraw_tx(client, wallet: str, nothing: MovieMinterError) -> dict:
    """The unsigned `withdraw` of the wallet's whole credited balance (raises `nothing` at 0)."""
    amount = int(client.call("credits", wallet))
    if not amount:
        raise nothing
    return {"tx": client.build_tx("withdraw", [], wallet), "amount_wei": str(amount)}
