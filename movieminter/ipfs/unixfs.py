"""UnixFS import identical to Kubo's default `ipfs add`, and UnixFS reading.

Import (boxo importer, balanced layout): fixed 262144-byte chunks, each leaf a
dag-pb node holding UnixFS{File, Data, filesize}; parents hold at most 174
links and UnixFS{File, filesize, blocksizes}. A single-chunk file is its own
root; otherwise the tree is as shallow as possible and filled left to right,
so each partial last node is still wrapped at every level (boxo's
fillNodeRec). Memory stays constant: only one chunk buffer plus at most
174 pending links per level are held, whatever the file size.

Results are CIDv1 base32 strings; `cid.cid_to_digest` gives the bytes32.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from multiformats import CID

from movieminter.ipfs import dagpb
from movieminter.ipfs.cid import DAG_PB, RAW, parse_cid
from movieminter.ipfs.errors import IpfsError, MalformedBlock, TamperedContent

CHUNK_SIZE = 262144
MAX_LINKS = 174
# boxo switches a folder to a HAMT shard once its estimated size (name bytes +
# CID bytes per link) reaches 256 KiB; we build basic folders only.
HAMT_THRESHOLD = 262144


class ImportedNode:
    """An imported file/directory root: binary CID, cumulative DAG size
    (dag-pb link Tsize) and content size (0 for directories). The CID object
    is built only when asked for (see cid.multihash_key for why)."""

    __slots__ = ("cid_bytes", "tsize", "size", "_cid")

    def __init__(self, cid: CID | bytes, tsize: int, size: int):
        self._cid: CID | None
        if isinstance(cid, CID):
            self._cid, self.cid_bytes = cid, bytes(cid)
        else:
            self._cid, self.cid_bytes = None, bytes(cid)
        self.tsize = tsize
        self.size = size

    @property
    def cid(self) -> CID:
        if self._cid is None:
            self._cid = parse_cid(self.cid_bytes)
        return self._cid

    @property
    def cidv1(self) -> str:
        c = self.cid
        return c.set(version=1).encode("base32") if c.version == 0 else c.encode("base32")

    def __eq__(self, other) -> bool:
        return isinstance(other, ImportedNode) and (self.cid_bytes, self.tsize, self.size) == (
            other.cid_bytes,
            other.tsize,
            other.size,
        )

    def __repr__(self) -> str:
        return f"ImportedNode({self.cidv1}, tsize={self.tsize}, size={self.size})"


_V0_PREFIX = b"\x12\x20"  # sha2-256 multihash, 32 bytes
_V1_PREFIX = {DAG_PB: b"\x01\x70\x12\x20", RAW: b"\x01\x55\x12\x20"}


def _make_cid(digest: bytes, codec: int, version: int) -> bytes:
    """Binary CID (CIDv0 is the bare multihash)."""
    return _V0_PREFIX + digest if version == 0 else _V1_PREFIX[codec] + digest


class FileImporter:
    """Feed chunks with `add_chunk`, then `finish()`. Used by import_stream and by
    the Kubo double; `cid_version`/`raw_leaves` mirror Kubo's add flags."""

    def __init__(self, blockstore=None, *, cid_version: int = 0, raw_leaves: bool = False, max_links: int = MAX_LINKS):
        if raw_leaves and cid_version == 0:
            raise IpfsError("raw leaves need CIDv1 (Kubo refuses the same combination)")
        self.blockstore = blockstore
        self.cid_version = cid_version
        self.raw_leaves = raw_leaves
        self.max_links = max_links
        self.levels: list[list[ImportedNode]] = [[]]
        self.leaves = 0
        self._envelopes: dict[int, tuple[bytes, bytes, bytes]] = {}

    def add_chunk(self, chunk: bytes | memoryview) -> None:
        n = len(chunk)
        if self.raw_leaves:
            cid = _make_cid(hashlib.sha256(chunk).digest(), RAW, 1)
            if self.blockstore is not None:
                self.blockstore.put(cid, bytes(chunk))
            node = ImportedNode(cid, n, n)
        else:
            env = self._envelopes.get(n)
            if env is None:
                env = self._envelopes.setdefault(n, dagpb.leaf_envelope(n))
            outer, inner, suffix = env
            h = hashlib.sha256(outer)
            h.update(inner)
            h.update(chunk)  # hashed in place: no copy of the chunk
            h.update(suffix)
            cid = _make_cid(h.digest(), DAG_PB, self.cid_version)
            if self.blockstore is not None:
                self.blockstore.put(cid, b"".join((outer, inner, chunk, suffix)))
            node = ImportedNode(cid, len(outer) + len(inner) + n + len(suffix), n)
        self.leaves += 1
        self._push(0, node)

    def _push(self, level: int, node: ImportedNode) -> None:
        if len(self.levels) <= level:
            self.levels.append([])
        self.levels[level].append(node)
        if len(self.levels[level]) == self.max_links:
            self._flush(level)

    def _flush(self, level: int) -> None:
        children = self.levels[level]
        self.levels[level] = []
        self._push(level + 1, self._parent(children))

    def _parent(self, children: list[ImportedNode]) -> ImportedNode:
        links = [dagpb.PBLink(c.cid_bytes, "", c.tsize) for c in children]
        size = sum(c.size for c in children)
        data = dagpb.unixfs_data(dagpb.FILE, None, size, [c.size for c in children])
        block = dagpb.encode_node(links, data)
        cid = _make_cid(hashlib.sha256(block).digest(), DAG_PB, self.cid_version)
        if self.blockstore is not None:
            self.blockstore.put(cid, block)
        return ImportedNode(cid, len(block) + sum(c.tsize for c in children), size)

    def finish(self) -> ImportedNode:
        if self.leaves == 0:  # boxo: an empty file is a leaf with nil data
            if self.raw_leaves:
                cid = _make_cid(hashlib.sha256(b"").digest(), RAW, 1)
                block = b""
            else:
                block = dagpb.encode_node([], dagpb.unixfs_data(dagpb.FILE, None, 0))
                cid = _make_cid(hashlib.sha256(block).digest(), DAG_PB, self.cid_version)
            if self.blockstore is not None:
                self.blockstore.put(cid, block)
            return ImportedNode(cid, len(block), 0)
        level = 0
        while True:
            above = any(self.levels[level + 1 :])
            pending = self.levels[level]
            if not above and len(pending) == 1:
                return pending[0]
            if pending:
                self._flush(level)
            level += 1


