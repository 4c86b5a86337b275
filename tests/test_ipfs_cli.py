"""`movieminter ipfs add | car | get` as a user runs them (subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi import FastAPI

from movieminter.ipfs.car import read_car
from movieminter.ipfs.cid import parse_cid
from movieminter.ipfs.gateway import gateway_router
from movieminter.testing.server_thread import ServerThread
from tests.fixtures_ipfs import ipfs_cid_tool


def mm(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "movieminter", "ipfs", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_add_only_hash_matches_ipfs_cid(tmp_path):
    f = tmp_path / "segment.mp4"
    f.write_bytes(os.urandom(262144 * 2 + 99))
    r = mm("add", "--only-hash", f, env={"MOVIEMINTER_DATA_DIR": str(tmp_path / "data")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ipfs_cid_tool(f)
    assert not (tmp_path / "data").exists()


def test_add_to_local_store_then_get_through_gateway(tmp_path):
    f = tmp_path / "poster.png"
    f.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(5000))
    data_dir = tmp_path / "data"
    r = mm("add", "--data-dir", data_dir, f)
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    assert (data_dir / "ipfs" / "pins" / cid).exists()
    from movieminter.ipfs.stores import LocalStore

    app = FastAPI()
    app.include_router(gateway_router(LocalStore(data_dir)))
    with ServerThread(app) as gw:
        out = tmp_path / "out.png"
        r = mm("get", cid, "-o", out, "--gateway", gw.url)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes() == f.read_bytes()


def test_car_command(tmp_path):
    f = tmp_path / "v.bin"
    f.write_bytes(os.urandom(400_000))
    r = mm("car", f, "-o", tmp_path / "v.car")
    assert r.returncode == 0, r.stderr
    assert read_car(tmp_path / "v.car") == [parse_cid(r.stdout.strip())]


def test_clear_errors(tmp_path):
    r = mm("add", tmp_path / "missing.mp4")
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = mm("get", "bafy-not-a-cid", "-o", tmp_path / "x")
    assert r.returncode == 2 and "not a valid CID" in r.stderr
    r = mm(
        "add",
        "--store",
        "kubo",
        "--data-dir",
        tmp_path / "d",
        __file__,
        env={"MOVIEMINTER_IPFS_ENDPOINT": "http://127.0.0.1:9", "MOVIEMINTER_IPFS_TOKEN": "topsecret"},
    )
    assert r.returncode == 2 and "cannot reach Kubo RPC" in r.stderr and "topsecret" not in r.stderr
