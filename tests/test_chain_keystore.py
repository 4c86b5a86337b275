"""Encrypted keystores: create / import / load, wrong passwords, no plaintext on disk or in output, CLI, and
headless signing through ChainClient.send."""

from __future__ import annotations

import json
import os
import stat

import pytest

from movieminter.chain.keystore import create_keystore, import_keystore, keystore_address, load_account, read_password
from movieminter.cli import main as cli_main
from movieminter.errors import MovieMinterError


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    """Keystores made here use a small scrypt work factor: the format and code path are the same."""
    monkeypatch.setattr("movieminter.chain.keystore.SCRYPT_N", 2**10)


KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"


def test_import_and_load_round_trip(tmp_path):
    path = tmp_path / "k.json"
    assert import_keystore(path, KEY, "correct horse") == ADDRESS
    text = path.read_text()
    assert KEY[2:] not in text and json.loads(text)["crypto"]["kdf"] == "scrypt"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keystore_address(path).lower() == ADDRESS.lower()
    account = load_account(path, "correct horse")
    assert account.address == ADDRESS
    assert KEY[2:] not in repr(account) and KEY[2:] not in str(account)


def test_refusals(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, "long enough pw")
    with pytest.raises(MovieMinterError, match="wrong password") as err:
        load_account(path, "nope nope nope")
    assert "nope" not in str(err.value)
    with pytest.raises(MovieMinterError, match="already exists"):
        create_keystore(path, "long enough pw")
    with pytest.raises(MovieMinterError, match="too short"):
        create_keystore(tmp_path / "b.json", "short")
    with pytest.raises(MovieMinterError, match="not a valid private key"):
        import_keystore(tmp_path / "c.json", "0x1234", "long enough pw")
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"private_key": KEY}))
    with pytest.raises(MovieMinterError, match="plaintext keys are not accepted"):
        load_account(plain, "whatever123")
    with pytest.raises(MovieMinterError, match="not found"):
        load_account(tmp_path / "missing.json", "whatever123")


def test_password_from_named_env_var(monkeypatch):
    monkeypatch.setenv("MM_TEST_PW", "from the env")
    assert read_password("MM_TEST_PW") == "from the env"
    with pytest.raises(MovieMinterError, match="MM_TEST_UNSET is not set"):
        read_password("MM_TEST_UNSET")


def test_cli_new_and_import_never_print_secrets(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MM_PW", "cli password 1")
    monkeypatch.setenv("MM_KEY", KEY)
    assert cli_main(["keystore", "new", str(tmp_path / "n.json"), "--password-env", "MM_PW"]) == 0
    assert (
        cli_main(["keystore", "import", str(tmp_path / "i.json"), "--password-env", "MM_PW", "--key-env", "MM_KEY"])
        == 0
    )
    out = capsys.readouterr()
    assert ADDRESS in out.out
    assert KEY[2:] not in out.out + out.err and "cli password 1" not in out.out + out.err
    assert load_account(tmp_path / "i.json", "cli password 1").address == ADDRESS


def test_headless_send_from_a_keystore(deployed, tmp_path):
    from tests.fixtures_chain import create_movie

    c = deployed
    path = tmp_path / "minter.json"
    address = import_keystore(path, KEY, "headless pw")
    c.w3.eth.send_transaction({"from": c.w3.eth.accounts[0], "to": address, "value": 10**18})
    movie_id = create_movie(c, mint_mode="open")
    account = load_account(path, "headless pw")
    receipt = c.wait(c.send("buyTicket", [movie_id], account, value=10**15))
    assert receipt["status"] == 1 and c.call("hasTicket", movie_id, address)
    assert c.wait(receipt) == receipt  # wait() accepts a receipt too


def test_deploy_from_a_keystore_and_cli_deploy(anvil, tmp_path, capsys, monkeypatch):
    from movieminter.chain.client import ChainClient

    path = tmp_path / "deployer.json"
    import_keystore(path, anvil.private_keys[3], "deployer pw")
    client = ChainClient(anvil.url)
    snap = client.w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        address = client.deploy(load_account(path, "deployer pw"))
        assert client.call("movieCount") == 0 and client.w3.eth.get_code(address)
        monkeypatch.setenv("MM_DEPLOY_PW", "deployer pw")
        assert (
            cli_main(["chain", "deploy", "--rpc", anvil.url, "--keystore", str(path), "--password-env", "MM_DEPLOY_PW"])
            == 0
        )
        assert "MovieMinter deployed at 0x" in capsys.readouterr().out
    finally:
        client.w3.provider.make_request("evm_revert", [snap])
