"""What the pages show of the community, and the unsigned transactions they ask the wallet to sign (no FastAPI
here; routes_community is the thin HTTP layer, static/community.js the UI). See docs/community.md.

- a collective's season pass: prices, the early tier's passes left, the passes a wallet holds; `buyPass`
- a movie's ballots (takes with their videos, idea options with their pinned labels), tallies for anyone,
  and the signed-in wallet's votes left; `vote` with its next unused pass (or its ticket)
- the movies of the collectives a wallet belongs to (the tab lists them first)

The director's review of minted segments is in movieminter.app.review_views.

Amounts are wei as decimal strings (exact in JSON; the page formats them with BigInt). Token ids too.
"""

from __future__ import annotations

import json

from eth_utils import to_checksum_address

from movieminter.app.community import unknown_id
from movieminter.app.errors import MovieError, NotFound, NotSignedIn
from movieminter.chain.client import ChainError
from movieminter.chain.community import NO_PASS
from movieminter.errors import MovieMinterError


class NoCommunityHere(NotFound):
    """No Community contract is configured."""


class CannotVote(MovieMinterError, status=409): ...


def community(ctx):
    if not ctx.settings.community_address:
        raise NoCommunityHere(
            "No Community contract is configured.",
            hint="set MOVIEMINTER_COMMUNITY_ADDRESS (or the Community field of A1111's Movie Minter settings)",
        )
    return ctx.community


def _signed_in(viewer: str | None, what: str) -> str:
    if not viewer:
        raise NotSignedIn(f"Connect and sign in with your wallet to {what}.", hint="Click Connect wallet at the top.")
    return viewer


def _cid(digest: bytes | str | None) -> str | None:
    """The CID of a recorded sha-256 digest (bytes or 0x-hex); None for none or all zeros."""
    from movieminter.ipfs.cid import digest_to_cid

    raw = bytes.fromhex(digest[2:]) if isinstance(digest, str) else bytes(digest or b"")
    return digest_to_cid(raw) if any(raw) else None


# ------------------------------------------------------------------ passes


def pass_offer(com, collective_id: int, viewer: str | None) -> dict:
    """The collective's pass: regular and early prices, the early tier's passes left, what the next one costs."""
    with unknown_id("UnknownCollective"):
        c = com.collective(collective_id)
    price, early = com.next_pass_price(collective_id)
    held = com.passes_of(collective_id, viewer) if viewer else []
    return {
        "collective": collective_id,
        "leader": c.leader,
        "creator": c.creator if int(c.creator, 16) else None,
        "price_wei": str(c.price),
        "early_price_wei": str(c.early_price),
        "early_cap": c.early_cap,
        "sold": c.sold,
        "early_left": max(0, c.early_cap - c.sold),
        "next_price_wei": str(price),
        "next_early": bool(early),
        "passes": [str(p) for p in held],
        "is_leader": to_checksum_address(viewer) == c.leader if viewer else False,
    }


def buy_pass_tx(com, collective_id: int, sender: str | None) -> dict:
    """The unsigned `buyPass` for the next pass, its value exactly that pass's price (early or regular)."""
    sender = _signed_in(sender, "buy a season pass")
    offer = pass_offer(com, collective_id, None)
    tx = com.build_tx("buyPass", [collective_id], sender, value=int(offer["next_price_wei"]))
    return {"tx": tx, "price_wei": offer["next_price_wei"], "early": offer["next_early"]}


# ------------------------------------------------------------------ ballots


def _options_labels(ctx, digest, count: int) -> list[str | None]:
    """Idea labels from the JSON the director pinned ({"options": ["...", ...]}, its digest in the ballot),
    when this app's store has it; None where it does not."""
    cid = _cid(digest)
    if cid:
        try:
            labels = json.loads(ctx.store.cat(cid)).get("options") or []
            return [str(labels[k])[:200] if k < len(labels) else None for k in range(count)]
        except Exception:  # not pinned here or not our format: numbered options still vote
            pass
    return [None] * count


def _votes_left(ctx, com, info: dict, collective_id: int, viewer: str | None) -> dict:
    """The viewer's passes that may still vote in the ballot (sold before it opened, unused), or its ticket."""
    if not viewer:
        return {"passes": [], "ticket": False}
    viewer = to_checksum_address(viewer)
    held = com.passes_of(collective_id, viewer) if collective_id else []
    passes = [p for p in held if (p & 0xFFFFFFFF) < info["pass_cap"] and not com.call("passVoted", info["ballot"], p)]
    ticket = False
    if not held:
        free = ctx.chain.call("hasTicket", info["movie"], "0x" + "00" * 20)  # free movies take no ticket votes
        ticket = (
            not free
            and ctx.chain.call("hasTicket", info["movie"], viewer)
            and not com.call("ticketVoted", info["ballot"], viewer)
        )
    return {"passes": [str(p) for p in passes], "ticket": bool(ticket)}


