"""Content stores through their real HTTP contracts (doubles of Kubo, the
Pinning Service API and Pinata): every push is checked against the locally
computed CID, and a mismatch records nothing as pinned."""

from __future__ import annotations

import os

import httpx
import pytest

from movieminter.config import Settings
from movieminter.ipfs import unixfs
from movieminter.ipfs.cid import to_cidv1
from movieminter.ipfs.errors import CidMismatch, InsufficientFunds, IpfsError, StoreAuthError, StoreUnavailable
from movieminter.ipfs.stores import LocalStore, open_store
from movieminter.ipfs.stores.kubo import KuboStore
from movieminter.ipfs.stores.pinata import PinataStore
from movieminter.ipfs.stores.psa import PsaStore
from tests.fixtures_ipfs import load_vectors, vector_content


def test_open_store_picks_backend(tmp_path):
    assert isinstance(open_store(Settings(data_dir=tmp_path)), LocalStore)
    kubo = open_store(Settings(data_dir=tmp_path, ipfs_backend="kubo", ipfs_token="user:pw"))
    assert isinstance(kubo, KuboStore) and "pw" not in repr(kubo)
    with pytest.raises(IpfsError, match="unknown IPFS backend"):
        open_store(Settings(data_dir=tmp_path, ipfs_backend="s3"))
    with pytest.raises(IpfsError, match="JWT"):
        open_store(Settings(data_dir=tmp_path, ipfs_backend="pinata"))
    with pytest.raises(IpfsError, match="endpoint"):
        open_store(Settings(data_dir=tmp_path, ipfs_backend="psa", ipfs_token="t"))


def test_local_store(local_store, tmp_path):
    v = load_vectors()[-1]
    path = tmp_path / "seg.mp4"
    path.write_bytes(vector_content(v["size"]))
    cid = local_store.add_file(path)
    assert cid == v["cidv1"] and local_store.pinned() == [cid]
    assert local_store.has(cid) and local_store.has(v["cidv0"])
    assert local_store.size(cid) == v["size"] and local_store.cat(cid) == path.read_bytes()
    f = local_store.open(cid)
    f.seek(1_000_000)
    assert f.read(10) == path.read_bytes()[1_000_000:1_000_010]
    # block files are named by hash only
    names = [p.name for p in (local_store.root / "blocks").rglob("*.data")]
    assert names and all(n[:-5].isalnum() and n.islower() for n in names)
    assert not local_store.has(unixfs.import_bytes(b"absent"))
    with pytest.raises(IpfsError, match="cannot pin"):
        local_store.pin(unixfs.import_bytes(b"absent"))


def test_local_store_car_import_export(local_store, tmp_path):
    data = os.urandom(600_000)
    cid = local_store.add_bytes(data)
    local_store.export_car(cid, tmp_path / "x.car")
    other = LocalStore(tmp_path / "other")
    assert other.import_car(tmp_path / "x.car") == [cid]
    assert other.cat(cid) == data and other.pinned() == [cid]


# --- Kubo ---------------------------------------------------------------------


def test_kubo_add_with_explicit_parameters(kubo_double, tmp_path):
    store = KuboStore(tmp_path / "data", kubo_double.url)
    assert store.version()["Version"]
    v = load_vectors()[6]
    cid = store.add_bytes(vector_content(v["size"]))
    assert cid == v["cidv1"]
    method, path, params = [r for r in kubo_double.requests if r[1] == "/api/v0/add"][-1]
    assert method == "POST" and params == {
        "cid-version": "0",
        "chunker": "size-262144",
        "raw-leaves": "false",
        "hash": "sha2-256",
        "pin": "true",
        "progress": "false",
    }
    assert kubo_double.is_pinned(cid) and store.pinned() == [cid] and store.has(cid)
    assert not store.has(unixfs.import_bytes(b"not there"))
    store.pin(cid)
    # read back through block/get, verified, from a fresh local cache
    assert KuboStore(tmp_path / "fresh", kubo_double.url).cat(cid) == vector_content(v["size"])


