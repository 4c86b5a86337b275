"""A Kubo RPC double: the subset Movie Minter uses, with Kubo's HTTP contract
and quirks, for tests and the demo.

Faithful parts: every /api/v0 command is POST-only (GET answers 405 like
Kubo); `add` takes multipart parts named "file" whose file names are
url-escaped, honours cid-version / chunker size-N / raw-leaves (implied by
cid-version=1) / pin / wrap-with-directory / only-hash, and answers
newline-delimited JSON {"Name","Hash","Size"} with Size as a *string* and
`X-Chunked-Output: 1`; errors are HTTP 500 {"Message","Code":0,"Type":"error"};
API.Authorizations mismatches give 403. CIDs come from movieminter.ipfs.unixfs,
itself checked against the shared Kubo vectors and Debian's ipfs_cid.

Faults (set `double.fault`): "down" (502 from the proxy in front), "wrong_cid"
(answers the CID of a raw-leaves CIDv1 import, as a misconfigured node would),
"slow" (sleeps `slow_seconds` first), "insufficient_funds" (409, as hosted
Kubo RPC providers do when the quota is used up). `double.stop()` gives a real
connection refused.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from movieminter.ipfs import unixfs
from movieminter.ipfs.blockstore import FileBlockstore
from movieminter.ipfs.car import iter_dag_blocks, read_car
from movieminter.ipfs.cid import parse_cid, to_cidv0, to_cidv1
from movieminter.ipfs.errors import IpfsError
from movieminter.testing.server_thread import ThreadedDouble

KUBO_VERSION = {"Version": "0.32.1", "Commit": "", "Repo": "16", "System": "amd64/linux", "Golang": "go1.23.3"}


def kubo_error(message: str, status: int = 500) -> JSONResponse:
    return JSONResponse({"Message": message, "Code": 0, "Type": "error"}, status_code=status)


def _flag(params, name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    return value.lower() in ("", "1", "true")


class KuboDouble(ThreadedDouble):
    def __init__(self, repo: str | Path, *, auth: str | None = None):
        self.blocks = FileBlockstore(Path(repo) / "blocks")
        self.pins: set[str] = set()  # CIDv1 of recursive pins
        self.auth = auth  # e.g. "Bearer s3cret" (Kubo API.Authorizations)
        self.fault: str | None = None
        self.slow_seconds = 2.0
        self.requests: list[tuple[str, str, dict]] = []
        self.app = self._build_app()

    def is_pinned(self, cid: str) -> bool:
        return to_cidv1(cid) in self.pins

    def _build_app(self) -> FastAPI:  # noqa: PLR0915  # one nested handler per Kubo endpoint, over the double's state
        app = FastAPI()

        @app.middleware("http")
        async def kubo_rules(request: Request, call_next):
            self.requests.append((request.method, request.url.path, dict(request.query_params)))
            if self.fault == "down":
                return PlainTextResponse("502 Bad Gateway", status_code=502)
            if self.fault == "slow":
                await asyncio.sleep(self.slow_seconds)
            if request.url.path.startswith("/api/v0/") and request.method != "POST":
                return PlainTextResponse("405 - Method Not Allowed", status_code=405)
            if self.auth and request.headers.get("authorization") != self.auth:
                return PlainTextResponse("403 - Forbidden", status_code=403)
            if self.fault == "insufficient_funds":
                return kubo_error("insufficient funds: storage quota exceeded, top up your plan", 409)
            return await call_next(request)

        @app.post("/api/v0/version")
        def version():
            return KUBO_VERSION

        @app.post("/api/v0/add")
        async def add(request: Request):
            p = request.query_params
            cid_version = int(p.get("cid-version", "0"))
            raw_leaves = _flag(p, "raw-leaves", cid_version == 1)
            chunker = p.get("chunker", "size-262144")
            m = re.fullmatch(r"size-(\d+)", chunker)
            if not m:
                return kubo_error(f"chunker {chunker!r} is not supported by this double")
            if p.get("hash", "sha2-256") != "sha2-256":
                return kubo_error("only sha2-256 is supported by this double")
            if self.fault == "wrong_cid":
                cid_version, raw_leaves = 1, True
            try:
                form = await request.form(max_part_size=1 << 40)
            except Exception as exc:
                return kubo_error(f"expected a multipart body: {exc}")
            parts = [v for k, v in form.multi_items() if hasattr(v, "filename")]
            if not parts:
                return kubo_error("file argument 'path' is required")
            store = None if _flag(p, "only-hash", False) else self.blocks
            wrap = _flag(p, "wrap-with-directory", False)
            lines, nodes = [], {}
            for part in parts:
                name = unquote(part.filename or "")
                try:
                    node = unixfs.import_stream(
                        part.file, store, cid_version=cid_version, raw_leaves=raw_leaves, chunk_size=int(m.group(1))
                    )
                except IpfsError as exc:
                    return kubo_error(exc.message)
                nodes[name] = node
                lines.append({"Name": name, "Hash": self._text(node.cid, cid_version), "Size": str(node.tsize)})
            root = lines[-1]["Hash"]
            if wrap:
                d = unixfs.directory_node(nodes, store, cid_version=cid_version)
                root = self._text(d.cid, cid_version)
                lines.append({"Name": "", "Hash": root, "Size": str(d.tsize)})
            if store is not None and _flag(p, "pin", True):
                if wrap:
                    self.pins.add(to_cidv1(root))
                else:
                    self.pins.update(to_cidv1(line["Hash"]) for line in lines)
            body = "".join(json.dumps(line) + "\n" for line in lines)
            return Response(body, media_type="application/json", headers={"X-Chunked-Output": "1"})

        @app.post("/api/v0/dag/import")
        async def dag_import(request: Request):
            form = await request.form(max_part_size=1 << 40)
            parts = [v for k, v in form.multi_items() if hasattr(v, "filename")]
            if not parts:
                return kubo_error("file argument 'path' is required")
            lines = []
            for part in parts:
                try:
                    roots = read_car(part.file, self.blocks)
                except IpfsError as exc:
                    return kubo_error(f"car import: {exc.message}")
                for r in roots:
                    err = ""
                    if _flag(request.query_params, "pin-roots", True):
                        try:
                            self._complete(r)
                            self.pins.add(to_cidv1(r))
                        except IpfsError as exc:
                            err = exc.message
                    lines.append({"Root": {"Cid": {"/": str(r)}, "PinErrorMsg": err}})
            body = "".join(json.dumps(line) + "\n" for line in lines)
            return Response(body, media_type="application/json", headers={"X-Chunked-Output": "1"})

        @app.post("/api/v0/pin/add")
        def pin_add(arg: str, recursive: str = "true"):
            try:
                self._complete(parse_cid(arg))
            except IpfsError:
                return kubo_error(f"pin: block was not found locally (offline): ipld: could not find {arg}")
            self.pins.add(to_cidv1(arg))
            return {"Pins": [arg]}

        @app.post("/api/v0/pin/ls")
        def pin_ls(arg: str | None = None, type: str = "all"):
            if arg is None:
                return {"Keys": {to_cidv0(c): {"Type": "recursive"} for c in self.pins}}
            if to_cidv1(arg) not in self.pins:
                return kubo_error(f"path '{arg}' is not pinned")
            return {"Keys": {arg: {"Type": "recursive"}}}

        @app.post("/api/v0/block/get")
        def block_get(arg: str):
            try:
                return Response(self.blocks.get(parse_cid(arg)), media_type="text/plain")
            except IpfsError:
                return kubo_error(f"block was not found locally (offline): ipld: could not find {arg}")

        @app.post("/api/v0/cat")
        def cat(arg: str):
            try:
                data = unixfs.read_file(parse_cid(arg), self.blocks.get)
            except IpfsError as exc:
                return kubo_error(exc.message)
            return Response(data, media_type="text/plain", headers={"X-Chunked-Output": "1"})

        @app.api_route("/api/v0/{command:path}", methods=["POST"])
        def unknown(command: str):
            return PlainTextResponse("404 page not found", status_code=404)

        return app

    def _complete(self, cid) -> None:
        for _ in iter_dag_blocks(cid, self.blocks.get):
            pass

    @staticmethod
    def _text(cid, cid_version: int) -> str:
        return to_cidv0(cid) if cid_version == 0 else to_cidv1(cid)


def main() -> None:  # `python -m movieminter.testing.kubo_double DIR` for manual runs

    double = KuboDouble(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()).start()
    print(f"Kubo RPC double on {double.url}/api/v0", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    main()
