"""Where a lottery movie stands for one wallet, in the words the Minter tab shows (no FastAPI here).

The tab needs more than the segment cells to pick its buttons: whether the wallet already entered
(so it never offers a second entry), whether entries are still open by CHAIN time (anvil and real
chains drift from the browser's clock), and whether the draw is readable (then segments nobody won
are open to anyone: Claim, not Enter).
"""

from __future__ import annotations

from movieminter.app.errors import NotSignedIn
from movieminter.errors import MovieMinterError


class DrawNotReadable(MovieMinterError, status=409):
    """There is no seed to record now (entries open, the draw block not mined yet, or recorded)."""


def lottery_status(chain, movie_id: int, viewer: str | None) -> dict:
    """The lottery's phase (`entries open`, `entries closed`, `drawing`, `drawn`), deadlines in chain
    time, the entrant count, the entry fee in wei (as a decimal string: exact in JSON) and whether
    `viewer` entered. Non-lottery movies answer `{"lottery": False}`."""
    info = chain.movie(movie_id)
    if info["mintMode"] != "lottery":
        return {"movie_id": movie_id, "lottery": False}
    now = chain.timestamp()
    seed = int(info["seed"], 16) != 0  # readable from the draw block's hash, recorded or not
    commit = int(info["commitBlock"])
    deadline = int(info["entryDeadline"])
    if seed:
        phase = "drawn"
    elif commit:
        phase = "drawing"
    elif now <= deadline:
        phase = "entries open"
    else:
        phase = "entries closed"
    entered = bool(viewer) and bool(chain.call("hasEntered", movie_id, viewer))
    draw = chain.draw_status(movie_id)  # "readable": anyone may record the seed now (the Draw button)
    return {
        "movie_id": movie_id,
        "lottery": True,
        "phase": phase,
        "now": now,
        "entry_deadline": deadline,
        "entrants": int(info["entrantCount"]),
        "entry_fee_wei": str(int(info["entryFee"])),
        "entered": entered,
        "seed_recorded": bool(info["seedRecorded"]),
        "commit_block": commit or None,
        "draw_block": int(info["drawBlock"]) or None,
        "claim_deadline": int(info["claimDeadline"]) or None,
        "draw_state": draw["state"],
        "blocks_left": draw["blocks_left"],
        "readable_until": draw["readable_until"],
    }


def draw_tx(chain, movie_id: int, sender: str | None) -> dict:
    """The unsigned `draw` (record the seed) for `sender`, only while the draw is readable: the seed
    is the draw block's hash, so whoever sends it cannot choose the winners."""
    if not sender:
        raise NotSignedIn("Sign in with your wallet to record the draw.", hint="Click Connect wallet.")
    state = chain.draw_status(movie_id)
    if state["state"] != "readable":
        raise DrawNotReadable(
            f"There is no draw to record now (the lottery is at: {state['state']}).",
            hint="The draw can be recorded once the entries are closed and the draw block is mined.",
        )
    return {"tx": chain.build_tx("draw", [movie_id], sender), "draw_block": state["draw_block"]}
