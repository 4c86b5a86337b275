"""The local gateway over real HTTP (uvicorn in a thread): Range, HEAD,
Content-Type, ETag, trustless formats; verified reads refuse tampering."""

from __future__ import annotations

import os
import struct

import httpx
import pytest
from fastapi import FastAPI

from movieminter.ipfs import dagpb, unixfs
from movieminter.ipfs.blockstore import MemoryBlockstore
from movieminter.ipfs.car import read_car
from movieminter.ipfs.cid import parse_cid, to_cidv0
from movieminter.ipfs.errors import TamperedContent
from movieminter.ipfs.gateway import gateway_router
from movieminter.ipfs.trustless import verified_download, verified_get, verified_stream
from movieminter.testing.server_thread import ServerThread
from tests.fixtures_ipfs import vector_content

MP4_HEAD = struct.pack(">I", 24) + b"ftypisom" + b"\x00" * 12


def test_range_reads_like_a_video_player(gateway_server):
    url, store = gateway_server
    data = MP4_HEAD + vector_content(262144 * 2 + 1000)
    cid = store.add_bytes(data)
    with httpx.Client(base_url=url) as c:
        full = c.get(f"/ipfs/{cid}")
        assert full.status_code == 200 and full.content == data
        assert full.headers["content-type"] == "video/mp4"
        assert full.headers["etag"] == f'"{cid}"' and full.headers["accept-ranges"] == "bytes"
        # a seek across the chunk boundary
        r = c.get(f"/ipfs/{cid}", headers={"Range": "bytes=262100-262300"})
        assert r.status_code == 206 and r.content == data[262100:262301]
        assert r.headers["content-range"] == f"bytes 262100-262300/{len(data)}"
        assert c.get(f"/ipfs/{cid}", headers={"Range": "bytes=-10"}).content == data[-10:]
        assert c.get(f"/ipfs/{cid}", headers={"Range": "bytes=524000-"}).content == data[524000:]
        over = c.get(f"/ipfs/{cid}", headers={"Range": f"bytes={len(data)}-"})
        assert over.status_code == 416 and over.headers["content-range"] == f"bytes */{len(data)}"
        head = c.head(f"/ipfs/{cid}", headers={"Range": "bytes=0-99"})
        assert head.status_code == 206 and head.headers["content-length"] == "100" and head.content == b""
        assert c.get(f"/ipfs/{cid}", headers={"If-None-Match": f'"{cid}"'}).status_code == 304
        # the CIDv0 of the same content is served too
        assert c.get(f"/ipfs/{to_cidv0(cid)}").content == data


def test_content_types_and_directories(gateway_server):
    url, store = gateway_server
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(100)
    webp = b"RIFF" + b"\x00\x00\x00\x00" + b"WEBPVP8 " + os.urandom(20)
    gif = b"GIF89a" + os.urandom(20)
    meta = b'{"name": "segment"}'
    cid = store.add_directory(
        {"poster": png, "p.webp": webp, "g.gif": gif, "metadata.json": meta, "video.mp4": MP4_HEAD}
    )
    with httpx.Client(base_url=url) as c:
        for name, ctype, body in [
            ("poster", "image/png", png),
            ("p.webp", "image/webp", webp),
            ("g.gif", "image/gif", gif),
            ("metadata.json", "application/json", meta),
            ("video.mp4", "video/mp4", MP4_HEAD),
        ]:
            r = c.get(f"/ipfs/{cid}/{name}")
            assert r.status_code == 200 and r.content == body
            assert r.headers["content-type"] == ctype
        page = c.get(f"/ipfs/{store.add_directory({'index.html': b'<script>steal()</script>'})}/index.html")
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == "sandbox"  # never runs as the app's origin
        assert page.headers["x-content-type-options"] == "nosniff"
        listing = c.get(f"/ipfs/{cid}")
        assert listing.status_code == 200 and "metadata.json" in listing.text
        assert c.get(f"/ipfs/{cid}/missing.txt").status_code == 404
        assert c.get("/ipfs/not-a-cid").status_code == 400
        unknown = unixfs.import_bytes(b"never added")
        assert c.get(f"/ipfs/{unknown}").status_code == 404
        assert c.get(f"/ipfs/{cid}?format=tar").status_code == 400


def test_trustless_formats(gateway_server):
    url, store = gateway_server
    data = vector_content(262144 + 5)
    cid = store.add_bytes(data)
    with httpx.Client(base_url=url) as c:
        raw = c.get(f"/ipfs/{cid}?format=raw")
        assert raw.headers["content-type"] == "application/vnd.ipld.raw"
        assert raw.content == store.get_block(cid)
        assert c.get(f"/ipfs/{cid}", headers={"Accept": "application/vnd.ipld.raw"}).content == raw.content
        car = c.get(f"/ipfs/{cid}?format=car")
        assert car.headers["content-type"].startswith("application/vnd.ipld.car")
    blocks = MemoryBlockstore()
    assert read_car(car.content, blocks) == [parse_cid(cid)]
    assert len(blocks) == 3 and unixfs.read_file(cid, blocks.get) == data