def test_kubo_directories(kubo_double, tmp_path):
    store = KuboStore(tmp_path / "data", kubo_double.url)
    (tmp_path / "video file.mp4").write_bytes(os.urandom(300_000))
    flat = {"video file.mp4": tmp_path / "video file.mp4", "metadata.json": b"{}"}
    cid = store.add_directory(flat)
    assert cid == unixfs.import_directory(flat) and kubo_double.is_pinned(cid)
    assert any(r[2].get("wrap-with-directory") == "true" for r in kubo_double.requests)
    nested = {"segment": {"v.mp4": b"video"}, "index.json": b"[]"}
    cid2 = store.add_directory(nested)  # nested folders go as a CAR through dag/import
    assert cid2 == unixfs.import_directory(nested) and kubo_double.is_pinned(cid2)


def test_kubo_basic_auth_and_car_import(kubo_double, tmp_path):
    import base64

    kubo_double.auth = "Basic " + base64.b64encode(b"director:pa55").decode()
    store = KuboStore(tmp_path / "data", kubo_double.url, token="director:pa55")
    from movieminter.ipfs.car import file_to_car

    (tmp_path / "seg.mp4").write_bytes(os.urandom(300_000))
    root = file_to_car(tmp_path / "seg.mp4", tmp_path / "seg.car")
    assert store.import_car(tmp_path / "seg.car") == [root]
    assert kubo_double.is_pinned(root) and root in store.pinned()
    with pytest.raises(StoreAuthError):
        KuboStore(tmp_path / "data", kubo_double.url, token="director:wrong").version()


def test_kubo_rpc_is_post_only(kubo_double):
    assert httpx.get(kubo_double.url + "/api/v0/version").status_code == 405


def test_kubo_wrong_cid_records_nothing(kubo_double, tmp_path):
    store = KuboStore(tmp_path / "data", kubo_double.url)
    kubo_double.fault = "wrong_cid"
    with pytest.raises(CidMismatch) as err:
        store.add_bytes(b"segment video bytes")
    assert err.value.details["expected"] == unixfs.import_bytes(b"segment video bytes")
    assert store.pinned() == [] and not store.pins.list()


def test_kubo_faults_have_clear_messages(kubo_double, tmp_path):
    secret = "Bearer very-secret-kubo-token"
    kubo_double.auth = secret
    store = KuboStore(tmp_path / "data", kubo_double.url, token=secret, timeout=1.0)
    assert store.add_bytes(b"ok")  # right token works
    wrong = KuboStore(tmp_path / "data", kubo_double.url, token="Bearer nope")
    with pytest.raises(StoreAuthError):
        wrong.add_bytes(b"x")
    kubo_double.fault = "insufficient_funds"
    with pytest.raises(InsufficientFunds, match="insufficient funds"):
        store.add_bytes(b"x")
    kubo_double.fault = "slow"
    with pytest.raises(StoreUnavailable, match="timed out") as slow:
        store.add_bytes(b"y")
    kubo_double.fault = "down"
    with pytest.raises(StoreUnavailable, match="502") as down:
        store.add_bytes(b"z")
    kubo_double.fault = None
    kubo_double.stop()
    with pytest.raises(StoreUnavailable, match="cannot reach") as refused:
        store.add_bytes(b"w")
    for exc in (slow.value, down.value, refused.value):
        assert "very-secret" not in str(exc) and "very-secret" not in repr(exc)
    assert "very-secret" not in repr(store)
    assert store.pinned() == [to_cidv1(unixfs.import_bytes(b"ok"))]


# --- Pinning Service API ------------------------------------------------------


@pytest.fixture
def psa_store(psa_double, gateway_server):
    """A PSA store whose content the service fetches from our own gateway."""
    url, local = gateway_server
    psa_double.fetch_from = url
    return PsaStore(local.root.parent, psa_double.url, psa_double.token, poll_interval=0.01, pin_timeout=5)


def test_psa_pins_after_queued_pinning_pinned(psa_store, psa_double):
    data = vector_content(700_000)
    cid = psa_store.add_bytes(data)
    assert psa_store.pinned() == [cid] and cid in psa_double.pinned_cids()
    assert psa_store.has(cid)
    psa_store.pin(cid)  # the job runner pins after adding: no second pin request
    assert len(psa_double.pins) == 1
    assert not psa_store.has(unixfs.import_bytes(b"never"))


