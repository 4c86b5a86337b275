"""The tab's movie list as a domain module, on anvil: the log scan is incremental, starts over when the
chain it scanned is gone (a reorg; here evm_revert), pages newest first and leaves finished movies out."""

from __future__ import annotations

from tests.fixtures_chain import create_movie, digest


def catalog_for(tmp_path, chain):
    from movieminter.app.catalog import catalog_of
    from movieminter.app.context import AppContext
    from movieminter.config import Settings

    ctx = AppContext(Settings(data_dir=tmp_path / "data", chain=chain.rpc_url, contract_address=chain.contract_address))
    return catalog_of(ctx)


def listed(catalog, **kw) -> list[tuple[int, str, int, int]]:
    return [(m["movie_id"], m["mint_mode"], m["minted"], m["segment_count"]) for m in catalog.page(**kw)["movies"]]


def test_the_scan_is_incremental_and_starts_over_after_a_reorg(tmp_path, deployed):
    chain, acc = deployed, deployed.w3.eth.accounts
    catalog = catalog_for(tmp_path, chain)
    assert catalog.page()["movies"] == [] and catalog.page()["total"] == 0  # no movie yet: nothing to scan
    first = create_movie(chain, mint_mode="open", segment_count=2)
    second = create_movie(chain, mint_mode="lottery", segment_count=3)
    assert listed(catalog) == [(second, "lottery", 0, 3), (first, "open", 0, 2)]
    assert catalog.page()["movies"][0]["phase"] == "entries open" and catalog.page()["movies"][0]["deadline"]

    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    for segment in (0, 1):  # the first movie is finished: out of the list, in it with include_finished
        chain.transact("claim", [first, segment], acc[1 + segment])
        chain.transact("mintSegment", [first, segment, digest(f"v{segment}"), digest(f"m{segment}")], acc[1 + segment])
    assert listed(catalog) == [(second, "lottery", 0, 3)]
    assert listed(catalog, include_finished=True) == [(second, "lottery", 0, 3), (first, "open", 2, 2)]
    assert catalog.minted_by(acc[2]) == [(first, 1)]

    # The chain goes back and grows a different way: what the scan read from the old branch is gone.
    chain.w3.provider.make_request("evm_revert", [snapshot])
    third = create_movie(chain, mint_mode="allowlist", segment_count=4, allowlist_root=digest("root"))
    for _ in range(4):
        create_movie(chain, mint_mode="open", segment_count=1)
    rows = listed(catalog, include_finished=True)
    assert (first, "open", 0, 2) in rows and (third, "allowlist", 0, 4) in rows and len(rows) == 7
    assert catalog.minted_by(acc[2]) == []  # the mints of the old branch are forgotten
    page2 = catalog.page(page=2, per_page=3)
    assert [m["movie_id"] for m in page2["movies"]] == [rows[3][0], rows[4][0], rows[5][0]] and page2["pages"] == 3
