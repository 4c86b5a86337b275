"""The end credits' roll on anvil (director, creator, leader, minters by segment, pass holders) and the name
lookup: ENS where the chain has a registry, else short addresses (anvil has none)."""

from __future__ import annotations

import pytest

from movieminter.app.community import credits_roll
from movieminter.app.names import display_names, ens_resolver
from movieminter.media.stitch import short_address
from tests import test_community
from tests.fixtures_chain import digest
from tests.test_community import season

community_session, env = test_community.community_session, test_community.env  # fixtures


def _ctx(tmp_path, chain, com=None):
    from movieminter.app.context import AppContext
    from movieminter.config import Settings

    settings = Settings(
        data_dir=tmp_path,
        rpc_url=chain.rpc_url,
        contract_address=chain.contract_address,
        community_address=com.contract_address if com else "",
    )
    return AppContext(settings, chain_id=31337)


def _mint(chain, movie, segment, account):
    chain.transact("claim", [movie, segment], account)
    chain.transact("mintSegment", [movie, segment, digest(f"v{segment}"), digest(f"m{segment}")], account)


def test_anvil_has_no_ens_so_names_are_short_addresses(env):
    chain, _, accounts = env
    assert ens_resolver(chain.w3) is None  # no registry code at ENS's address on anvil
    names = display_names(accounts[:2], None)
    assert names == {a: short_address(a) for a in accounts[:2]}


def test_a_resolver_names_people_and_any_failure_falls_back(env):
    _, _, accounts = env
    a, b, c = accounts[1:4]

    def resolver(address):
        if address == b:
            raise ValueError("broken resolver record")
        return {a: "alice.eth"}.get(address)

    names = display_names([a, b, c, a], resolver)
    assert names == {a: "alice.eth", b: short_address(b), c: short_address(c)}


def test_roll_lists_everyone_with_segments_grouped_by_minter(env, tmp_path):
    chain, com, accounts = env
    cid, movie = season(chain, com, accounts, segments=5)
    fans = accounts[1:3]
    for fan in fans:
        com.buy_pass(cid, fan)
    for segment, who in ((0, accounts[4]), (1, accounts[4]), (3, accounts[5]), (4, accounts[4])):
        _mint(chain, movie, segment, who)
    roll = dict(credits_roll(_ctx(tmp_path, chain, com), movie, resolver=lambda a: None))
    s = short_address
    assert roll["Directed by"] == [s(accounts[9])]
    assert roll["Created by"] == [s(accounts[8])]
    assert roll["Collective led by"] == [s(accounts[7])]
    assert roll["Minted by"] == [f"Segments 0-1, 4: {s(accounts[4])}", f"Segment 3: {s(accounts[5])}"]
    assert roll["Season pass holders"] == [s(f) for f in fans]
    # an ENS name replaces the short address wherever that person appears
    named = dict(credits_roll(_ctx(tmp_path, chain, com), movie, resolver={accounts[4]: "ada.eth"}.get))
    assert named["Minted by"][0] == "Segments 0-1, 4: ada.eth"


def test_roll_without_a_community_contract_comes_from_the_movie(env, tmp_path):
    chain, com, accounts = env
    _, movie = season(chain, com, accounts, segments=3)
    _mint(chain, movie, 2, accounts[6])
    roll = dict(credits_roll(_ctx(tmp_path, chain), movie))  # the real lookup: anvil, no ENS
    assert roll["Directed by"] == [short_address(accounts[9])]
    assert roll["Minted by"] == [f"Segment 2: {short_address(accounts[6])}"]
    assert roll["Collective led by"] == [] and roll["Season pass holders"] == []


@pytest.mark.parametrize("with_community", [True, False])
def test_the_watch_movie_ends_with_the_roll(env, tmp_path, with_community, monkeypatch):
    """viewer.stitched_movie renders the roll after the last segment; the cut changes with the credits."""
    from movieminter.app import viewer

    chain, com, accounts = env
    ctx = _ctx(tmp_path, chain, com if with_community else None)
    cid, movie = season(chain, com, accounts, segments=2)
    seen = []

    def fake_stitch(manifest, files, out, **kw):
        seen.append(kw["credits"])
        out.write_bytes(b"movie")
        return out

    import movieminter.media.stitch as stitch

    manifest = {"movie": {"title": "t"}, "segments": [{"index": 0}, {"index": 1}]}
    monkeypatch.setattr(stitch, "stitch_movie", fake_stitch)  # the real stitch: tests/test_media_credits.py
    monkeypatch.setattr(viewer, "movie_manifest", lambda ctx, m: manifest)
    first = viewer.stitched_movie(ctx, movie)
    assert viewer.stitched_movie(ctx, movie) == first  # cached: same cut
    com.buy_pass(cid, accounts[1])
    second = viewer.stitched_movie(ctx, movie)
    assert dict(seen[0])["Directed by"] == [short_address(accounts[9])]
    if with_community:
        assert second != first and len(seen) == 2  # a new pass holder: a new cut with them in the credits
        assert dict(seen[1])["Season pass holders"] == [short_address(accounts[1])]
    else:
        assert second == first and len(seen) == 1
