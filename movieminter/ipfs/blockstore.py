"""Where blocks live. Blocks are keyed by multihash (like Kubo), so a CIDv0 and
its CIDv1 name the same stored block.

`FileBlockstore` is laid out like Kubo's flatfs: one file per block named by
the base32 of the multihash, sharded by its next-to-last two characters. File
names are derived only from hashes, never from anything a user typed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from multiformats import CID

from movieminter.ipfs.cid import multihash_key, parse_cid, to_cidv1
from movieminter.ipfs.errors import BlockNotFound, TamperedContent


class Blockstore(Protocol):
    def put(self, cid: CID, block: bytes) -> None: ...
    def get(self, cid: CID) -> bytes: ...
    def has(self, cid: CID) -> bool: ...


def check_block(cid: CID, block: bytes | memoryview) -> None:
    """Raise TamperedContent unless `block` hashes to `cid`."""
    c = parse_cid(cid)
    if c.hashfun.code == 0x12:
        ok = hashlib.sha256(block).digest() == bytes(c.raw_digest)
    elif c.hashfun.code == 0x00:  # identity: the data is in the CID
        ok = bytes(block) == bytes(c.raw_digest)
    else:
        try:
            ok = c.hashfun.digest(bytes(block)) == bytes(c.digest)
        except Exception as exc:
            raise TamperedContent(f"cannot verify {c}: hash function {c.hashfun.name} unsupported") from exc
    if not ok:
        raise TamperedContent(
            f"block {c.encode('base32') if c.version else c} does not match its hash",
            hint="the source served modified bytes; the content was refused",
        )


def _show(cid) -> str:
    try:
        return to_cidv1(cid)
    except Exception:
        return repr(cid)


class MemoryBlockstore:
    def __init__(self):
        self.blocks: dict[bytes, bytes] = {}

    def put(self, cid: CID, block: bytes) -> None:
        self.blocks.setdefault(multihash_key(cid), bytes(block))

    def get(self, cid: CID) -> bytes:
        try:
            return self.blocks[multihash_key(cid)]
        except KeyError:
            raise BlockNotFound(f"block {_show(cid)} is not in the store") from None

    def has(self, cid: CID) -> bool:
        return multihash_key(cid) in self.blocks

    def __len__(self) -> int:
        return len(self.blocks)


class FileBlockstore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, cid: CID) -> Path:
        key = base64.b32encode(multihash_key(cid)).decode().rstrip("=").lower()
        return self.root / key[-3:-1] / f"{key}.data"

    def put(self, cid: CID, block: bytes) -> None:
        path = self.path_for(cid)
        if path.exists():
            return
        path.parent.mkdir(exist_ok=True)
        # write-then-rename so a crash never leaves a truncated block under a valid name
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(block)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, cid: CID) -> bytes:
        try:
            return self.path_for(cid).read_bytes()
        except FileNotFoundError:
            raise BlockNotFound(f"block {_show(cid)} is not in the local store") from None

    def has(self, cid: CID) -> bool:
        return self.path_for(cid).exists()
