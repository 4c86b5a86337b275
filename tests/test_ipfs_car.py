"""CAR v1: round trip (write, then read with every block verified), streaming
export of files and folders, tampering detection, the CID <-> bytes32 map."""

from __future__ import annotations

import io
import os

import pytest
from multiformats import CID

from movieminter.ipfs import unixfs
from movieminter.ipfs.blockstore import MemoryBlockstore
from movieminter.ipfs.car import CarReader, decode_header, encode_header, file_to_car, read_car, write_car
from movieminter.ipfs.cid import cid_to_digest, digest_to_cid, parse_cid
from movieminter.ipfs.errors import InvalidCid, MalformedBlock, TamperedContent
from tests.fixtures_ipfs import load_vectors, vector_content


def test_round_trip(tmp_path):
    data = vector_content(262144 * 5 + 3)
    src = MemoryBlockstore()
    cid = unixfs.import_bytes(data, src)
    out = io.BytesIO()
    write_car(cid, src, out)
    dst = MemoryBlockstore()
    assert read_car(out.getvalue(), dst) == [parse_cid(cid)]
    assert len(dst) == len(src) == 7
    assert unixfs.read_file(cid, dst.get) == data
    # DFS pre-order: the root comes first, as trustless gateways send it
    first_cid, _ = next(iter(CarReader(io.BytesIO(out.getvalue()))))
    assert first_cid == parse_cid(cid)


def test_header_is_dag_cbor():
    root = parse_cid(load_vectors()[3]["cidv1"])
    header = encode_header([root])
    # varint length, then {"roots": [tag42(0x00 || cid)], "version": 1}
    assert header[1:9] == b"\xa2\x65roots\x81" and header.endswith(b"\x67version\x01")
    assert decode_header(header[1:]) == [root]
    with pytest.raises(MalformedBlock):
        decode_header(b"\xa1\x67version\x02")


def test_streaming_export_of_file_and_folder(tmp_path):
    big = tmp_path / "seg" / "video.mp4"
    big.parent.mkdir()
    big.write_bytes(os.urandom(262144 * 3) * 2)  # repeated chunks are written once
    (big.parent / "metadata.json").write_bytes(b'{"a": 1}')
    (big.parent / ".DS_Store").write_bytes(b"hidden files are left out, like ipfs add -r")
    car = tmp_path / "file.car"
    cid = file_to_car(big, car)
    assert cid == unixfs.import_file(big)
    blocks = MemoryBlockstore()
    assert read_car(car, blocks) == [parse_cid(cid)]
    assert len(blocks) == 4 and unixfs.read_file(cid, blocks.get) == big.read_bytes()
    dcid = file_to_car(big.parent, tmp_path / "dir.car")
    assert dcid == unixfs.import_directory({"video.mp4": big, "metadata.json": big.parent / "metadata.json"})
    assert read_car(tmp_path / "dir.car") == [parse_cid(dcid)]


def test_tampered_car_is_refused(tmp_path):
    data = vector_content(300_000)
    src = MemoryBlockstore()
    cid = unixfs.import_bytes(data, src)
    out = io.BytesIO()
    write_car(cid, src, out)
    raw = bytearray(out.getvalue())
    raw[-100] ^= 0xFF
    with pytest.raises(TamperedContent):
        read_car(bytes(raw), MemoryBlockstore())
    with pytest.raises(MalformedBlock):
        read_car(bytes(out.getvalue()[:-10]))  # truncated


@pytest.mark.parametrize("vector", load_vectors()[:3], ids=lambda v: str(v["size"]))
def test_digest_cid_mapping(vector):
    digest = cid_to_digest(vector["cidv1"])
    assert cid_to_digest(vector["cidv0"]) == digest
    assert digest_to_cid(digest) == vector["cidv1"]
    assert digest_to_cid("0x" + digest.hex()) == vector["cidv1"]
    # the exact bytes the contract's tokenURI encodes: 'b' + base32(01 70 12 20 || digest)
    import base64

    assert vector["cidv1"] == "b" + base64.b32encode(bytes([1, 0x70, 0x12, 0x20]) + digest).decode().lower().rstrip("=")


def test_digest_mapping_refuses_what_the_chain_cannot_hold():
    raw_leaf = unixfs.import_stream(b"x", cid_version=1, raw_leaves=True).cidv1
    assert raw_leaf.startswith("bafkrei")
    with pytest.raises(InvalidCid, match="raw"):
        cid_to_digest(raw_leaf)
    with pytest.raises(InvalidCid):
        cid_to_digest("not-a-cid")
    with pytest.raises(InvalidCid):
        digest_to_cid(b"\x00" * 31)
    identity = CID("base32", 1, "dag-pb", ("identity", b"abc"))
    with pytest.raises(InvalidCid, match="sha2-256"):
        cid_to_digest(str(identity))
