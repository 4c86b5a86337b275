"""Allowlist movies, minted from the app: the timeline shows "yours" to an allowlisted
wallet, the right is checked before anything renders, the proof is found without the
user seeing it, and the mint uses mintSegmentWithProof. Also phantom segments: a movie
published with more segments than its manifest has is shown and minted by nobody."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from movieminter.cli import main as cli_main
from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_ui import TEST_KEYS

PASSWORD = "allowlist test password"


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr("movieminter.chain.keystore.SCRYPT_N", 2**10)


@pytest.fixture
def allowlist_movie(tmp_path, deployed, a1111):
    """An allowlist movie made through the Studio's own functions: wallet 1 may mint segment 2,
    wallet 2 segments 0 and 3."""
    from movieminter.app.context import AppContext
    from movieminter.app.director import MovieTerms
    from movieminter.app.publish import prepare_create
    from movieminter.config import Settings

    data_dir = tmp_path / "data"
    ctx = AppContext(
        Settings(
            data_dir=data_dir,
            ipfs_backend="local",
            rpc_url=deployed.rpc_url,
            contract_address=deployed.contract_address,
            a1111_url=a1111[1],
        )
    )
    acc = deployed.w3.eth.accounts
    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    csv = f"address,segment\n{acc[1]},2\n{acc[2]},0;3\n"
    terms = MovieTerms(mode="allowlist", creator=acc[8], director=acc[9], claim_window_seconds=3600)
    fn, args = prepare_create(ctx.store, deployed, manifest, terms, csv)["call"]
    movie_id = deployed.movie_id_from_receipt(deployed.transact(fn, args, acc[9]))
    return dict(ctx=ctx, data_dir=data_dir, movie_id=movie_id, double=a1111[0], a1111_url=a1111[1])


def mint_argv(s, deployed, keyfile, segment):
    return [
        "mint",
        "--movie",
        str(s["movie_id"]),
        "--segment",
        str(segment),
        "--keystore",
        str(keyfile),
        "--password-env",
        "MM_ALLOW_PW",
        "--rpc",
        deployed.rpc_url,
        "--contract",
        deployed.contract_address,
        "--a1111-url",
        s["a1111_url"],
        "--data-dir",
        str(s["data_dir"]),
    ]


def test_an_allowlisted_wallet_mints_with_its_proof(allowlist_movie, deployed, tmp_path, monkeypatch, capsys):
    from movieminter.chain.keystore import import_keystore

    s = allowlist_movie
    keyfile = tmp_path / "w1.json"
    wallet = import_keystore(keyfile, TEST_KEYS[1], PASSWORD)
    monkeypatch.setenv("MM_ALLOW_PW", PASSWORD)
    assert cli_main(mint_argv(s, deployed, keyfile, 2)) == 0, capsys.readouterr()
    seg = deployed.segments(s["movie_id"], 2, 1)[0]
    assert seg["status"] == "minted" and seg["account"] == wallet
    job = s["ctx"].journal.find(deployed.chain_id, deployed.contract_address, s["movie_id"], 2, wallet)
    assert job.data["awaiting_signature"]["function"] == "mintSegmentWithProof"


def test_a_wallet_not_on_the_allowlist_is_refused_before_rendering(
    allowlist_movie, deployed, tmp_path, monkeypatch, capsys
):
    from movieminter.chain.keystore import import_keystore

    s = allowlist_movie
    keyfile = tmp_path / "w1.json"
    import_keystore(keyfile, TEST_KEYS[1], PASSWORD)
    monkeypatch.setenv("MM_ALLOW_PW", PASSWORD)
    assert cli_main(mint_argv(s, deployed, keyfile, 3)) == 2
    err = capsys.readouterr().err
    assert "reserved for other wallets on the allowlist" in err
    assert s["double"].jobs_submitted == 0


def test_the_job_runner_checks_the_right_before_anything_is_queued(allowlist_movie, deployed):
    """A job for a segment the wallet may not mint is refused (403) with nothing queued or rendered."""
    from movieminter.app.rights import NoRight
    from movieminter.app.runner import JobRunner

    s, ctx = allowlist_movie, allowlist_movie["ctx"]
    runner = JobRunner(ctx, hub=ctx.events)
    try:
        with pytest.raises(NoRight) as err:
            runner.submit(
                chain_id=deployed.chain_id,
                contract=deployed.contract_address,
                movie_id=s["movie_id"],
                segment=3,
                wallet=deployed.w3.eth.accounts[1],
            )
    finally:
        runner.stop()
    assert "reserved for other wallets on the allowlist" in err.value.message and err.value.status == 403
    assert ctx.journal.list() == [] and s["double"].jobs_submitted == 0


def test_the_timeline_shows_an_allowlisted_wallet_its_segments(
    allowlist_movie, deployed, api_client_factory, ui_context
):
    from tests.test_wallet_siwe import get_message, sign, verify

    s = allowlist_movie
    ui_context.settings.rpc_url, ui_context.settings.contract_address = deployed.rpc_url, deployed.contract_address
    ui_context.settings.ipfs_backend, ui_context.settings.data_dir = "local", s["data_dir"]
    for key, mine in ((TEST_KEYS[2], {0, 3}), (TEST_KEYS[3], set())):
        client = api_client_factory()
        address = Account.from_key(key).address
        msg = get_message(client, address=address)
        assert verify(client, msg["message"], sign(msg["message"], key)).status_code == 200
        r = client.get(f"/api/v1/movies/{s['movie_id']}/segments")
        assert r.status_code == 200, r.text
        cells = r.json()["segments"]
        assert {c["index"] for c in cells if c["state"] == "yours"} == mine
        assert all(c["state"] in ("yours", "assigned") and c.get("allowlisted") for c in cells)


def test_phantom_segments_are_refused_everywhere(deployed, tmp_path, api_client, ui_context):
    """Published with 60 segments for a 6-segment manifest: the director could mint 54 junk
    segments and take most of every ticket. The app shows and mints none of it."""
    from movieminter.app.director import pin_manifest
    from movieminter.app.runner import JobRunner
    from movieminter.chain.client import MovieConfig

    ctx = ui_context
    ctx.settings.rpc_url, ctx.settings.contract_address = deployed.rpc_url, deployed.contract_address
    ctx.settings.ipfs_backend = "local"
    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    pinned = pin_manifest(ctx.store, manifest)
    acc = deployed.w3.eth.accounts
    movie_id = deployed.movie_id_from_receipt(
        deployed.transact(
            "createMovie",
            [
                MovieConfig(
                    manifest_digest=pinned["digest"],
                    segment_count=60,
                    creator=acc[8],
                    director=acc[9],
                    mint_mode="open",
                    claim_window=3600,
                ).as_tuple()
            ],
            acc[9],
        )
    )
    for path in (
        f"/api/v1/movies/{movie_id}",
        f"/api/v1/movies/{movie_id}/segments",
        f"/api/v1/movies/{movie_id}/segments/0",
        f"/api/v1/movies/{movie_id}/ticket",
    ):
        r = api_client.get(path)
        assert r.status_code == 409, (path, r.status_code, r.text)
        assert "published with 60 segments, but its manifest has 6" in r.text
    from movieminter.app.rights import MovieMismatch

    runner = JobRunner(ctx, hub=ctx.events)
    try:
        with pytest.raises(MovieMismatch, match="published with 60 segments"):
            runner.submit(
                chain_id=deployed.chain_id,
                contract=deployed.contract_address,
                movie_id=movie_id,
                segment=0,
                wallet=acc[1],
            )
    finally:
        runner.stop()
    assert ctx.journal.list() == []
