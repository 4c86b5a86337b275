"""`movieminter director ...` against anvil: create (lottery, allowlist), lottery close/draw/results
with the verifier's explanation, status; clear errors for bad input. Signing uses encrypted keystores."""

from __future__ import annotations

import json

import pytest

from movieminter.cli import main
from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_ui import TEST_KEYS

PASSWORD = "director-test-pw"


@pytest.fixture(scope="module")
def keystores(tmp_path_factory):
    """Encrypted keystores of anvil test keys (light scrypt: these keys are public test keys)."""
    from eth_account import Account

    folder = tmp_path_factory.mktemp("keystores")
    paths = []
    for i, key in enumerate(TEST_KEYS[:3]):
        path = folder / f"k{i}.json"
        path.write_text(json.dumps(Account.encrypt(key, PASSWORD, kdf="scrypt", iterations=2**14)))
        paths.append(path)
    return paths


@pytest.fixture
def cli(deployed, keystores, tmp_path, monkeypatch, capsys):
    """run(*args) -> (exit code, stdout+stderr) with the chain, contract and data dir preset."""
    monkeypatch.setenv("MOVIEMINTER_KEYSTORE_PASSWORD", PASSWORD)
    common = ["--rpc", deployed.rpc_url, "--contract", deployed.contract_address, "--data-dir", str(tmp_path / "d")]

    def run(*args):
        code = main(["director", *args, *common])
        out = capsys.readouterr()
        return code, out.out + out.err

    run.keystores, run.chain = keystores, deployed
    return run


def _mine(chain, seconds=0, blocks=1):
    if seconds:
        chain.w3.provider.make_request("evm_increaseTime", [seconds])
    chain.w3.provider.make_request("anvil_mine", [hex(blocks)])


def test_lottery_from_the_terminal(cli):
    chain = cli.chain
    code, out = cli(
        "create",
        "--manifest",
        str(EXAMPLE_MANIFEST),
        "--mode",
        "lottery",
        "--keystore",
        str(cli.keystores[0]),
        "--ticket-price",
        "0.01",
        "--shares",
        "40/10/50",
        "--entry-hours",
        "1",
    )
    assert code == 0, out
    movie_id = int(out.split("movie ")[1].split()[0])
    movie = chain.movie(movie_id)
    assert movie["mintMode"] == "lottery" and movie["ticketPrice"] == 10**16
    assert (movie["creatorBps"], movie["directorBps"], movie["mintersBps"]) == (4000, 1000, 5000)
    assert "pinned as bafy" in out and "director lottery close" in out

    code, out = cli("lottery", "open", "--movie", str(movie_id))
    assert code == 0 and "entries open" in out and "0 entrant(s)" in out
    code, out = cli("lottery", "close", "--movie", str(movie_id), "--keystore", str(cli.keystores[1]))
    assert code == 2 and "open until" in out  # too early: the contract's reason, explained
    for acc in chain.w3.eth.accounts[3:5]:
        chain.transact("enter", [movie_id], acc)
    _mine(chain, seconds=3601)
    code, out = cli("lottery", "close", "--movie", str(movie_id), "--keystore", str(cli.keystores[1]))
    assert code == 0 and "committed to block" in out, out
    _mine(chain, blocks=5)
    code, out = cli("lottery", "draw", "--movie", str(movie_id), "--keystore", str(cli.keystores[1]))
    assert code == 0, out
    assert "verified: the Python recomputation matches the contract" in out
    for seg in range(2):
        assert f"segment {seg}: {chain.call('winnerOf', movie_id, seg)}" in out
    assert "segment 2: (no entrant: open to anyone)" in out

    code, out = cli("status", "--movie", str(movie_id))
    assert code == 0 and out.count(" won ") == 2 and out.count(" open ") == 4
    assert "entered the lottery" in out


def test_allowlist_from_the_terminal(cli, tmp_path):
    chain = cli.chain
    minter = chain.w3.eth.accounts[2]
    csv = tmp_path / "allow.csv"
    csv.write_text(f"# who may mint what\naddress,segment\n{minter},*\n")
    code, out = cli("allowlist", "--csv", str(csv), "--segments", "6", "--out", str(tmp_path / "proofs.json"))
    assert code == 0 and out.count("entries") == 1 and "6 entries" in out
    root = out.split("Merkle root: ")[1].split()[0]
    code, out = cli(
        "create",
        "--manifest",
        str(EXAMPLE_MANIFEST),
        "--mode",
        "allowlist",
        "--allowlist-csv",
        str(csv),
        "--keystore",
        str(cli.keystores[0]),
        "--ticket-price",
        "0",
    )
    assert code == 0, out
    movie_id = int(out.split("movie ")[-1].split()[0])
    assert chain.movie(movie_id)["allowlistRoot"] == root
    proof = json.loads((tmp_path / "proofs.json").read_text())[f"{minter}:4"]
    digest = "0x" + "22" * 32
    chain.transact("mintSegmentWithProof", [movie_id, 4, digest, digest, proof], minter)
    assert chain.segments(movie_id, 4, 1)[0]["account"] == minter


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shares", "30/30/30"], "add up to 90%"),
        (["--ticket-price", "lots"], "not an amount of ETH"),
        (["--mode", "allowlist"], "needs --allowlist-csv"),
    ],
)
def test_bad_terms_are_explained(cli, args, message):
    base = {"--mode": "lottery"}
    argv = ["create", "--manifest", str(EXAMPLE_MANIFEST), "--keystore", str(cli.keystores[0])]
    if "--mode" not in args:
        argv += ["--mode", base["--mode"]]
    code, out = cli(*argv, *args)
    assert code == 2 and message in out and "how to fix" in out


def test_invalid_manifest_lists_every_problem(cli, tmp_path):
    bad = json.loads(EXAMPLE_MANIFEST.read_text())
    bad["movie"]["fps"] = 0
    del bad["segments"][1]["prompts"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    code, out = cli("create", "--manifest", str(path), "--mode", "open", "--keystore", str(cli.keystores[0]))
    assert code == 2 and "/movie/fps" in out and "/segments/1" in out
    assert cli.chain.call("movieCount") == 0 or "created" not in out


def test_wrong_keystore_password(cli, monkeypatch):
    monkeypatch.setenv("MOVIEMINTER_KEYSTORE_PASSWORD", "not-the-password")
    code, out = cli(
        "create", "--manifest", str(EXAMPLE_MANIFEST), "--mode", "open", "--keystore", str(cli.keystores[0])
    )
    assert code == 2 and "wrong password" in out and "not-the-password" not in out


def test_allowlist_csv_errors_name_the_line():
    from movieminter.app.director import DirectorError, parse_allowlist_csv

    with pytest.raises(DirectorError) as e:
        parse_allowlist_csv(
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8,1\nnot-an-address,2\n0x90F79bf6EB2c4f870365E785982E1f101E93b906,9",
            6,
        )
    assert "line 2" in e.value.message and "beyond the movie's 6 segments" in e.value.message
    assert parse_allowlist_csv("0x70997970c51812dc3a010c7d01b50e0d17dc79c8,1-2;5\n", 6) == [
        ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", s) for s in (1, 2, 5)
    ]
