"""Verified reads from any trustless gateway (our own `gateway_router` or a public one).

`verified_get` / `verified_stream` never trust the gateway: each block is
hashed against its CID, and the UnixFS structure (links vs blocksizes vs
filesize) is checked while the file is reassembled. Anything that fails
raises TamperedContent and the content is refused. `fetch_block` reads one
block (`?format=raw`) and checks its hash.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from movieminter.ipfs import unixfs
from movieminter.ipfs.blockstore import check_block
from movieminter.ipfs.car import CAR_MEDIA_TYPE, CarReader, IterStream
from movieminter.ipfs.cid import parse_cid, to_cidv1
from movieminter.ipfs.errors import BlockNotFound, StoreUnavailable, TamperedContent

RAW_MEDIA_TYPE = "application/vnd.ipld.raw"


def public_url(url: str) -> str:
    """URL without user:password@ (for messages and logs)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _CarBlockSource:
    """get_block over a CAR stream: blocks arrive in DFS order and are handed
    out as the traversal asks; anything missing (out of order, or dropped as a
    duplicate with dups=n) is fetched alone with ?format=raw. Every block is
    hash-checked, whichever way it came."""

    def __init__(self, car_iter, fetch_raw, max_buffered: int = 256 << 20):
        self.car_iter = car_iter
        self.fetch_raw = fetch_raw
        self.pending: dict[bytes, bytes] = {}
        self.pending_bytes = 0
        self.recent: OrderedDict[bytes, bytes] = OrderedDict()
        self.max_buffered = max_buffered

    def __call__(self, cid) -> bytes:
        c = parse_cid(cid)
        key = bytes(c.digest)
        block = self.pending.pop(key, None)
        if block is not None:
            self.pending_bytes -= len(block)
        elif key in self.recent:
            block = self.recent[key]
        else:
            block = self._scan(key)
        if block is None:
            block = self.fetch_raw(c)
        check_block(c, block)
        self.recent[key] = block
        while len(self.recent) > 8:
            self.recent.popitem(last=False)
        return block

    def _scan(self, key: bytes) -> bytes | None:
        if self.car_iter is None:
            return None
        for c, block in self.car_iter:  # CarReader has verified the hash already
            k = bytes(c.digest)
            if k == key:
                return block
            if k not in self.pending:
                self.pending[k] = block
                self.pending_bytes += len(block)
                if self.pending_bytes > self.max_buffered:
                    raise TamperedContent("the gateway sent too many blocks that are not part of the file")
        self.car_iter = None
        return None


def verified_stream(
    cid: str, gateway_url: str, *, timeout: float = 60.0, client: httpx.Client | None = None
) -> Iterator[bytes]:
    """Yield the file's bytes as they are verified (constant memory for a
    DFS-ordered CAR). Raises TamperedContent on any mismatch."""
    c = parse_cid(cid)
    base = gateway_url.rstrip("/")
    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)), follow_redirects=True)

    def fetch_raw(block_cid) -> bytes:
        url = f"{base}/ipfs/{to_cidv1(block_cid)}?format=raw"
        resp = _get(client, url, {"Accept": RAW_MEDIA_TYPE})
        return resp.content

    try:
        url = f"{base}/ipfs/{to_cidv1(c)}?format=car&dag-scope=all"
        try:
            with client.stream(
                "GET", url, headers={"Accept": CAR_MEDIA_TYPE + "; version=1; order=dfs; dups=y"}
            ) as resp:
                if resp.status_code in (400, 406, 415, 501):
                    # a gateway without CAR support: fetch every block alone (?format=raw)
                    source = _CarBlockSource(None, fetch_raw)
                else:
                    if resp.status_code >= 400:
                        resp.read()
                        _raise_http(resp, url)
                    reader = CarReader(IterStream(resp.iter_bytes()), verify=True)
                    source = _CarBlockSource(iter(reader), fetch_raw)
                for piece in unixfs.iter_file(c, source):
                    yield bytes(piece)
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                f"cannot read {to_cidv1(c)} from gateway {public_url(base)} ({type(exc).__name__})",
                hint="check the gateway URL and your network",
            ) from None
    finally:
        if own:
            client.close()


def fetch_block(cid, gateway_url: str, *, timeout: float = 60.0) -> bytes:
    """One block from a trustless gateway (`?format=raw`), hash-checked."""
    c = parse_cid(cid)
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)), follow_redirects=True) as client:
        block = _get(
            client, f"{gateway_url.rstrip('/')}/ipfs/{to_cidv1(c)}?format=raw", {"Accept": RAW_MEDIA_TYPE}
        ).content
    check_block(c, block)
    return block


def verified_get(cid: str, gateway_url: str, *, timeout: float = 60.0, client: httpx.Client | None = None) -> bytes:
    """The file's bytes, fetched from a trustless gateway and verified."""
    return b"".join(verified_stream(cid, gateway_url, timeout=timeout, client=client))


def verified_download(cid: str, gateway_url: str, out: str | Path, **kw) -> int:
    """Write the verified file to `out`; nothing is left there if verification fails."""
    out = Path(out)
    part = out.with_name(out.name + ".part")
    written = 0
    try:
        with open(part, "wb") as f:
            for piece in verified_stream(cid, gateway_url, **kw):
                f.write(piece)
                written += len(piece)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return written


def _get(client: httpx.Client, url: str, headers: dict) -> httpx.Response:
    try:
        resp = client.get(url, headers=headers)
    except httpx.TransportError as exc:
        raise StoreUnavailable(f"cannot reach gateway {public_url(url)} ({type(exc).__name__})") from None
    if resp.status_code >= 400:
        _raise_http(resp, url)
    return resp


def _raise_http(resp: httpx.Response, url: str):
    if resp.status_code == 404:
        raise BlockNotFound(
            f"the gateway has no {public_url(url)}", hint="the content may not be pinned or announced yet"
        )
    raise StoreUnavailable(f"gateway {public_url(url)} answered {resp.status_code}")