Source = str | Path | bytes | bytearray | memoryview | BinaryIO


def _read_chunks(stream: BinaryIO, chunk_size: int) -> Iterator[memoryview]:
    """Full chunks like Go's io.ReadFull (short reads from pipes are joined)."""
    buf = bytearray(chunk_size)
    mv = memoryview(buf)
    readinto = getattr(stream, "readinto", None)
    while True:
        got = 0
        while got < chunk_size:
            if readinto is not None:
                n = readinto(mv[got:])
            else:
                data = stream.read(chunk_size - got)
                n = len(data) if data else 0
                mv[got : got + n] = data if data else b""
            if not n:
                break
            got += n
        if got == 0:
            return
        yield mv[:got]
        if got < chunk_size:
            return


def import_stream(
    source: Source, blockstore=None, *, cid_version: int = 0, raw_leaves: bool = False, chunk_size: int = CHUNK_SIZE
) -> ImportedNode:
    """Import a file (path, bytes or binary stream) and return its root node."""
    importer = FileImporter(blockstore, cid_version=cid_version, raw_leaves=raw_leaves)
    if isinstance(source, (bytes, bytearray, memoryview)):
        mv = memoryview(source)
        for off in range(0, len(mv), chunk_size):
            importer.add_chunk(mv[off : off + chunk_size])
        return importer.finish()
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise IpfsError(f"{path} is not a file", hint="give the path of an existing file")
        with open(path, "rb", buffering=0) as f:
            for chunk in _read_chunks(f, chunk_size):
                importer.add_chunk(chunk)
        return importer.finish()
    for chunk in _read_chunks(source, chunk_size):
        importer.add_chunk(chunk)
    return importer.finish()


def import_file(path_or_stream: Source, blockstore=None) -> str:
    """CIDv1 base32 of a file as Kubo's default `ipfs add` builds it."""
    return import_stream(path_or_stream, blockstore).cidv1


