"""UnixFS import == Kubo's default `ipfs add`: the shared known answers and
Debian's independent ipfs_cid on generated files up to DAG depth 2."""

from __future__ import annotations

import io
import os

import pytest

from movieminter.ipfs import dagpb, unixfs
from movieminter.ipfs.blockstore import MemoryBlockstore
from movieminter.ipfs.cid import cid_to_digest, parse_cid, to_cidv0
from tests.fixtures_ipfs import ipfs_cid_tool, load_vectors, vector_content


@pytest.mark.parametrize("vector", load_vectors(), ids=lambda v: f"{v['size']}B")
def test_shared_vectors(vector, tmp_path):
    data = vector_content(vector["size"])
    assert unixfs.import_bytes(data) == vector["cidv1"]
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    cid = unixfs.import_file(path)
    assert cid == vector["cidv1"]
    assert to_cidv0(cid) == vector["cidv0"]

    # a stream that returns short reads must give the same chunks (io.ReadFull semantics)
    class Trickle(io.RawIOBase):
        def __init__(self):
            self.f = io.BytesIO(data)

        def readinto(self, b):
            return self.f.readinto(memoryview(b)[:100_000])

    assert unixfs.import_file(Trickle()) == vector["cidv1"]


def test_vectors_agree_with_ipfs_cid(tmp_path):
    v = load_vectors()[-1]
    path = tmp_path / "v.bin"
    path.write_bytes(vector_content(v["size"]))
    assert ipfs_cid_tool(path) == v["cidv1"]


@pytest.mark.parametrize("size", [0, 5, 262144 * 3 + 7, 262144 * 174])
def test_generated_files_match_ipfs_cid(size, tmp_path):
    path = tmp_path / "g.bin"
    path.write_bytes(os.urandom(size))
    assert unixfs.import_file(path) == ipfs_cid_tool(path)


@pytest.mark.slow
def test_depth_two_dag_matches_ipfs_cid(tmp_path):
    """175+ chunks (> 43.5 MiB) need a second level of links."""
    path = tmp_path / "big.bin"
    chunk = 262144
    with open(path, "wb") as f:
        for _ in range(174 * 2 + 3):
            f.write(os.urandom(chunk))
        f.write(b"tail")
    store = MemoryBlockstore()
    node = unixfs.import_stream(path, store)
    assert node.cidv1 == ipfs_cid_tool(path)
    root = dagpb.decode_node(store.get(node.cid))
    assert len(root.links) == 3  # two full 174-link subtrees + the tail subtree
    tail = dagpb.decode_node(store.get(parse_cid(root.links[2].hash)))
    assert len(tail.links) == 4  # 3 chunks + "tail", still wrapped at depth 1
    assert unixfs.read_file(node.cid, store.get) == path.read_bytes()


def test_leaf_and_parent_encoding_is_kubos():
    store = MemoryBlockstore()
    node = unixfs.import_stream(b"hello", store)
    # PBNode{Data: UnixFS{Type File, Data "hello", filesize 5}}
    assert store.get(node.cid) == bytes.fromhex("0a0b080212056865") + b"llo" + bytes.fromhex("1805")
    assert to_cidv0(node.cidv1) == "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
    big = unixfs.import_stream(vector_content(262145), store)
    root = dagpb.decode_node(store.get(big.cid))
    fs = dagpb.decode_unixfs(root.data)
    assert (fs.type, fs.filesize, fs.blocksizes) == (dagpb.FILE, 262145, [262144, 1])
    assert [link.name for link in root.links] == ["", ""]
    assert big.tsize == len(store.get(big.cid)) + sum(link.tsize for link in root.links)


def test_digest_is_bytes32():
    v = load_vectors()[2]
    digest = cid_to_digest(v["cidv1"])
    assert len(digest) == 32 and cid_to_digest(v["cidv0"]) == digest


