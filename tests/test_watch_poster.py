"""The Watch page's poster comes from a segment that plays: while the movie requires the director's approval, a
minted segment awaiting it is not the poster (nor counted as the poster in the ticket card) until approved."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from tests.test_ui_community import community_stack, season  # noqa: F401
from tests.test_ui_modes import lighthouse
from tests.test_ui_watch import mint_red_segment

pytestmark = [pytest.mark.slow]

BLUE, RED = (30, 30, 220), (220, 30, 30)


def poster_colour(stack, movie: int) -> tuple[int, ...]:
    r = requests.get(f"{stack.url}/api/v1/movies/{movie}/poster.jpg", timeout=120)
    assert r.status_code == 200, r.text
    img = Image.open(io.BytesIO(r.content)).convert("RGB")
    return img.resize((1, 1)).getpixel((0, 0))


def close(rgb, expected) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(rgb, expected, strict=True))


def test_the_poster_skips_a_segment_awaiting_approval(community_stack, tmp_path):  # noqa: F811
    stack, com, chain = community_stack, community_stack.com, community_stack.chain
    acc = chain.w3.eth.accounts
    _, movie = season(stack)
    com.set_approval_window(movie, 24 * 3600, acc[9])
    manifest = lighthouse()
    mint_red_segment(stack, manifest, movie, 1, tmp_path, acc[2], rgb=BLUE)  # the first minted: awaits approval
    r = requests.get(f"{stack.url}/api/v1/movies/{movie}/poster.jpg", timeout=60)
    assert r.status_code == 404 and "no poster" in r.json()["detail"]["message"]
    ticket = requests.get(f"{stack.url}/api/v1/movies/{movie}/ticket", timeout=60).json()
    assert ticket["poster_url"] is None and ticket["minted_count"] == 1

    mint_red_segment(stack, manifest, movie, 3, tmp_path, acc[2])
    com.submit_segment(movie, 3, acc[2])
    com.review_segment(movie, 3, True, acc[9])
    assert close(poster_colour(stack, movie), RED)  # segment 3 plays; segment 1 still waits
    assert requests.get(f"{stack.url}/api/v1/movies/{movie}/ticket", timeout=60).json()["poster_segment"] == 3

    com.submit_segment(movie, 1, acc[2])
    com.review_segment(movie, 1, True, acc[9])
    assert close(poster_colour(stack, movie), BLUE)  # approved: the first segment that plays is the poster again
