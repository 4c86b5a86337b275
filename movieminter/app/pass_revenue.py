"""The Minter tab's share of season-pass sales (Community), beside the ticket share of movieminter.app.my_work
(no FastAPI here). Pass revenue reaches a segment in three moves, each one transaction the wallet signs:
`collect` puts the passes sold since the last collect into the collective's pool (anyone may send it),
`claimPassRevenue` credits the pool's share of the wallet's approved segment tokens, and `withdraw` pays
the Community credits out (they also hold a creator's or leader's pass shares)."""

from __future__ import annotations

from collections import Counter

from movieminter.app.my_work import NothingToWithdraw, credits_withdraw_tx, my_revenue, signed_in, tokens_claim_tx


def tab_revenue(ctx, wallet: str | None) -> dict:
    """The tab's whole share panel: the ticket share (my_work) and, under "passes", the pass share."""
    r = my_revenue(ctx, wallet)
    return {**r, "passes": pass_share(ctx, r["address"], r["held_tokens"])}


def pass_share(ctx, wallet: str, tokens: list[dict]) -> dict | None:
    """What `wallet` has of pass sales, in wei as decimal strings; None without a Community contract.
    `tokens`: its approved segment tokens (my_work's claims; a token awaiting approval would make the claim
    revert, so it is not here)."""
    if not ctx.settings.community_address:
        return None
    com = ctx.community
    claims: list[dict] = []
    collectives: dict[int, int] = {}  # movie id -> its collective (0: none)
    for t in tokens:
        movie, segment = int(t["movie_id"]), int(t["segment"])
        if movie not in collectives:
            collectives[movie] = com.call("collectiveOf", movie)
        if not collectives[movie]:
            continue
        amount = com.claimable_pass_revenue(movie, segment)
        if amount:
            claims.append(
                {"movie_id": movie, "segment": segment, "token_id": t["token_id"], "claimable_wei": str(amount)}
            )
    # What the next collect adds for these tokens: each segment of the collective gets an equal whole-wei part
    # of the minters' share (plus what waited for a movie), as Community.collect divides it.
    uncollected, pending = 0, None
    held = Counter(collectives[int(t["movie_id"])] for t in tokens)
    for cid in sorted(c for c in held if c):
        pool = com.pass_pool(cid)
        mine = (com.collectable(cid)[2] + pool["waiting"]) // pool["segments"] * held[cid]
        if mine > uncollected:
            uncollected, pending = mine, cid
    return {
        "claimable_wei": str(sum(int(c["claimable_wei"]) for c in claims)),
        "tokens": claims,
        "uncollected_wei": str(uncollected),
        "collect_collective": pending,  # the collective whose collect adds the most for the wallet
        "withdrawable_wei": str(com.credits_of(wallet)),
    }


def _share(ctx, wallet: str | None, what: str) -> tuple[str, dict]:
    wallet = signed_in(wallet, what)
    share = tab_revenue(ctx, wallet)["passes"]
    if share is None:
        raise NothingToWithdraw("No Community contract is configured: there are no season passes here.")
    return wallet, share


def collect_tx(ctx, wallet: str | None) -> dict:
    """The unsigned `collect` of the collective whose uncollected pass sales add the most to the wallet's share."""
    wallet, share = _share(ctx, wallet, "collect pass sales")
    if not int(share["uncollected_wei"]):
        raise NothingToWithdraw(
            "No pass sales wait to be collected for your segments.",
            hint="Each pass sold adds to the pool of the collective's segments; look again later.",
        )
    tx = ctx.community.build_tx("collect", [share["collect_collective"]], wallet)
    return {"tx": tx, "amount_wei": share["uncollected_wei"]}


def claim_tx(ctx, wallet: str | None) -> dict:
    """The unsigned claimPassRevenue of every approved segment token of the wallet with a pass share."""
    wallet, share = _share(ctx, wallet, "claim your pass share")
    nothing = NothingToWithdraw(
        "Your segment tokens have no pass revenue to claim.",
        hint="Collect the pass sales first, or wait for the director's approval of your segment.",
    )
    return tokens_claim_tx(ctx.community, "claimPassRevenue", share, wallet, nothing)


def withdraw_tx(ctx, wallet: str | None) -> dict:
    """The unsigned Community withdraw of the wallet's whole credited pass revenue (refused at 0)."""
    wallet = signed_in(wallet, "withdraw")
    if not ctx.settings.community_address:
        raise NothingToWithdraw("No Community contract is configured: there are no season passes here.")
    nothing = NothingToWithdraw(
        "There is no pass revenue to withdraw yet.",
        hint="Claim your segment tokens' pass share first: it moves to your withdrawable balance.",
    )
    return credits_withdraw_tx(ctx.community, wallet, nothing)