def import_bytes(data: bytes, blockstore=None) -> str:
    return import_stream(data, blockstore).cidv1


# --- directories (`ipfs add -w`) -------------------------------------------

Entry = Path | str | bytes | ImportedNode | Mapping


def check_entry_name(name: str) -> str:
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\x00" in name
        or len(name.encode("utf-8")) > 255
    ):
        raise IpfsError(
            f"{name!r} cannot be a name in an IPFS directory", hint="use a plain file name without '/' (e.g. video.mp4)"
        )
    return name


def directory_node(children: Mapping[str, ImportedNode], blockstore=None, cid_version: int = 0) -> ImportedNode:
    """A UnixFS directory over already-imported children. Links are sorted by
    name bytes (dag-pb canonical order, as go-merkledag encodes them)."""
    names = sorted(children, key=lambda n: n.encode("utf-8"))
    estimate = sum(len(n.encode("utf-8")) + len(children[n].cid_bytes) for n in names)
    if estimate >= HAMT_THRESHOLD:
        raise IpfsError(
            f"a folder of {len(names)} entries is too large for a basic UnixFS directory",
            hint="Kubo would shard it (HAMT) and the CIDs would differ; split it into subfolders",
        )
    links = [dagpb.PBLink(children[n].cid_bytes, check_entry_name(n), children[n].tsize) for n in names]
    block = dagpb.encode_node(links, dagpb.unixfs_data(dagpb.DIRECTORY))
    cid = _make_cid(hashlib.sha256(block).digest(), DAG_PB, cid_version)
    if blockstore is not None:
        blockstore.put(cid, block)
    return ImportedNode(cid, len(block) + sum(links_.tsize for links_ in links), 0)


def import_directory_node(entries: Mapping[str, Entry], blockstore=None) -> ImportedNode:
    children: dict[str, ImportedNode] = {}
    for name, value in entries.items():
        check_entry_name(name)
        if isinstance(value, ImportedNode):
            children[name] = value
        elif isinstance(value, Mapping):
            children[name] = import_directory_node(value, blockstore)
        elif isinstance(value, (str, Path)) and Path(value).is_dir():
            raise IpfsError(f"{value} is a folder", hint="pass its files as a nested mapping")
        else:
            children[name] = import_stream(value, blockstore)
    return directory_node(children, blockstore)


def import_directory(entries: Mapping[str, Entry], blockstore=None) -> str:
    """CIDv1 of a directory like `ipfs add -w` of the given files.
    `entries` maps a file name to a Path, bytes, or a nested mapping (subfolder)."""
    return import_directory_node(entries, blockstore).cidv1


# --- reading ------------------------------------------------------------------

GetBlock = Callable[[CID], bytes]


@dataclass
class NodeInfo:
    kind: str  # "file" | "directory" | "raw" | "symlink" | "hamt"
    size: int  # file bytes (directories: 0)
    links: list  # dagpb.PBLink list (directories: the entries)


def inspect_node(cid: CID, block: bytes) -> tuple[NodeInfo, dagpb.PBNode | None, dagpb.UnixFSData | None]:
    c = parse_cid(cid)
    if c.codec.code == RAW:
        return NodeInfo("raw", len(block), []), None, None
    if c.codec.code != DAG_PB:
        raise MalformedBlock(f"{c} uses codec {c.codec.name}; only dag-pb and raw UnixFS are readable")
    node = dagpb.decode_node(block)
    fs = dagpb.decode_unixfs(node.data)
    kind = {
        dagpb.FILE: "file",
        dagpb.RAW: "file",
        dagpb.DIRECTORY: "directory",
        dagpb.SYMLINK: "symlink",
        dagpb.HAMT_SHARD: "hamt",
    }.get(fs.type, "unknown")
    if kind == "file":
        size = fs.filesize if fs.filesize is not None else len(fs.data) + sum(fs.blocksizes)
        if node.links and len(node.links) != len(fs.blocksizes):
            raise TamperedContent(f"{c}: {len(node.links)} links but {len(fs.blocksizes)} blocksizes")
        if size != len(fs.data) + sum(fs.blocksizes):
            raise TamperedContent(f"{c}: filesize {size} disagrees with its blocks")
        return NodeInfo("file", size, node.links), node, fs
    return NodeInfo(kind, 0, node.links), node, fs