def test_small_files_match_kubos_known_answers():
    # t0040-add-and-cat.sh: `echo "Hello Worlds!" | ipfs add`, and a file without final newline
    assert to_cidv0(unixfs.import_bytes(b"Hello Worlds!\n")) == "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH"
    assert (
        to_cidv0(unixfs.import_bytes(b"Hello Neptune!\nHello Pluton!"))
        == "QmZDhWpi8NvKrekaYYhxKCdNVGWsFFe1CREnAjP1QbPaB3"
    )


def test_empty_directory_is_kubos_well_known_cid():
    assert to_cidv0(unixfs.import_directory({})) == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"


@pytest.mark.parametrize(
    "entries, expected",
    [
        # known answers from Kubo's own test suite (test/sharness/t0040-add-and-cat.sh):
        # `ipfs add -r planets/` and `ipfs add -w hello.txt`
        (
            {"mars.txt": b"Hello Mars!\n", "venus.txt": b"Hello Venus!\n"},
            "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY",
        ),
        ({"hello.txt": b"Hello Worlds!\n"}, "QmVJfrqd4ogGZME6LWkkikAGddYgh9dBs2U14DHZZUBk7W"),
    ],
)
def test_directories_match_kubos_known_answers(entries, expected):
    assert to_cidv0(unixfs.import_directory(entries)) == expected


def test_directory_like_add_w(tmp_path):
    (tmp_path / "video.mp4").write_bytes(vector_content(300_000))
    store = MemoryBlockstore()
    entries = {"video.mp4": tmp_path / "video.mp4", "b.json": b"{}", "a.png": vector_content(10)}
    cid = unixfs.import_directory(entries, store)
    node = dagpb.decode_node(store.get(parse_cid(cid)))
    assert node.data == b"\x08\x01"  # UnixFS Directory, nothing else (ft.FolderPBData)
    assert [link.name for link in node.links] == ["a.png", "b.json", "video.mp4"]
    video = unixfs.import_stream(tmp_path / "video.mp4")
    link = node.links[2]
    assert parse_cid(link.hash) == video.cid and link.tsize == video.tsize
    # each file's link is the file's own Kubo CID, checked independently
    assert unixfs.import_file(tmp_path / "video.mp4") == ipfs_cid_tool(tmp_path / "video.mp4")
    # a directory's CID depends only on names and content, not the order given
    assert unixfs.import_directory(dict(reversed(list(entries.items())))) == cid


def test_huge_folder_is_refused_rather_than_mis_hashed():
    from movieminter.errors import MovieMinterError

    empty = unixfs.import_stream(b"")
    with pytest.raises(MovieMinterError, match="too large"):
        unixfs.directory_node({f"segment-{i:06d}.ts": empty for i in range(6000)})


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "x\x00y"])
def test_directory_refuses_unsafe_names(bad):
    from movieminter.errors import MovieMinterError

    with pytest.raises(MovieMinterError):
        unixfs.import_directory({bad: b"x"})


def test_reader_seeks_and_ranges():
    data = vector_content(262144 * 3 + 10)
    store = MemoryBlockstore()
    node = unixfs.import_stream(data, store)
    reader = unixfs.UnixFSReader(node.cid, store.get)
    assert reader.size == len(data)
    reader.seek(262140)
    assert reader.read(20) == data[262140:262160]
    reader.seek(-5, io.SEEK_END)
    assert reader.read() == data[-5:]
    assert b"".join(unixfs.iter_file(node.cid, store.get, 500_000, 600_000)) == data[500_000:600_000]


def test_import_streams_in_constant_memory():
    """96 MiB through a stream: peak Python allocations stay around one chunk."""
    import tracemalloc

    pattern = os.urandom(1 << 20)

    class Endless(io.RawIOBase):
        def __init__(self, total):
            self.left = total

        def readable(self):
            return True

        def readinto(self, b):
            n = min(len(b), self.left, len(pattern))
            b[:n] = pattern[:n]
            self.left -= n
            return n

    tracemalloc.start()
    try:
        node = unixfs.import_stream(Endless(96 << 20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert node.size == 96 << 20
    assert peak < 2 << 20, f"peak {peak} bytes"
