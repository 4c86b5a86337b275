"""Properties over many generated sizes and ranges (hypothesis): import then
read gives the bytes back, CAR round trips, and Range arithmetic matches
Python slicing."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movieminter.ipfs import unixfs
from movieminter.ipfs.blockstore import MemoryBlockstore
from movieminter.ipfs.car import read_car, write_car
from movieminter.ipfs.gateway import RangeNotSatisfiable, parse_range

SMALL_CHUNK = 64  # small chunks give deep trees over few bytes


def _tree(data: bytes, chunk: int = SMALL_CHUNK):
    store = MemoryBlockstore()
    importer = unixfs.FileImporter(store, max_links=3)
    for off in range(0, len(data), chunk):
        importer.add_chunk(data[off : off + chunk])
    return importer.finish(), store


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.data())
def test_read_back_any_range(data, draw):
    root, store = _tree(data)
    assert root.size == len(data)
    assert unixfs.read_file(root.cid, store.get) == data
    start = draw.draw(st.integers(0, len(data)))
    end = draw.draw(st.integers(start, len(data)))
    assert b"".join(unixfs.iter_file(root.cid, store.get, start, end)) == data[start:end]


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=2000))
def test_car_round_trip(data):
    root, store = _tree(data)
    out = io.BytesIO()
    write_car(root.cid, store, out)
    back = MemoryBlockstore()
    assert read_car(out.getvalue(), back) == [root.cid]
    assert unixfs.read_file(root.cid, back.get) == data


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1000), st.integers(-5, 1200), st.integers(-5, 1200), st.sampled_from(["ab", "a-", "-b"]))
def test_parse_range_matches_slicing(size, a, b, form):
    header = {"ab": f"bytes={a}-{b}", "a-": f"bytes={a}-", "-b": f"bytes=-{b}"}[form]
    data = bytes(size)
    try:
        rng = parse_range(header, size)
    except RangeNotSatisfiable:
        if form == "-b":
            assert b <= 0 or size == 0
        else:
            assert size == 0 or a >= size or (form == "ab" and b < a)
        return
    if rng is None:  # malformed: whole file
        assert "--" in header or a < 0 or (form == "ab" and b < 0)
        return
    start, end = rng
    assert 0 <= start <= end < size
    if form == "-b":
        assert data[start : end + 1] == data[-b:]
    else:
        assert (start, end) == (a, min(b if form == "ab" else size - 1, size - 1))


def test_max_links_layout_is_balanced():
    """With 3 links per node, 10 chunks build depth 3 exactly as boxo's balanced builder."""
    root, store = _tree(bytes(range(10)) * 64)
    from movieminter.ipfs import dagpb

    node = dagpb.decode_node(store.get(root.cid))
    assert len(node.links) == 2  # one full subtree of 9 chunks + one holding the 10th
    depth, c = 0, root.cid
    while True:
        n = dagpb.decode_node(store.get(c))
        if not n.links:
            break
        depth, c = depth + 1, unixfs.parse_cid(n.links[-1].hash)
    assert depth == 3  # the last chunk is still wrapped at every level


@pytest.mark.parametrize("header", [None, "", "items=0-1", "bytes=0-1,4-5", "bytes=x-y"])
def test_parse_range_ignores_what_it_does_not_serve(header):
    assert parse_range(header, 100) is None
