"""The embedded default store: blocks under <data_dir>/ipfs/blocks (flatfs
layout), pins under <data_dir>/ipfs/pins. Served by gateway.gateway_router."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from movieminter.ipfs import unixfs
from movieminter.ipfs.blockstore import FileBlockstore
from movieminter.ipfs.car import iter_dag_blocks, read_car, write_car
from movieminter.ipfs.cid import parse_cid, to_cidv1
from movieminter.ipfs.errors import BlockNotFound, IpfsError
from movieminter.ipfs.stores.base import ContentStore, PinRecord


class LocalStore(ContentStore):
    name = "local"

    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir) / "ipfs"
        self.blocks = FileBlockstore(self.root / "blocks")
        self.pins = PinRecord(self.root / "pins")

    def get_block(self, cid) -> bytes:
        return self.blocks.get(parse_cid(cid))

    def add_file(self, path) -> str:
        return self._pinned(unixfs.import_stream(Path(path), self.blocks))

    def add_bytes(self, data: bytes) -> str:
        return self._pinned(unixfs.import_stream(bytes(data), self.blocks))

    def add_directory(self, entries: Mapping) -> str:
        return self._pinned(unixfs.import_directory_node(entries, self.blocks))

    def add_node(self, source) -> unixfs.ImportedNode:
        """Import without pinning (remote stores pin only what the service confirmed)."""
        if isinstance(source, Mapping):
            return unixfs.import_directory_node(source, self.blocks)
        return unixfs.import_stream(Path(source) if isinstance(source, str) else source, self.blocks)

    def _pinned(self, node: unixfs.ImportedNode) -> str:
        self.pins.add(node.cidv1)
        return node.cidv1

    def import_car(self, source: str | Path | BinaryIO) -> list[str]:
        """Verify and store every block of a CAR; pins its roots."""
        roots = [to_cidv1(r) for r in read_car(source, self.blocks)]
        for r in roots:
            self.complete(r)  # a CAR missing blocks must not be recorded as pinned
            self.pins.add(r)
        return roots

    def complete(self, cid) -> None:
        """Raise BlockNotFound unless every block under cid is present."""

        for _ in iter_dag_blocks(cid, self.get_block):
            pass

    def export_car(self, cid, out) -> int:
        return write_car(cid, self.blocks, out)

    def pin(self, cid) -> None:
        try:
            self.complete(cid)
        except BlockNotFound as exc:
            raise IpfsError(
                f"cannot pin {to_cidv1(cid)}: {exc.message}", hint="add the file first (movieminter ipfs add PATH)"
            ) from None
        self.pins.add(to_cidv1(cid))

    def has(self, cid) -> bool:
        return self.blocks.has(parse_cid(cid))

    def pinned(self) -> list[str]:
        return self.pins.list()

    def open(self, cid) -> unixfs.UnixFSReader:
        return unixfs.UnixFSReader(cid, self.get_block)

    def size(self, cid) -> int:
        return unixfs.stat(cid, self.get_block).size