def test_verified_get_from_our_gateway(gateway_server, tmp_path):
    url, store = gateway_server
    same = b"\x00" * 262144
    data = same * 3 + b"end"  # identical chunks: the CAR holds the leaf once (dups=n)
    cid = store.add_bytes(data)
    assert verified_get(cid, url) == data
    assert b"".join(verified_stream(cid, url)) == data
    assert verified_download(cid, url, tmp_path / "out.bin") == len(data)
    assert (tmp_path / "out.bin").read_bytes() == data


class _TamperingStore:
    """Serves the real store's blocks with one byte changed in every leaf."""

    def __init__(self, store, mode="leaf"):
        self.store = store
        self.mode = mode

    def get_block(self, cid):
        block = bytearray(self.store.get_block(cid))
        node = dagpb.decode_node(bytes(block))
        if self.mode == "leaf" and not node.links:
            block[-3] ^= 0x01
        return bytes(block)


@pytest.fixture
def tampering_gateway(local_store):
    def start(mode="leaf"):
        app = FastAPI()
        app.include_router(gateway_router(_TamperingStore(local_store, mode)))
        return ServerThread(app)

    return start


def test_tampered_gateway_is_refused(local_store, tampering_gateway, tmp_path):
    data = vector_content(262144 * 2 + 17)
    cid = local_store.add_bytes(data)
    with tampering_gateway() as gw:
        with pytest.raises(TamperedContent):
            verified_get(cid, gw.url)
        out = tmp_path / "movie.mp4"
        with pytest.raises(TamperedContent):
            verified_download(cid, gw.url, out)
        assert not out.exists() and not (tmp_path / "movie.mp4.part").exists()


def test_gateway_serving_other_content_is_refused(local_store):
    """A gateway that answers every CID with a valid DAG of *other* bytes."""
    wanted = unixfs.import_bytes(b"the real segment")
    other = local_store.add_bytes(b"something else entirely")

    app = FastAPI()
    real = gateway_router(local_store)
    app.include_router(real)

    @app.middleware("http")
    async def swap(request, call_next):
        if wanted in request.url.path:
            request.scope["path"] = request.url.path.replace(wanted, other)
        return await call_next(request)

    with ServerThread(app) as gw:
        with pytest.raises(TamperedContent):
            verified_get(wanted, gw.url)


def test_lying_dag_structure_is_refused(gateway_server):
    """Every block hashes correctly, but the parent claims sizes its leaves don't have."""
    url, store = gateway_server
    a = unixfs.import_stream(b"A" * 10, store.blocks)
    b = unixfs.import_stream(b"B" * 10, store.blocks)
    links = [dagpb.PBLink(bytes(a.cid), "", a.tsize), dagpb.PBLink(bytes(b.cid), "", b.tsize)]
    block = dagpb.encode_node(links, dagpb.unixfs_data(dagpb.FILE, None, 25, [10, 15]))
    import hashlib

    from multiformats import CID, multihash

    root = CID("base32", 1, "dag-pb", multihash.wrap(hashlib.sha256(block).digest(), "sha2-256"))
    store.blocks.put(root, block)
    with pytest.raises(TamperedContent):
        verified_get(str(root), url)


def test_gateway_without_car_support_is_read_block_by_block(local_store):
    data = vector_content(262144 * 2 + 3)
    cid = local_store.add_bytes(data)
    app = FastAPI()
    seen = []

    @app.middleware("http")
    async def no_car(request, call_next):
        fmt = request.query_params.get("format")
        seen.append(fmt)
        if fmt == "car":
            from fastapi.responses import PlainTextResponse

            return PlainTextResponse("format not supported", status_code=406)
        return await call_next(request)

    app.include_router(gateway_router(local_store))
    with ServerThread(app) as gw:
        assert verified_get(cid, gw.url) == data
        assert seen.count("raw") == 4  # root + 3 leaves, each verified
    with ServerThread(_tampered_app(local_store)) as bad:
        with pytest.raises(TamperedContent):
            verified_get(cid, bad.url)


def _tampered_app(store):
    """Refuses CAR and serves tampered raw leaves."""
    app = FastAPI()

    @app.middleware("http")
    async def no_car(request, call_next):
        if request.query_params.get("format") == "car":
            from fastapi.responses import PlainTextResponse

            return PlainTextResponse("no", status_code=501)
        return await call_next(request)

    app.include_router(gateway_router(_TamperingStore(store)))
    return app
