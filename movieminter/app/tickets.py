"""Tickets: whether a wallet may watch a movie (a ticket, or a season pass of its collective) and what the
Watch page shows before buying. The routes are in routes_viewer."""

from __future__ import annotations

from movieminter.app.errors import NoTicket, NotSignedIn
from movieminter.app.viewer import chapters, movie_manifest
from movieminter.errors import MovieMinterError

PUBLIC_NOTICE = (
    "A ticket unlocks this app's player and pays the creator, the director and the "
    "minters. The segments themselves are on IPFS, and IPFS content is public: anyone "
    "who knows a segment's CID can fetch it from any gateway."
)


def has_ticket(ctx, movie_id: int, address: str) -> bool:
    from eth_utils import is_address, to_checksum_address

    if not is_address(address):
        raise MovieMinterError(f"{address!r} is not an Ethereum address.", hint="Reconnect your wallet.")
    if ctx.settings.community_address:
        # A season pass of the movie's collective counts as a ticket (Community.canWatch: a pass, or hasTicket).
        return bool(ctx.community.can_watch(movie_id, to_checksum_address(address)))
    return bool(ctx.chain.call("hasTicket", movie_id, to_checksum_address(address)))


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
