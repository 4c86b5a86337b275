"""Community for the app (FastAPI-free): a movie's credits, read from the Community contract
(contracts/Community.sol, docs/community.md). Used by routes_community and the `director credits` CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from movieminter.app.errors import MovieNotFound, NotFound
from movieminter.chain.client import ChainError
from movieminter.errors import MovieMinterError
from movieminter.media.stitch import short_address


class NoCommunity(NotFound):
    """No Community contract is configured: there are no credits to read (the movie itself may exist)."""


def _person(address: str | None) -> dict | None:
    return {"address": address, "short": short_address(address)} if address else None


@contextmanager
def unknown_id(
    error: str, message: str = "", hint: str = "", kind: type[MovieMinterError] = NotFound
) -> Iterator[None]:
    """The contract's `error` revert (it knows no such movie, collective or ballot) as a `kind` (404) with
    `message` and `hint` (default: the revert's own); any other error passes as it is."""
    try:
        yield
    except ChainError as exc:
        if exc.error != error:
            raise
        raise kind(message or exc.message, hint=hint or exc.hint) from None


def movie_credits(community, movie_id: int) -> dict:
    """Director, creator, collective leader, minters by segment and pass holders, as full and short addresses
    (None / an empty list for nobody)."""
    with unknown_id("UnknownMovie", f"movie {movie_id} does not exist", "check the movie id", MovieNotFound):
        raw = community.movie_credits(movie_id)
    return {
        "movie": movie_id,
        "director": _person(raw["director"]),
        "creator": _person(raw["creator"]),
        "leader": _person(raw["leader"]),
        "segments": [{"index": i, "minter": _person(m)} for i, m in enumerate(raw["minters"])],
        "pass_holders": [_person(a) for a in raw["pass_holders"]],
    }


def credits_for(ctx, movie_id: int) -> dict:
    if not ctx.settings.community_address:
        raise NoCommunity(
            "No Community contract is configured, so there are no credits to show.",
            hint="set MOVIEMINTER_COMMUNITY_ADDRESS (or the Community field of A1111's Movie Minter settings)",
        )
    return movie_credits(ctx.community, movie_id)


def credits_lines(credits: dict) -> list[str]:
    """The credits as text lines, in roll order (the CLI and the credits card)."""

    def who(person: dict | None) -> str:
        return person["short"] if person else "-"

    lines = [f"Directed by {who(credits['director'])}", f"Created by {who(credits['creator'])}"]
    if credits["leader"]:
        lines.append(f"Collective led by {who(credits['leader'])}")
    for seg in credits["segments"]:
        lines.append(f"Segment {seg['index']}: " + (who(seg["minter"]) if seg["minter"] else "not minted yet"))
    if credits["pass_holders"]:
        lines.append("Season pass holders: " + ", ".join(who(p) for p in credits["pass_holders"]))
    return lines


def _ranges(indices: list[int]) -> str:
    """[0, 1, 2, 5] -> "0-2, 5"."""
    parts: list[str] = []
    start = prev = None
    for i in sorted(indices):
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


def credits_roll(ctx, movie_id: int, resolver=None) -> list[tuple[str, list[str]]]:
    """The end credits rendered into the stitched movie, as (heading, names) pairs: director, creator,
    collective leader, every minter with the segments they minted, the pass holders. Names are ENS names
    where the chain has ENS (`resolver`, see movieminter.app.names), else short addresses. Without a
    Community contract the movie's own record gives the director, the creator and the minters."""
    from movieminter.app.names import display_names, ens_resolver

    if ctx.settings.community_address:
        raw = ctx.community.movie_credits(movie_id)
    else:
        movie = ctx.chain.movie(movie_id)
        segs = ctx.chain.segments(movie_id, 0, None)
        raw = {
            "director": movie["director"],
            "creator": movie["creator"],
            "leader": None,
            "minters": [s["account"] if s["status"] == "minted" else None for s in segs],
            "pass_holders": [],
        }
    by_minter: dict[str, list[int]] = {}
    for index, minter in enumerate(raw["minters"]):
        if minter:
            by_minter.setdefault(minter, []).append(index)
    people = [raw["director"], raw["creator"], raw["leader"], *by_minter, *raw["pass_holders"]]
    names = display_names([p for p in people if p], ens_resolver(ctx.chain.w3) if resolver is None else resolver)

    def named(*addresses):
        return [names[a] for a in addresses if a]

    minters = [
        f"{'Segment' if len(ix) == 1 else 'Segments'} {_ranges(ix)}: {names[m]}"
        for m, ix in sorted(by_minter.items(), key=lambda kv: kv[1][0])
    ]
    return [
        ("Directed by", named(raw["director"])),
        ("Created by", named(raw["creator"])),
        ("Collective led by", named(raw["leader"])),
        ("Minted by", minters),
        ("Season pass holders", named(*raw["pass_holders"])),
    ]