def test_psa_failures_record_nothing(psa_store, psa_double):
    psa_double.fault = "wrong_cid"
    with pytest.raises(CidMismatch):
        psa_store.add_bytes(b"a")
    psa_double.fault = "fail"
    with pytest.raises(IpfsError, match="failed to pin"):
        psa_store.add_bytes(b"b")
    psa_double.fault = "insufficient_funds"
    with pytest.raises(InsufficientFunds):
        psa_store.add_bytes(b"c")
    psa_double.fault = "stuck"
    psa_store.pin_timeout = 0.2
    with pytest.raises(StoreUnavailable, match="still queued"):
        psa_store.add_bytes(b"d")
    psa_double.fault = None
    psa_double.fetch_from = None  # content nobody can retrieve
    psa_store.pin_timeout = 5
    with pytest.raises(IpfsError, match="failed to pin"):
        psa_store.add_bytes(b"e")
    assert psa_store.pinned() == []


def test_psa_bad_token(psa_double, tmp_path):
    store = PsaStore(tmp_path, psa_double.url, "psa-wrong-token")
    with pytest.raises(StoreAuthError) as err:
        store.add_bytes(b"x")
    assert "psa-wrong-token" not in str(err.value) and store.pinned() == []


# --- Pinata -------------------------------------------------------------------


def test_pinata_car_upload(pinata_double, tmp_path):
    store = PinataStore(tmp_path, pinata_double.jwt, pinata_double.url)
    assert "Congratulations" in store.test_authentication()["message"]
    data = vector_content(262144 * 2)
    cid = store.add_bytes(data)
    assert cid == unixfs.import_bytes(data) and cid in pinata_double.cids()
    assert pinata_double.files[-1]["mime_type"] == "application/vnd.ipld.car"
    assert store.has(cid) and store.pinned() == [cid]
    # a plain (non-CAR) upload to Pinata makes a different, raw-leaves CID: why we upload CARs
    plain = httpx.post(
        pinata_double.url + "/v3/files",
        headers={"Authorization": f"Bearer {pinata_double.jwt}"},
        files={"file": ("x.bin", data)},
        data={"network": "public"},
    ).json()["data"]["cid"]
    assert plain.startswith("bafybei") and plain != cid


def test_remote_store_reads_through_a_gateway_without_leaking_its_token(pinata_double, tmp_path):
    from fastapi import FastAPI, Request

    from movieminter.ipfs.gateway import gateway_router
    from movieminter.testing.server_thread import ServerThread

    uploader = PinataStore(tmp_path / "a", pinata_double.jwt, pinata_double.url)
    data = vector_content(262144 + 9)
    cid = uploader.add_bytes(data)
    app, auth_seen = FastAPI(), []

    @app.middleware("http")
    async def spy(request: Request, call_next):
        auth_seen.append(request.headers.get("authorization"))
        return await call_next(request)

    app.include_router(gateway_router(uploader.local))
    with ServerThread(app) as gw:
        reader = PinataStore(tmp_path / "b", pinata_double.jwt, pinata_double.url, gateway_url=gw.url)
        assert reader.cat(cid) == data and reader.size(cid) == len(data)
    assert auth_seen and auth_seen == [None] * len(auth_seen)
    with pytest.raises(IpfsError, match="gateway_url"):
        PinataStore(tmp_path / "c", pinata_double.jwt, pinata_double.url).cat(cid)


def test_pinata_errors(pinata_double, tmp_path):
    store = PinataStore(tmp_path, pinata_double.jwt, pinata_double.url)
    pinata_double.fault = "wrong_cid"
    with pytest.raises(CidMismatch):
        store.add_bytes(b"x")
    pinata_double.fault = "insufficient_funds"
    with pytest.raises(InsufficientFunds):
        store.add_bytes(b"y")
    pinata_double.fault = None
    bad = PinataStore(tmp_path, "eyJ.bad.jwt", pinata_double.url)
    with pytest.raises(StoreAuthError) as err:
        bad.add_bytes(b"z")
    assert "eyJ.bad.jwt" not in str(err.value)
    assert store.pinned() == [] and bad.pinned() == []
