"""A Pinata double: the v3 files API as PinataStore uses it, JWT checked.

- GET /data/testAuthentication -> {"message": "Congratulations! …"}
- POST /v3/files (multipart: file, network=public|private (default private),
  name, car=true, keyvalues, group_id) -> {"data": {id, name, cid, size,
  number_of_files, mime_type, group_id, keyvalues, user_id, created_at,
  is_duplicate}}. A CAR upload (public only) keeps the CAR's root; a plain
  upload is imported the way Pinata does: CIDv1 with raw leaves (bafkrei… for
  small files), which is NOT Kubo's default layout.
- GET /v3/files/{network}?cid= -> {"data": {"files": [...], "next_page_token"}}
- POST /v3/files/public/pin_by_cid -> {"data": {id, cid, status: "prechecking", …}}
Wrong/missing JWT -> 401. Faults: "wrong_cid", "insufficient_funds" (402), "down", "slow".
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from movieminter.ipfs import unixfs
from movieminter.ipfs.blockstore import MemoryBlockstore
from movieminter.ipfs.car import iter_dag_blocks, read_car
from movieminter.ipfs.cid import parse_cid, to_cidv1
from movieminter.ipfs.errors import IpfsError
from movieminter.testing.psa_double import OTHER_CID
from movieminter.testing.server_thread import ThreadedDouble


def make_jwt(sub: str = "movieminter-test") -> str:
    """A token shaped like Pinata's JWT (header.payload.signature, base64url)."""

    def enc(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return ".".join(
        [
            enc({"alg": "HS256", "typ": "JWT"}),
            enc({"userInformation": {"id": sub}, "iat": 1700000000}),
            base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode().rstrip("="),
        ]
    )


def error(status: int, reason: str, details: str) -> JSONResponse:
    return JSONResponse({"error": {"reason": reason, "details": details}}, status_code=status)


class PinataDouble(ThreadedDouble):
    def __init__(self, jwt: str | None = None):
        self.jwt = jwt or make_jwt()
        self.blocks = MemoryBlockstore()
        self.files: list[dict] = []
        self.fault: str | None = None
        self.slow_seconds = 2.0
        self.app = self._build_app()

    def cids(self) -> set[str]:
        return {to_cidv1(f["cid"]) for f in self.files}

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def rules(request: Request, call_next):
            if self.fault == "down":
                return PlainTextResponse("502 Bad Gateway", status_code=502)
            if self.fault == "slow":
                await asyncio.sleep(self.slow_seconds)
            if request.headers.get("authorization") != f"Bearer {self.jwt}":
                return error(401, "INVALID_CREDENTIALS", "Invalid or expired JWT")
            if self.fault == "insufficient_funds" and request.method == "POST":
                return error(402, "PAYMENT_REQUIRED", "Account storage limit reached; upgrade your plan")
            return await call_next(request)

        @app.get("/data/testAuthentication")
        def test_auth():
            return {"message": "Congratulations! You are communicating with the Pinata API!"}

        @app.post("/v3/files")
        async def upload(request: Request):
            form = await request.form(max_part_size=1 << 40)
            part = form.get("file")
            if part is None or not hasattr(part, "filename"):
                return error(400, "BAD_REQUEST", "file is required")
            network = form.get("network", "private")
            is_car = str(form.get("car", "false")).lower() == "true"
            try:
                if is_car:
                    if network != "public":
                        return error(400, "BAD_REQUEST", "CAR uploads are only supported on the public network")
                    roots = read_car(part.file, self.blocks)
                    if len(roots) != 1:
                        return error(400, "BAD_REQUEST", "a CAR upload needs exactly one root")
                    for _ in iter_dag_blocks(roots[0], self.blocks.get):
                        pass  # the whole DAG must be in the CAR
                    cid, size = to_cidv1(roots[0]), part.size
                else:
                    node = unixfs.import_stream(part.file, self.blocks, cid_version=1, raw_leaves=True)
                    cid, size = node.cidv1, node.size
            except IpfsError as exc:
                return error(400, "BAD_REQUEST", exc.message)
            if self.fault == "wrong_cid":
                cid = OTHER_CID
            duplicate = any(f["cid"] == cid for f in self.files)
            record = {
                "id": str(uuid.uuid4()),
                "name": form.get("name") or part.filename,
                "cid": cid,
                "size": size,
                "number_of_files": 1,
                "mime_type": "application/vnd.ipld.car" if is_car else (part.content_type or ""),
                "group_id": form.get("group_id"),
                "keyvalues": json.loads(form.get("keyvalues") or "{}"),
                "user_id": "movieminter-test",
                "network": network,
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                "is_duplicate": duplicate,
            }
            self.files.append(record)
            return {"data": record}

        @app.get("/v3/files/{network}")
        def list_files(network: str, cid: str | None = None):
            files = [
                f
                for f in self.files
                if f["network"] == network and (cid is None or parse_cid(f["cid"]).digest == parse_cid(cid).digest)
            ]
            return {"data": {"files": files, "next_page_token": ""}}

        @app.post("/v3/files/public/pin_by_cid")
        async def pin_by_cid(request: Request):
            body = await request.json()
            return {
                "data": {
                    "id": str(uuid.uuid4()),
                    "cid": body.get("cid"),
                    "name": body.get("name"),
                    "status": "prechecking",
                    "keyvalues": {},
                    "group_id": None,
                    "date_queued": dt.datetime.now(dt.timezone.utc).isoformat(),
                }
            }

        return app