def ballot_view(ctx, ballot_id: int, viewer: str | None, gateway: str) -> dict:
    """A ballot for anyone to read: its options (takes with their video links, or idea labels), tallies,
    phase by chain time, the leading option; and the viewer's votes left. `gateway` prefixes CIDs."""
    com = community(ctx)
    with unknown_id("UnknownBallot", f"Ballot {ballot_id} does not exist.", "Check the ballot number."):
        info = com.ballot(ballot_id)
    opened = com.logs(com.contract.events.BallotOpened, {"ballotId": ballot_id})
    now = ctx.chain.timestamp()
    if now < info["start"]:
        phase = "takes" if info["kind"] == "takes" else "not started"
    elif now < info["end"]:
        phase = "voting"
    else:
        phase = "closed"
    tallies = info["tallies"]
    options = []
    if info["kind"] == "takes":
        for take in com.takes(ballot_id):
            cid = _cid(take["content_digest"])
            k = take["take"]
            options.append(
                {
                    "option": k,
                    "label": f"Take {k + 1}",
                    "taker": take["taker"],
                    "video_cid": cid,
                    "video_url": gateway + cid if cid else None,
                }
            )
    else:
        digest = opened[0]["args"]["optionsDigest"] if opened else None
        for k, label in enumerate(_options_labels(ctx, digest, len(tallies))):
            options.append({"option": k, "label": label or f"Option {k + 1}"})
    for o in options:
        o["votes"] = tallies[o["option"]] if o["option"] < len(tallies) else 0
    collective_id = com.call("collectiveOf", info["movie"])
    return {
        "ballot": ballot_id,
        "movie": info["movie"],
        "kind": info["kind"],
        "segment": info["segment"] if info["kind"] == "takes" else None,
        "start": info["start"],
        "end": info["end"],
        "now": now,
        "phase": phase,
        "options": options,
        "total_votes": sum(tallies),
        "leader": info["leader"] if info["leader_votes"] else None,
        "final": info["final"],
        "yours": _votes_left(ctx, com, info, collective_id, viewer),
    }


def movie_ballots(ctx, movie_id: int, viewer: str | None, gateway: str) -> list[dict]:
    com = community(ctx)
    ids = [int(e["args"]["ballotId"]) for e in com.logs(com.contract.events.BallotOpened, {"movieId": movie_id})]
    return [ballot_view(ctx, b, viewer, gateway) for b in ids]


def vote_tx(ctx, ballot_id: int, option: int, sender: str | None) -> dict:
    """The unsigned `vote` with the sender's next pass that has not voted here (or its ticket); refused
    before the wallet is asked when the vote could only revert."""
    sender = _signed_in(sender, "vote")
    view = ballot_view(ctx, ballot_id, sender, "")
    if view["phase"] != "voting":
        raise CannotVote(
            f"Ballot {ballot_id} is not taking votes now ({view['phase']}).",
            hint="Votes count between the ballot's start and end (chain time).",
        )
    if not 0 <= option < len(view["options"]):
        raise MovieError(f"Ballot {ballot_id} has no option {option + 1}.", hint="Pick one of the listed options.")
    yours = view["yours"]
    if yours["passes"]:
        pass_id = int(yours["passes"][0])
    elif yours["ticket"]:
        pass_id = NO_PASS
    else:
        raise CannotVote(
            "You have no vote left in this ballot.",
            hint="Each pass of the movie's collective bought before the vote opened votes once; "
            "a ticket holder without a pass votes once.",
        )
    tx = community(ctx).build_tx("vote", [ballot_id, option, pass_id], sender)
    return {"tx": tx, "pass_id": None if pass_id == NO_PASS else str(pass_id), "votes_left": len(yours["passes"])}


# ------------------------------------------------------------------ the movie and the member's movies


def movie_view(ctx, movie_id: int, viewer: str | None, gateway: str) -> dict:
    """The movie's community card: its collective's pass and its ballots (`community: false` without one)."""
    if not ctx.settings.community_address:
        return {"movie": movie_id, "community": False}
    com = community(ctx)
    try:
        collective_id = com.call("collectiveOf", movie_id)
    except ChainError:
        collective_id = 0
    return {
        "movie": movie_id,
        "community": True,
        "collective": pass_offer(com, collective_id, viewer) if collective_id else None,
        "ballots": movie_ballots(ctx, movie_id, viewer, gateway),
    }


def my_movies(ctx, viewer: str | None) -> dict:
    """Movies of the collectives `viewer` holds a pass of or leads (the tab lists them first)."""
    if not viewer or not ctx.settings.community_address:
        return {"movies": []}
    com = community(ctx)
    viewer = to_checksum_address(viewer)
    ids = range(1, int(com.call("collectiveCount")) + 1)
    held = com.call_many("passesHeld", [(c, viewer) for c in ids])  # one batch each, not two calls a collective
    leaders = [info[0] for info in com.call_many("collective", [(c,) for c in ids])]
    out = []
    for collective_id, passes, leader in zip(ids, held, leaders, strict=True):
        if not int(passes) and to_checksum_address(leader) != viewer:
            continue
        for e in com.logs(com.contract.events.MovieJoined, {"collectiveId": collective_id}):
            movie_id = int(e["args"]["movieId"])
            try:
                title = ctx.movies.summary(movie_id)["title"]
            except MovieMinterError:  # the manifest is not reachable: the id still opens the movie
                title = f"Movie {movie_id}"
            out.append({"movie_id": movie_id, "title": title, "collective": collective_id})
    return {"movies": out}
