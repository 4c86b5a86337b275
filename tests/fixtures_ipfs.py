"""Fixtures of the IPFS subsystem: the shared known-answer vectors, Debian's
ipfs_cid as an independent implementation, stores and running doubles."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors" / "unixfs-kubo-default.json"
if not VECTORS.exists():  # CI clones main with shared/ beside it; developers run from /work/main
    VECTORS = Path("/work/shared/vectors/unixfs-kubo-default.json")


def vector_content(n: int) -> bytes:
    """The vectors' generator: sha256(b'movieminter' + i.to_bytes(8, 'big')) concatenated."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"movieminter" + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:n])


def load_vectors() -> list[dict]:
    return json.loads(VECTORS.read_text())["vectors"]


def ipfs_cid_tool(path: Path) -> str:
    """CIDv1 that Debian's ipfs_cid (a separate Rust implementation) computes."""
    exe = shutil.which("ipfs_cid")
    if not exe:
        pytest.skip("Debian's ipfs-cid is not installed (./mm setup installs it)")
    out = subprocess.run([exe, str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[0])["CIDv1"]


@pytest.fixture
def local_store(tmp_path):
    from movieminter.ipfs.stores import LocalStore
    return LocalStore(tmp_path / "data")


@pytest.fixture
def gateway_server(local_store):
    """The local store's gateway served by uvicorn in a thread: (url, store)."""
    from fastapi import FastAPI
    from movieminter.ipfs.gateway import gateway_router
    from movieminter.testing.kubo_double import ServerThread
    app = FastAPI()
    app.include_router(gateway_router(local_store))
    with ServerThread(app) as server:
        yield server.url, local_store


@pytest.fixture
def kubo_double(tmp_path):
    from movieminter.testing.kubo_double import KuboDouble
    with KuboDouble(tmp_path / "kubo") as double:
        yield double


@pytest.fixture
def psa_double(tmp_path):
    from movieminter.testing.psa_double import PsaDouble
    with PsaDouble(token="psa-secret-token") as double:
        yield double


@pytest.fixture
def pinata_double(tmp_path):
    from movieminter.testing.pinata_double import PinataDouble
    with PinataDouble() as double:
        yield double
