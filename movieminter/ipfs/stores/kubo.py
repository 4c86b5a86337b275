"""Kubo RPC (`/api/v0/*`, POST only) spoken directly with httpx
(ipfshttpclient refuses Kubo > 0.8).

`add` is always called with every import parameter explicit, because a
node's config (Import.CidVersion, Import.UnixFSRawLeaves, …) can change the
defaults: cid-version=0, chunker=size-262144, raw-leaves=false,
hash=sha2-256 — the layout `unixfs` computes. Kubo answers the CIDv0 form;
the multihash is compared with ours. Folders go up as one
wrap-with-directory add (flat) or as a CAR through `dag/import` (nested).
Auth: ipfs_token "Bearer x", "Basic x" or "user:pass" (Kubo's
API.Authorizations or a reverse proxy in front of it).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from movieminter.ipfs import unixfs
from movieminter.ipfs.car import CAR_MEDIA_TYPE, CarReader, write_car
from movieminter.ipfs.cid import to_cidv1
from movieminter.ipfs.errors import CidMismatch, StoreUnavailable
from movieminter.ipfs.stores.base import check_same
from movieminter.ipfs.stores.remote import HttpService, RemoteStore

DEFAULT_ENDPOINT = "http://127.0.0.1:5001"
ADD_PARAMS = {
    "cid-version": "0",
    "chunker": "size-262144",
    "raw-leaves": "false",
    "hash": "sha2-256",
    "pin": "true",
    "progress": "false",
}


def ndjson(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except ValueError:
                raise StoreUnavailable(f"Kubo sent a line that is not JSON: {line[:80]!r}") from None
    return out


class KuboStore(RemoteStore):
    name = "kubo"

    def __init__(self, data_dir, endpoint: str = "", token: str = "", *, timeout: float = 120.0):
        super().__init__(data_dir, HttpService("Kubo RPC", endpoint or DEFAULT_ENDPOINT, token, timeout=timeout))

    def _rpc(self, cmd: str, params: dict | None = None, **kw):
        return self.http.request("POST", f"/api/v0/{cmd}", params=params, **kw)

    def version(self) -> dict:
        return self._rpc("version").json()

    def _push(self, node: unixfs.ImportedNode, source) -> str:
        if isinstance(source, Mapping):
            if all(not isinstance(v, Mapping) for v in source.values()):
                return self._add_parts(sorted(source.items()), wrap=True)
            return self._dag_import(node.cid)
        name = source.name if isinstance(source, Path) else "data"
        return self._add_parts([(name, source)], wrap=False)

    def _add_parts(self, entries: list, wrap: bool) -> str:
        files, opened = [], []
        try:
            for name, value in entries:
                body = open(value, "rb") if isinstance(value, (str, Path)) else bytes(value)
                if not isinstance(body, bytes):
                    opened.append(body)
                # Kubo url-unescapes part file names (go-ipfs-files)
                files.append(("file", (quote(name, safe=""), body, "application/octet-stream")))
            params = dict(ADD_PARAMS, **({"wrap-with-directory": "true"} if wrap else {}))
            resp = self._rpc("add", params, files=files)
        finally:
            for f in opened:
                f.close()
        if resp.headers.get("X-Stream-Error"):
            raise StoreUnavailable(f"Kubo add failed: {self.http._clean(resp.headers['X-Stream-Error'])}")
        events = [e for e in ndjson(resp.text) if "Hash" in e]
        if not events:
            raise StoreUnavailable("Kubo add answered without a Hash")
        if wrap:
            roots = [e for e in events if e.get("Name", "") == ""]
            return (roots or events)[-1]["Hash"]
        return events[-1]["Hash"]

    def _dag_import(self, root) -> str:
        with tempfile.TemporaryFile() as tmp:
            write_car(root, self.local.blocks, tmp)
            tmp.seek(0)
            resp = self._rpc("dag/import", {"pin-roots": "true"}, files=[("file", ("upload.car", tmp, CAR_MEDIA_TYPE))])
        for event in ndjson(resp.text):
            r = event.get("Root")
            if r:
                if r.get("PinErrorMsg"):
                    raise StoreUnavailable(f"Kubo could not pin the CAR root: {self.http._clean(r['PinErrorMsg'])}")
                return r["Cid"]["/"]
        raise StoreUnavailable("Kubo dag/import answered without a root")

    def import_car(self, car_path) -> list[str]:
        """Upload a CAR as it is (any DAG); returns the pinned roots, which
        must be exactly the roots in the CAR's header."""
        with open(car_path, "rb") as f:
            expected = sorted(to_cidv1(r) for r in CarReader(f).roots)
            f.seek(0)
            resp = self._rpc(
                "dag/import", {"pin-roots": "true"}, files=[("file", (Path(car_path).name, f, CAR_MEDIA_TYPE))]
            )
        roots = []
        for event in ndjson(resp.text):
            root = event.get("Root")
            if root:
                if root.get("PinErrorMsg"):
                    raise StoreUnavailable(
                        f"Kubo could not pin {root['Cid']['/']}: {self.http._clean(root['PinErrorMsg'])}"
                    )
                roots.append(to_cidv1(root["Cid"]["/"]))
        if sorted(roots) != expected:
            raise CidMismatch(
                f"Kubo pinned roots {roots} but the CAR's roots are {expected}; nothing was recorded as pinned",
                hint="check the CAR file and the node",
            )
        for r in roots:
            self.pins.add(r)
        return roots

    def pin(self, cid) -> None:
        want = to_cidv1(cid)
        data = self._rpc("pin/add", {"arg": want, "recursive": "true"}).json()
        pins = data.get("Pins") or []
        check_same(self.name, want, pins[0] if pins else None)
        self.pins.add(want)

    def has(self, cid) -> bool:
        try:
            data = self._rpc("pin/ls", {"arg": to_cidv1(cid), "type": "recursive"}).json()
        except StoreUnavailable as exc:
            if exc.details.get("status") == 500 and "not pinned" in exc.message:
                return False
            raise
        return bool(data.get("Keys"))

    def remote_block(self, cid) -> bytes:
        return self._rpc("block/get", {"arg": to_cidv1(cid)}).content
