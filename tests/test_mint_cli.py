"""`movieminter mint`, the headless Render & Mint, against anvil + the deployed contract, the A1111 double and
the local IPFS store: claim, mint, re-run (nothing new), wrong password, and an unclaimed open segment."""

from __future__ import annotations

import json

import pytest

from movieminter.cli import main as cli_main
from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_ui import TEST_KEYS

PASSWORD = "correct horse battery staple"
PW_ENV = "MM_TEST_MINT_PASSWORD"


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    """Keystores made here use a small scrypt work factor: the format and code path are the same."""
    monkeypatch.setattr("movieminter.chain.keystore.SCRYPT_N", 2**10)


@pytest.fixture
def mint_setup(tmp_path, deployed, a1111):
    """An OPEN-mode movie of the example manifest, pinned to the data dir's local IPFS store; a keystore of
    anvil account 1; the mint command's arguments."""
    from movieminter.app.context import AppContext
    from movieminter.app.director import pin_manifest
    from movieminter.chain.client import MovieConfig
    from movieminter.chain.keystore import import_keystore
    from movieminter.config import Settings

    double, a1111_url = a1111
    data_dir = tmp_path / "data"
    ctx = AppContext(Settings(data_dir=data_dir, ipfs_backend="local"))
    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    pinned = pin_manifest(ctx.store, manifest)
    acc = deployed.w3.eth.accounts
    receipt = deployed.transact(
        "createMovie",
        [
            MovieConfig(
                manifest_digest=pinned["digest"],
                segment_count=len(manifest["segments"]),
                creator=acc[8],
                director=acc[9],
                mint_mode="open",
                claim_window=3600,
            ).as_tuple()
        ],
        acc[0],
    )
    movie_id = deployed.movie_id_from_receipt(receipt)
    keyfile = tmp_path / "minter.json"
    wallet = import_keystore(keyfile, TEST_KEYS[1], PASSWORD)
    assert wallet == acc[1]

    def argv(segment: int) -> list[str]:
        return [
            "mint",
            "--movie",
            str(movie_id),
            "--segment",
            str(segment),
            "--keystore",
            str(keyfile),
            "--password-env",
            PW_ENV,
            "--rpc",
            deployed.rpc_url,
            "--contract",
            deployed.contract_address,
            "--a1111-url",
            a1111_url,
            "--data-dir",
            str(data_dir),
        ]

    return dict(chain=deployed, double=double, movie_id=movie_id, wallet=wallet, argv=argv, data_dir=data_dir)


def test_claim_then_mint_then_rerun_mints_nothing_new(mint_setup, monkeypatch, capsys):
    s = mint_setup
    chain, movie_id, wallet = s["chain"], s["movie_id"], s["wallet"]
    monkeypatch.setenv(PW_ENV, PASSWORD)
    chain.transact("claim", [movie_id, 0], wallet)  # the wallet claims the open segment

    assert cli_main(s["argv"](0)) == 0
    out, err = capsys.readouterr()
    token_id = chain.token_id(movie_id, 0)
    assert chain.call("ownerOf", token_id) == wallet
    seg = chain.segments(movie_id, 0, 1)[0]
    assert seg["status"] == "minted" and seg["account"] == wallet

    # The digests on chain are those of the files the job pinned.
    from movieminter.app.context import AppContext
    from movieminter.config import Settings
    from movieminter.ipfs.cid import cid_to_digest

    ctx = AppContext(Settings(data_dir=s["data_dir"]))
    job = ctx.journal.find(chain.chain_id, chain.contract_address, movie_id, 0, wallet)
    assert job.state == "minted"
    pinned = job.data["pinned"]
    assert seg["contentDigest"] == "0x" + cid_to_digest(pinned["video_cid"]).hex()
    assert seg["metadataDigest"] == "0x" + cid_to_digest(pinned["metadata_cid"]).hex()
    tx_hash = job.data["minted"]["tx_hash"]
    assert tx_hash in out and f"token {token_id} owned by {wallet}" in out and "receipt: block" in out
    assert "frames" in err and "stage" in err  # the tqdm bars
    assert s["double"].jobs_submitted == 1

    # Again: already minted, nothing rendered or sent.
    nonce = chain.w3.eth.get_transaction_count(wallet)
    assert cli_main(s["argv"](0)) == 0
    out, err = capsys.readouterr()
    assert "already minted by your wallet" in out and tx_hash in out
    assert s["double"].jobs_submitted == 1
    assert chain.w3.eth.get_transaction_count(wallet) == nonce
    assert PASSWORD not in out + err


