"""Community deployment and settings: `chain deploy`, `chain anvil --deploy`, the setting, the A1111 field."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import types

import pytest

from movieminter.app.context import AppContext
from movieminter.chain.client import ChainClient
from movieminter.chain.keystore import import_keystore
from movieminter.cli import main as cli_main
from movieminter.config import Settings
from movieminter.errors import MovieMinterError
from movieminter.host import settings as host_settings


def test_setting_from_env_and_a1111_section():
    s = Settings.from_env({"MOVIEMINTER_COMMUNITY_ADDRESS": "0xabc"})
    assert s.community_address == "0xabc"
    assert Settings.from_env({}).community_address == ""
    keys = {key: field for key, field, *_ in host_settings.OPTIONS}
    assert keys["movieminter_community"] == "community_address"
    opts = types.SimpleNamespace(movieminter_community=" 0xdef ")
    assert host_settings.app_env(opts)["MOVIEMINTER_COMMUNITY_ADDRESS"] == "0xdef"
    assert "MOVIEMINTER_COMMUNITY_ADDRESS" not in host_settings.app_env(types.SimpleNamespace())
    # the deployment blocks, where log reads start, reach the app from A1111's section too
    opts = types.SimpleNamespace(movieminter_contract_deploy_block="120 ", movieminter_community_deploy_block="121")
    s = Settings.from_env(host_settings.app_env(opts))
    assert (s.contract_deploy_block, s.community_deploy_block) == (120, 121)
    assert Settings.from_env(host_settings.app_env(types.SimpleNamespace())).contract_deploy_block == 0


def test_context_community_needs_the_setting(tmp_path):
    with pytest.raises(MovieMinterError, match="No Community contract"):
        _ = AppContext(Settings(data_dir=tmp_path)).community


def test_cli_deploy_deploys_community_for_the_minter(anvil, tmp_path, capsys, monkeypatch):
    path = tmp_path / "deployer.json"
    import_keystore(path, anvil.private_keys[4], "deployer pw")
    monkeypatch.setenv("MM_PW", "deployer pw")
    assert cli_main(["chain", "deploy", "--rpc", anvil.url, "--keystore", str(path), "--password-env", "MM_PW"]) == 0
    out = capsys.readouterr().out
    minter = re.search(r"MovieMinter deployed at (0x[0-9a-fA-F]{40})", out).group(1)
    community = re.search(r"Community deployed at (0x[0-9a-fA-F]{40})", out).group(1)
    assert f"MOVIEMINTER_COMMUNITY_ADDRESS={community}" in out
    # the deployment blocks, where log reads start: each contract's code appears in its block, not before
    for name, address in (("CONTRACT", minter), ("COMMUNITY", community)):
        block = int(re.search(rf"MOVIEMINTER_{name}_DEPLOY_BLOCK=(\d+)", out).group(1))
        w3 = ChainClient(anvil.url).w3
        assert w3.eth.get_code(address, block) and not w3.eth.get_code(address, block - 1)
    ctx = AppContext(
        Settings(data_dir=tmp_path, rpc_url=anvil.url, contract_address=minter, community_address=community)
    )
    assert ctx.community.call("minter") == minter
    # linked by the keystore that deployed both (a signed setCommunity): approval gates payouts
    assert "MovieMinter linked to this Community" in out and ctx.community.is_linked()
    assert ChainClient(anvil.url, minter).call("community") == community
    # Community alone, for an existing MovieMinter: it cannot be linked (MovieMinter has one)
    assert cli_main(["chain", "deploy", "--rpc", anvil.url, "--community-for", minter]) == 0
    out = capsys.readouterr().out
    second = re.search(r"Community deployed at (0x[0-9a-fA-F]{40})", out).group(1)
    assert second != community and "NOT linked" in out
    assert ChainClient(anvil.url).w3.eth.get_code(second)


def test_chain_anvil_deploy_prints_both_addresses(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "movieminter", "chain", "anvil", "--deploy", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        out = "".join(lines)
        minter = re.search(r"MovieMinter deployed at (0x[0-9a-fA-F]{40})", out).group(1)
        community = re.search(r"Community deployed at (0x[0-9a-fA-F]{40})", out).group(1)
        client = ChainClient(f"http://127.0.0.1:{port}")
        from movieminter.chain.community import CommunityClient

        assert CommunityClient(client.rpc_url, community).call("minter") == minter
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
