"""CAR v1 (Content Addressable aRchive): what `ipfs dag import`, Pinata's CAR
upload and trustless gateways (`?format=car`) speak.

    car     = varint(len(header)) header  section*
    header  = DAG-CBOR {"roots": [CID, ...], "version": 1}
    section = varint(len(cid) + len(block)) cid block

The header is a fixed three-field CBOR map, so it is written and read by the
few lines below rather than a CBOR library. Blocks are written in DFS
pre-order (root first), the order gateways use, so a reader can verify and
stream a file while it downloads.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from multiformats import CID, varint

from movieminter.ipfs import dagpb, unixfs
from movieminter.ipfs.blockstore import check_block
from movieminter.ipfs.cid import DAG_PB, multihash_key, parse_cid
from movieminter.ipfs.errors import IpfsError, MalformedBlock

CAR_MEDIA_TYPE = "application/vnd.ipld.car"


# --- header (tiny DAG-CBOR subset) -----------------------------------------


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([(major << 5) | n])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([(major << 5) | info]) + n.to_bytes(width, "big")
    raise ValueError("integer too large for CBOR")


def encode_header(roots: Iterable[CID | str]) -> bytes:
    cids = [parse_cid(r) for r in roots]
    body = bytearray(b"\xa2" + _cbor_head(3, 5) + b"roots" + _cbor_head(4, len(cids)))
    for r in cids:
        raw = b"\x00" + bytes(r)  # DAG-CBOR links: tag 42 over 0x00-prefixed CID bytes
        body += b"\xd8\x2a" + _cbor_head(2, len(raw)) + raw
    body += _cbor_head(3, 7) + b"version" + b"\x01"
    return varint.encode(len(body)) + bytes(body)


def _cbor_decode(buf: bytes, pos: int = 0):
    """Decode one CBOR item (uint, bytes, text, array, map, tag 42, simple)."""
    ib = buf[pos]
    major, info = ib >> 5, ib & 31
    pos += 1
    if info < 24:
        n = info
    elif info in (24, 25, 26, 27):
        width = 1 << (info - 24)
        n = int.from_bytes(buf[pos : pos + width], "big")
        pos += width
    else:
        raise MalformedBlock("CAR header uses indefinite-length CBOR")
    if major == 0:
        return n, pos
    if major in (2, 3):
        raw = buf[pos : pos + n]
        if len(raw) != n:
            raise MalformedBlock("CAR header truncated")
        return (bytes(raw) if major == 2 else bytes(raw).decode()), pos + n
    if major == 4:
        items = []
        for _ in range(n):
            item, pos = _cbor_decode(buf, pos)
            items.append(item)
        return items, pos
    if major == 5:
        out = {}
        for _ in range(n):
            k, pos = _cbor_decode(buf, pos)
            v, pos = _cbor_decode(buf, pos)
            out[k] = v
        return out, pos
    if major == 6 and n == 42:
        raw, pos = _cbor_decode(buf, pos)
        if not isinstance(raw, bytes) or raw[:1] != b"\x00":
            raise MalformedBlock("CAR header has a malformed CID link")
        return parse_cid(raw[1:]), pos
    if major == 7:
        return {20: False, 21: True, 22: None}.get(info), pos
    raise MalformedBlock(f"CAR header uses unsupported CBOR major type {major}")


def decode_header(body: bytes) -> list[CID]:
    try:
        header, _ = _cbor_decode(body)
    except (IndexError, ValueError) as exc:
        raise MalformedBlock("CAR header is not valid CBOR") from exc
    if not isinstance(header, dict) or header.get("version") != 1:
        raise MalformedBlock(
            "not a CAR v1 (header version is not 1)", hint="CAR v2 files are not supported; export CAR v1"
        )
    roots = header.get("roots")
    if not isinstance(roots, list) or not all(isinstance(r, CID) for r in roots):
        raise MalformedBlock("CAR header has no valid roots")
    return roots


# --- sections -----------------------------------------------------------------


def encode_section(cid: CID, block: bytes | memoryview) -> list[bytes | memoryview]:
    cb = bytes(cid)
    return [varint.encode(len(cb) + len(block)), cb, block]


def _split_cid(section: memoryview) -> tuple[CID, memoryview]:
    if len(section) >= 34 and section[0] == 0x12 and section[1] == 0x20:  # CIDv0
        return parse_cid(bytes(section[:34])), section[34:]
    pos = 0
    try:
        for _ in range(3):  # version, codec, hash function
            _, n, _ = varint.decode_raw(section[pos : pos + 10])
            pos += n
        length, n, _ = varint.decode_raw(section[pos : pos + 10])
    except Exception as exc:
        raise MalformedBlock("CAR section starts with a broken CID") from exc
    pos += n + length
    return parse_cid(bytes(section[:pos])), section[pos:]


class CarReader:
    """Iterate (cid, block) of a CAR v1 stream, verifying each block's hash
    unless verify=False. `roots` is read on construction."""

    def __init__(self, stream: BinaryIO | io.RawIOBase, *, verify: bool = True, max_block: int = 4 << 20):
        self.stream = stream
        self.verify = verify
        self.max_block = max_block
        n = self._read_varint(required=True)
        assert n is not None  # required: the end of the stream raises
        if n > 1 << 20:
            raise MalformedBlock("CAR header is implausibly large")
        self.roots = decode_header(self._read_exact(n))

    def _read_exact(self, n: int) -> bytes:
        data = self.stream.read(n)
        while data is not None and len(data) < n:
            more = self.stream.read(n - len(data))
            if not more:
                break
            data += more
        if data is None or len(data) != n:
            raise MalformedBlock("CAR stream ends in the middle of a section")
        return data

    def _read_varint(self, required: bool) -> int | None:
        value, shift = 0, 0
        for i in range(10):
            b = self.stream.read(1)
            if not b:
                if i == 0 and not required:
                    return None
                raise MalformedBlock("CAR stream ends in the middle of a varint")
            value |= (b[0] & 0x7F) << shift
            if not b[0] & 0x80:
                return value
            shift += 7
        raise MalformedBlock("CAR varint too long")

    def __iter__(self) -> Iterator[tuple[CID, bytes]]:
        while True:
            n = self._read_varint(required=False)
            if n is None:
                return
            if n > self.max_block + 128:
                raise MalformedBlock(f"CAR section of {n} bytes exceeds the block size limit")
            cid, view = _split_cid(memoryview(self._read_exact(n)))
            block = bytes(view)
            if self.verify:
                check_block(cid, block)
            yield cid, block


class IterStream(io.RawIOBase):
    """File-like wrapper over an iterator of byte chunks (an HTTP body)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._it = iter(chunks)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            return self._buf + b"".join(self._it)
        while len(self._buf) < n:
            try:
                self._buf += next(self._it)
            except StopIteration:
                break
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def read_car(source: str | Path | bytes | BinaryIO, blockstore=None, *, verify: bool = True) -> list[CID]:
    """Read a whole CAR, verify every block and put it into `blockstore`; returns the roots."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    if isinstance(source, (str, Path)):
        with open(source, "rb") as f:
            return read_car(f, blockstore, verify=verify)
    reader = CarReader(source, verify=verify)
    for cid, block in reader:
        if blockstore is not None:
            blockstore.put(cid, block)
    return reader.roots


# --- writing ------------------------------------------------------------------


def iter_dag_blocks(root: CID | str, get_block: Callable[[CID], bytes]) -> Iterator[tuple[CID, bytes]]:
    """DFS pre-order walk of a dag-pb/raw DAG, each block once."""
    seen: set[bytes] = set()
    stack = [parse_cid(root)]
    while stack:
        c = stack.pop()
        key = bytes(c.digest)
        if key in seen:
            continue
        seen.add(key)
        block = get_block(c)
        yield c, block
        if c.codec.code == DAG_PB:
            links = dagpb.decode_node(block).links
            stack.extend(parse_cid(link.hash) for link in reversed(links))


def iter_car(
    root: CID | str, get_block: Callable[[CID], bytes], prefix_blocks: Iterable[tuple[CID, bytes]] = ()
) -> Iterator[bytes | memoryview]:
    """CAR bytes of the DAG under `root` (streamed; nothing is held in memory)."""
    yield encode_header([root])
    for c, b in prefix_blocks:
        yield from encode_section(c, b)
    for c, b in iter_dag_blocks(root, get_block):
        yield from encode_section(c, b)


def write_car(root_cid: CID | str, blockstore, out: str | Path | BinaryIO) -> int:
    """Write the DAG under root_cid from blockstore as CAR v1; returns bytes written."""
    if isinstance(out, (str, Path)):
        with open(out, "wb") as f:
            return write_car(root_cid, blockstore, f)
    written = 0
    for piece in iter_car(root_cid, blockstore.get):
        out.write(piece)
        written += len(piece)
    return written


class CarWriter:
    """A write-only blockstore that streams blocks straight into a CAR file.
    The root is only known once the import finishes, so a header of the same
    length (a CIDv1 sha2-256 root is always 36 bytes) is reserved and patched
    by `finish(root)`. Needs a seekable output."""

    def __init__(self, out: BinaryIO):
        if not out.seekable():
            raise IpfsError("CAR streaming needs a seekable output file")
        self.out = out
        self.start = out.tell()
        self._placeholder = encode_header([CID("base32", 1, DAG_PB, ("sha2-256", bytes(32)))])
        out.write(self._placeholder)
        self._seen: set[bytes] = set()
        self.blocks = 0

    def put(self, cid: CID, block: bytes) -> None:
        key = multihash_key(cid)
        if key in self._seen:  # identical chunks are stored once, as Kubo does
            return
        self._seen.add(key)
        for piece in encode_section(cid, block):
            self.out.write(piece)
        self.blocks += 1

    def has(self, cid: CID) -> bool:
        return multihash_key(cid) in self._seen

    def finish(self, root: CID | str) -> None:
        header = encode_header([parse_cid(root).set(version=1)])
        if len(header) != len(self._placeholder):
            raise IpfsError("root CID is not a sha2-256 CIDv1; cannot patch the CAR header")
        end = self.out.tell()
        self.out.seek(self.start)
        self.out.write(header)
        self.out.seek(end)


def file_to_car(path: str | Path, out_path: str | Path) -> str:
    """`movieminter ipfs car`: import a file or folder straight into a CAR file,
    in constant memory; returns the root CIDv1."""

    path = Path(path)
    with open(out_path, "wb") as f:
        writer = CarWriter(f)
        if path.is_dir():
            entries = folder_entries(path)
            root = unixfs.import_directory_node(entries, writer)
        else:
            root = unixfs.import_stream(path, writer)
        writer.finish(root.cid)
    return root.cidv1


def folder_entries(folder: Path) -> dict:
    """A folder as import_directory entries, like `ipfs add -r` without
    --hidden: dot-files are left out. Symlinks are skipped (Kubo would store a
    symlink node; we neither follow nor copy them)."""
    out: dict = {}
    for child in sorted(Path(folder).iterdir()):
        if child.is_symlink() or child.name.startswith("."):
            continue
        out[child.name] = folder_entries(child) if child.is_dir() else child
    return out