def test_wrong_password_is_refused_before_anything_is_submitted(mint_setup, monkeypatch, capsys):
    s = mint_setup
    chain, wallet = s["chain"], s["wallet"]
    chain.transact("claim", [s["movie_id"], 0], wallet)
    wrong = "not the right password at all"
    monkeypatch.setenv(PW_ENV, wrong)
    nonce = chain.w3.eth.get_transaction_count(wallet)
    assert cli_main(s["argv"](0)) == 2
    out, err = capsys.readouterr()
    assert "wrong password for keystore minter.json" in err
    assert wrong not in out + err and PASSWORD not in out + err
    assert s["double"].jobs_submitted == 0
    assert chain.w3.eth.get_transaction_count(wallet) == nonce
    assert not (s["data_dir"] / "jobs").exists()


def test_unclaimed_open_segment_says_claim_first(mint_setup, monkeypatch, capsys):
    s = mint_setup
    monkeypatch.setenv(PW_ENV, PASSWORD)
    assert cli_main(s["argv"](1)) == 2
    err = capsys.readouterr().err
    assert "claim it first" in err and "open" in err and "Claim" in err
    assert s["double"].jobs_submitted == 0


def test_missing_keystore_and_unreachable_chain(mint_setup, monkeypatch, capsys, tmp_path):
    from tests.conftest import free_port

    s = mint_setup
    monkeypatch.setenv(PW_ENV, PASSWORD)
    argv = s["argv"](0)
    missing = argv.copy()
    missing[missing.index("--keystore") + 1] = str(tmp_path / "nope.json")
    assert cli_main(missing) == 2
    err = capsys.readouterr().err
    assert "keystore" in err and "not found" in err
    dead = argv.copy()
    dead[dead.index("--rpc") + 1] = f"http://127.0.0.1:{free_port()}"
    assert cli_main(dead) == 2
    assert "cannot reach the chain" in capsys.readouterr().err


def test_killed_run_resumes_without_rerendering(mint_setup, monkeypatch, capsys):
    """A first run killed (SIGKILL) once the segment is pinned; the second run resumes that job: the double
    renders once, the mint lands once."""
    import os
    import subprocess
    import sys
    import time

    from movieminter.app.context import AppContext
    from movieminter.config import Settings

    s = mint_setup
    chain, movie_id, wallet = s["chain"], s["movie_id"], s["wallet"]
    chain.transact("claim", [movie_id, 0], wallet)
    env = {**os.environ, PW_ENV: PASSWORD, "MOVIEMINTER_PAUSE_AFTER": "pinned"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "movieminter.cli", *s["argv"](0)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    journal = AppContext(Settings(data_dir=s["data_dir"])).journal
    try:
        deadline = time.monotonic() + 120
        job = None
        while time.monotonic() < deadline and proc.poll() is None:
            if (s["data_dir"] / "journal.sqlite3").exists():
                job = journal.find(chain.chain_id, chain.contract_address, movie_id, 0, wallet)
                if job is not None and job.state == "pinned":
                    break
            time.sleep(0.1)
        assert job is not None and job.state == "pinned", (
            proc.stdout.read().decode() if proc.poll() is not None else job
        )
    finally:
        proc.kill()
        output = proc.communicate()[0].decode()
    assert PASSWORD not in output
    assert s["double"].jobs_submitted == 1
    assert chain.segments(movie_id, 0, 1)[0]["status"] == "claimed"

    monkeypatch.setenv(PW_ENV, PASSWORD)
    assert cli_main(s["argv"](0)) == 0
    out = capsys.readouterr().out
    assert f"resuming job {job.id} from pinned" in out
    assert s["double"].jobs_submitted == 1  # not rendered again
    assert chain.call("ownerOf", chain.token_id(movie_id, 0)) == wallet


def test_unreachable_a1111_fails_clearly_then_the_job_resumes(mint_setup, monkeypatch, capsys):
    from tests.conftest import free_port

    s = mint_setup
    chain, movie_id, wallet = s["chain"], s["movie_id"], s["wallet"]
    chain.transact("claim", [movie_id, 0], wallet)
    monkeypatch.setenv(PW_ENV, PASSWORD)
    dead = s["argv"](0)
    dead[dead.index("--a1111-url") + 1] = f"http://127.0.0.1:{free_port()}"
    assert cli_main(dead) == 2
    err = capsys.readouterr().err
    assert "A1111" in err and "--api" in err and "run the same command again" in err
    assert chain.segments(movie_id, 0, 1)[0]["status"] == "claimed"

    assert cli_main(s["argv"](0)) == 0  # A1111 is back: the failed job resumes and mints
    out = capsys.readouterr().out
    assert "resuming it" in out
    assert chain.call("ownerOf", chain.token_id(movie_id, 0)) == wallet
    assert s["double"].jobs_submitted == 1
