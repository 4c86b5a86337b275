"""Fixtures of the IPFS subsystem: the shared known-answer vectors, Debian's
ipfs_cid as an independent implementation, stores and running doubles."""

from __future__ import annotations

import hashlib
import json
import os
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


# The shared file's answers (Kubo and ipfs_cid agreed on each), used only when
# shared/ is not beside the checkout.
EMBEDDED_VECTORS = [
    (
        0,
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
        "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y",
    ),
    (
        1,
        "QmNPMHmPwr2QQhmX9S4cdkEQqegfAQZKU6LjPMuEipiQcL",
        "bafybeiaawef4heksnxnqloyoyfonsqfcs2bzvzore7vq24jfwx54lgowou",
    ),
    (
        12,
        "QmTh8PpHCH5FcYvZHGE4peSV9dYikCYC2Qr8nXuBAmuiqw",
        "bafybeicprfnjxswbelmmjn5at5wibglkl3kcwcsmjobyofkk4dra7r333i",
    ),
    (
        262143,
        "Qmb9k8t6VfUXGAXX5BR9inqw8AtEJXUfLsfa989iwWhhuS",
        "bafybeif6lswxuz54payj7hr3wuaoiwcbykmh2rykwerlbyogaj6cbewzse",
    ),
    (
        262144,
        "QmTm7LX883T1TJJmdQYSS2yWezZ6gkZERtRRS1uBvyanRh",
        "bafybeicqrz5xfv7yc64ugbq4uxzfdd4ill7krjo33vzh6tozdzlitfjegq",
    ),
    (
        262145,
        "Qmf4WagMMqxHGxjC29DvqLMFKg4Wckj51HfAup3tQuv3Rw",
        "bafybeihyoqy4fsg3d6tllfbxty7ymf2tnwivwosegsu4tlxdfzraufxbsy",
    ),
    (
        1048576,
        "Qme6ghWtT6diEsMAFMEdnwWGnVGXjzeUaP1S1vz42kT8U8",
        "bafybeihke4oab4ynfijkqxjbgfoe523iivxemqi3nsivij22r2dkuxatye",
    ),
    (
        1048577,
        "Qmc24JRghzS7zdAPKuK9knkuSkddJ4dXj7DkEqkZ6XmEwf",
        "bafybeigliba4aplrdm66qvtkxfqugpnir3oae234fsaz4kkxyc5tguldsy",
    ),
    (
        3145733,
        "Qma6mHtVsfjTwLRPcxVMkhCuab8t5mXdUUPgdm5SMVwza8",
        "bafybeifoxwg7ta4d4gneor6ccsj63jfv4i6bjtu5gm6v7fqvcmmsl5qnou",
    ),
]


def load_vectors() -> list[dict]:
    if VECTORS.exists():
        return json.loads(VECTORS.read_text())["vectors"]
    return [{"size": s, "cidv0": v0, "cidv1": v1} for s, v0, v1 in EMBEDDED_VECTORS]


def ipfs_cid_tool(path: Path) -> str:
    """CIDv1 that Debian's ipfs_cid (a separate Rust implementation) computes."""
    exe = shutil.which("ipfs_cid")
    if not exe:
        message = (
            "Debian's ipfs_cid (package ipfs-cid) is not installed, so the independent CID check cannot run:"
            " ./mm setup installs it, or `sudo apt-get install ipfs-cid`"
        )
        if os.environ.get("CI", "").lower() == "true":  # CI must run the independent check, never skip it
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
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
    from movieminter.testing.server_thread import ServerThread

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
