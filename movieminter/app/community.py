"""Community for the app (FastAPI-free): a movie's credits, read from the Community contract
(contracts/Community.sol, docs/community.md). Used by routes_community and the `director credits` CLI."""

from __future__ import annotations

from movieminter.app.errors import MovieNotFound, NotFound
from movieminter.chain.client import ChainError
from movieminter.media.stitch import short_address


class NoCommunity(NotFound):
    """No Community contract is configured: there are no credits to read (the movie itself may exist)."""


def _person(address: str | None) -> dict | None:
    return {"address": address, "short": short_address(address)} if address else None


def movie_credits(community, movie_id: int) -> dict:
    """Director, creator, collective leader, minters by segment and pass holders, as full and short addresses
    (None / an empty list for nobody)."""
    try:
        raw = community.movie_credits(movie_id)
    except ChainError as exc:
        if exc.error == "UnknownMovie":
            raise MovieNotFound(f"movie {movie_id} does not exist", hint="check the movie id") from None
        raise
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