def stat(cid: CID | str, get_block: GetBlock) -> NodeInfo:
    c = parse_cid(cid)
    return inspect_node(c, get_block(c))[0]


def resolve_path(root: CID | str, path: str, get_block: GetBlock) -> CID:
    """Follow `a/b/c` through UnixFS directories (no HAMT sharding)."""
    c = parse_cid(root)
    for part in [p for p in path.split("/") if p]:
        info = stat(c, get_block)
        if info.kind != "directory":
            raise IpfsError(f"{part!r}: {c} is not a directory")
        for link in info.links:
            if link.name == part:
                c = parse_cid(link.hash)
                break
        else:
            raise IpfsError(f"no entry {part!r} in directory {c}")
    return c


def iter_file(
    cid: CID | str,
    get_block: GetBlock,
    start: int = 0,
    end: int | None = None,
) -> Iterator[memoryview]:
    """Yield the bytes [start, end) of a UnixFS file, checking the DAG's shape:
    every child must deliver exactly the blocksize its parent announced."""
    c = parse_cid(cid)
    block = get_block(c)
    info, node, fs = inspect_node(c, block)
    if info.kind not in ("file", "raw"):
        raise IpfsError(f"{c} is a {info.kind}, not a file")
    end = info.size if end is None else min(end, info.size)
    if start >= end:
        return
    yield from _iter_node(c, block, info, node, fs, start, end, get_block)


def _iter_node(c, block, info, node, fs, start, end, get_block) -> Iterator[memoryview]:
    if info.kind == "raw":
        yield memoryview(block)[start:end]
        return
    data = memoryview(fs.data)
    if start < len(data):
        yield data[start : min(end, len(data))]
    offset = len(data)
    for link, bsize in zip(node.links, fs.blocksizes, strict=False):
        lo, hi = offset, offset + bsize
        offset = hi
        if hi <= start:
            continue
        if lo >= end:
            break
        child = parse_cid(link.hash)
        cblock = get_block(child)
        cinfo, cnode, cfs = inspect_node(child, cblock)
        if cinfo.kind not in ("file", "raw") or cinfo.size != bsize:
            raise TamperedContent(f"{c}: child {child} holds {cinfo.size} bytes, parent says {bsize}")
        yield from _iter_node(child, cblock, cinfo, cnode, cfs, max(start - lo, 0), min(end, hi) - lo, get_block)


def read_file(cid: CID | str, get_block: GetBlock) -> bytes:
    return b"".join(iter_file(cid, get_block))


class UnixFSReader(io.RawIOBase):
    """Seekable file-like view of a UnixFS file (used for HTTP Range)."""

    def __init__(self, cid: CID | str, get_block: GetBlock):
        self.cid = parse_cid(cid)
        cache: OrderedDict = OrderedDict()
        last: dict = {}

        def cached(c: CID) -> bytes:
            # keep the (small) upper nodes hot across reads, plus the last leaf
            # so small sequential reads don't reload a 256 KiB block each time
            key = bytes(c)
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
            if last.get("key") == key:
                return last["block"]
            b = get_block(c)
            if len(b) < 64 * 1024:
                cache[key] = b
                if len(cache) > 64:
                    cache.popitem(last=False)
            else:
                last.update(key=key, block=b)
            return b

        self._get = cached
        self.size = stat(self.cid, cached).size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = max(0, self.size - self.pos)
        buf = bytearray(min(size, max(0, self.size - self.pos)))
        n = self.readinto(buf)
        return bytes(buf[:n])

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, b) -> int:
        want = min(len(b), max(0, self.size - self.pos))
        if want <= 0:
            return 0
        got = 0
        for piece in iter_file(self.cid, self._get, self.pos, self.pos + want):
            b[got : got + len(piece)] = piece
            got += len(piece)
        self.pos += got
        return got

    def iter_range(self, start: int, end: int) -> Iterator[memoryview]:
        return iter_file(self.cid, self._get, start, end)
