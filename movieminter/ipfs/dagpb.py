"""dag-pb and UnixFS protobuf encoding, byte-for-byte as Kubo/boxo writes it.

Hand-written because the schema is tiny and the PyPI candidates
(`ipld-dag-pb` 0.0.1, `libipld` which has no dag-pb) are either unmaintained or
lack the codec. What matters for CID equality with Kubo:

PBNode  (go-codec-dagpb / go-merkledag):  Links (field 2) are written BEFORE
        Data (field 1); each link always carries Hash, Name (even "") and Tsize;
        Data is omitted only when it is nil.
UnixFS Data (gogo proto2): Type(1) Data(2) filesize(3) blocksizes(4, one tag
        per value, not packed), in field order; unset optionals are omitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from multiformats import varint

from movieminter.ipfs.errors import MalformedBlock

# UnixFS DataType enum (unixfs.proto)
RAW, DIRECTORY, FILE, METADATA, SYMLINK, HAMT_SHARD = 0, 1, 2, 3, 4, 5

_WIRE_VARINT, _WIRE_BYTES = 0, 2


def _key(field_no: int, wire: int) -> bytes:
    return bytes([(field_no << 3) | wire])


def _bytes_field(field_no: int, payload: bytes) -> bytes:
    return _key(field_no, _WIRE_BYTES) + varint.encode(len(payload)) + payload


def _varint_field(field_no: int, value: int) -> bytes:
    return _key(field_no, _WIRE_VARINT) + varint.encode(value)


@dataclass(frozen=True)
class PBLink:
    hash: bytes  # binary CID (for CIDv0 just the multihash)
    name: str
    tsize: int  # cumulative size of the linked DAG (serialized blocks)


@dataclass
class PBNode:
    links: list[PBLink] = field(default_factory=list)
    data: bytes | None = None


def encode_link(link: PBLink) -> bytes:
    return _bytes_field(1, link.hash) + _bytes_field(2, link.name.encode("utf-8")) + _varint_field(3, link.tsize)


def encode_node(links: list[PBLink], data: bytes | None) -> bytes:
    out = bytearray()
    for link in links:
        out += _bytes_field(2, encode_link(link))
    if data is not None:
        out += _bytes_field(1, data)
    return bytes(out)


def unixfs_data(
    kind: int, data: bytes | None = None, filesize: int | None = None, blocksizes: list[int] | tuple[int, ...] = ()
) -> bytes:
    out = bytearray(_varint_field(1, kind))
    if data is not None:
        out += _bytes_field(2, data)
    if filesize is not None:
        out += _varint_field(3, filesize)
    for size in blocksizes:
        out += _varint_field(4, size)
    return bytes(out)


def leaf_envelope(chunk_len: int) -> tuple[bytes, bytes, bytes]:
    """(pbnode prefix, unixfs prefix, suffix) around a leaf's raw chunk bytes.

    A Kubo leaf is PBNode{Data: UnixFS{Type: File, Data: chunk, filesize: len}}.
    Returning the pieces lets the importer hash the chunk in place instead of
    copying 256 KiB into a new buffer per block."""
    inner_prefix = _varint_field(1, FILE) + _key(2, _WIRE_BYTES) + varint.encode(chunk_len)
    suffix = _varint_field(3, chunk_len)
    inner_len = len(inner_prefix) + chunk_len + len(suffix)
    outer_prefix = _key(1, _WIRE_BYTES) + varint.encode(inner_len)
    return outer_prefix, inner_prefix, suffix


# --- decoding ---------------------------------------------------------------


def _fields(buf: bytes | memoryview, what: str):
    """Yield (field_no, wire_type, value) of a protobuf message."""
    mv = memoryview(buf)
    pos, end = 0, len(mv)
    while pos < end:
        value: int | memoryview
        try:
            key, n, _ = varint.decode_raw(mv[pos : pos + 10])
        except Exception as exc:
            raise MalformedBlock(f"bad {what} protobuf: broken field key at byte {pos}") from exc
        pos += n
        field_no, wire = key >> 3, key & 7
        if wire == _WIRE_VARINT:
            try:
                value, n, _ = varint.decode_raw(mv[pos : pos + 10])
            except Exception as exc:
                raise MalformedBlock(f"bad {what} protobuf: broken varint at byte {pos}") from exc
            pos += n
        elif wire == _WIRE_BYTES:
            try:
                length, n, _ = varint.decode_raw(mv[pos : pos + 10])
            except Exception as exc:
                raise MalformedBlock(f"bad {what} protobuf: broken length at byte {pos}") from exc
            pos += n
            if pos + length > end:
                raise MalformedBlock(f"bad {what} protobuf: field {field_no} runs past the end")
            value = mv[pos : pos + length]
            pos += length
        else:
            raise MalformedBlock(f"bad {what} protobuf: unsupported wire type {wire}")
        yield field_no, wire, value


def decode_node(block: bytes) -> PBNode:
    node = PBNode()
    for field_no, wire, value in _fields(block, "dag-pb"):
        if field_no == 1 and wire == _WIRE_BYTES:
            node.data = bytes(value)
        elif field_no == 2 and wire == _WIRE_BYTES:
            h, name, tsize = None, "", 0
            for f, w, v in _fields(value, "dag-pb link"):
                if f == 1 and w == _WIRE_BYTES:
                    h = bytes(v)
                elif f == 2 and w == _WIRE_BYTES:
                    name = bytes(v).decode("utf-8", errors="replace")
                elif f == 3 and w == _WIRE_VARINT:
                    tsize = v
            if h is None:
                raise MalformedBlock("bad dag-pb link: no Hash")
            node.links.append(PBLink(h, name, tsize))
        else:
            raise MalformedBlock(f"bad dag-pb node: unexpected field {field_no}")
    return node


@dataclass
class UnixFSData:
    type: int
    data: bytes = b""
    filesize: int | None = None
    blocksizes: list[int] = field(default_factory=list)


def decode_unixfs(data: bytes | None) -> UnixFSData:
    if data is None:
        raise MalformedBlock("dag-pb node has no UnixFS Data")
    out = UnixFSData(type=-1)
    for field_no, wire, value in _fields(data, "UnixFS"):
        if field_no == 1 and wire == _WIRE_VARINT:
            out.type = value
        elif field_no == 2 and wire == _WIRE_BYTES:
            out.data = bytes(value)
        elif field_no == 3 and wire == _WIRE_VARINT:
            out.filesize = value
        elif field_no == 4 and wire == _WIRE_VARINT:
            out.blocksizes.append(value)
        # hashType, fanout, mode, mtime: not needed to read files
    if out.type < 0:
        raise MalformedBlock("UnixFS Data has no Type")
    return out
