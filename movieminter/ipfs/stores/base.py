"""The ContentStore interface every backend implements, and the pin record.

Remote stores (Kubo, Pinata, Pinning Service API) also keep every block in
the local store: the CID is always computed here first, the service's answer
is compared with it, and the app can serve and verify the content itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

from movieminter.ipfs.cid import parse_cid, same_content, to_cidv1
from movieminter.ipfs.errors import CidMismatch


class PinRecord:
    """Pins confirmed by one backend: one marker file per CID under `folder`
    (names are base32 CIDs we computed, never user input)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def add(self, cid: str, **info) -> None:
        info["pinned_at"] = time.time()
        (self.folder / to_cidv1(cid)).write_text(json.dumps(info))

    def __contains__(self, cid: str) -> bool:
        return (self.folder / to_cidv1(cid)).exists()

    def list(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir() if p.name.startswith("b"))


def check_same(service: str, expected: str, returned: str | None) -> None:
    """The one rule after every push: the service's CID must be ours."""
    if not returned or not _safe_same(expected, returned):
        raise CidMismatch(
            f"{service} returned CID {returned!r} but the content's CID is {expected}; nothing was recorded as pinned",
            hint="the service chunked the data differently or corrupted it; check its import settings "
            "(Kubo defaults: chunker size-262144, dag-pb leaves, CIDv0) or upload the CAR instead",
            expected=expected,
            returned=returned,
        )


def _safe_same(a: str, b: str) -> bool:
    try:
        return same_content(a, b)
    except Exception:
        return False


class ContentStore:
    """add_file/add_bytes/add_directory return the CIDv1; pin/has/cat/open/size
    work on any CID text (v0 or v1)."""

    name = "store"

    def add_file(self, path: str | Path) -> str:
        raise NotImplementedError

    def add_bytes(self, data: bytes) -> str:
        raise NotImplementedError

    def add_directory(self, entries: Mapping) -> str:
        raise NotImplementedError

    def pin(self, cid: str) -> None:
        raise NotImplementedError

    def has(self, cid: str) -> bool:
        raise NotImplementedError

    def pinned(self) -> list[str]:
        raise NotImplementedError

    def cat(self, cid: str) -> bytes:
        with self.open(cid) as f:
            return f.read()

    def open(self, cid: str):
        raise NotImplementedError

    def get_block(self, cid) -> bytes:
        """One block's bytes (what the gateway's ?format=raw/car serve)."""
        raise NotImplementedError

    def size(self, cid: str) -> int:
        return self.open(cid).size

    def close(self) -> None:
        pass

    def __repr__(self) -> str:  # never show tokens
        return f"<{type(self).__name__} {self.name}>"


def cidv1(cid) -> str:
    return to_cidv1(parse_cid(cid))
