"""An IPFS Pinning Service API double (ipfs/pinning-services-api-spec v1.0):
Bearer auth, POST /pins -> 202 PinStatus, GET /pins/{requestid},
GET /pins?cid=&status=, DELETE /pins/{requestid}; errors as
{"error": {"reason", "details"}} with the spec's reasons (UNAUTHORIZED,
NOT_FOUND, BAD_REQUEST, INSUFFICIENT_FUNDS with 409).

Statuses progress one step per status poll: queued -> pinning -> pinned.
Like a real service it must *fetch* the content before "pinned": set
`fetch_from` to a trustless gateway URL standing in for the IPFS network
(e.g. the app's own local gateway); blocks are verified with verified_get.
Unretrievable content ends "failed".

Faults (`double.fault`): "unauthorized" (401), "wrong_cid" (the service
reports a different CID), "fail" (ends failed), "stuck" (stays queued),
"insufficient_funds" (409), "slow" (sleeps `slow_seconds`), "down" (502).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from movieminter.ipfs.cid import parse_cid, to_cidv1
from movieminter.ipfs.errors import IpfsError
from movieminter.ipfs.trustless import verified_get
from movieminter.testing.server_thread import ThreadedDouble

OTHER_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


def failure(status: int, reason: str, details: str) -> JSONResponse:
    return JSONResponse({"error": {"reason": reason, "details": details}}, status_code=status)


class PsaDouble(ThreadedDouble):
    def __init__(self, token: str = "psa-token", *, fetch_from: str | None = None):
        self.token = token
        self.fetch_from = fetch_from
        self.fault: str | None = None
        self.slow_seconds = 2.0
        self.pins: dict[str, dict] = {}  # requestid -> PinStatus
        self.lock = threading.Lock()
        self.app = self._build_app()

    def pinned_cids(self) -> set[str]:
        return {to_cidv1(p["pin"]["cid"]) for p in self.pins.values() if p["status"] == "pinned"}

    def _advance(self, status: dict) -> None:
        """One step of the pin's life, taken when the client polls."""
        if self.fault == "stuck" or status["status"] in ("pinned", "failed"):
            return
        if status["status"] == "queued":
            status["status"] = "pinning"
            return
        if self.fault == "fail":
            status["status"], status["info"] = "failed", {"status_details": "content could not be retrieved"}
            return
        try:
            if not self.fetch_from:
                raise IpfsError("no provider found for the CID")

            verified_get(status["_real_cid"], self.fetch_from, timeout=30)
            status["status"] = "pinned"
        except IpfsError as exc:
            status["status"], status["info"] = "failed", {"status_details": exc.message}

    @staticmethod
    def _public(status: dict) -> dict:
        return {k: v for k, v in status.items() if not k.startswith("_")}

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def rules(request: Request, call_next):
            if self.fault == "down":
                return PlainTextResponse("502 Bad Gateway", status_code=502)
            if self.fault == "slow":
                await asyncio.sleep(self.slow_seconds)
            if self.fault == "unauthorized" or request.headers.get("authorization") != f"Bearer {self.token}":
                return failure(401, "UNAUTHORIZED", "Access token is missing or invalid")
            if self.fault == "insufficient_funds" and request.method == "POST":
                return failure(409, "INSUFFICIENT_FUNDS", "Unable to process request due to the lack of funds")
            return await call_next(request)

        @app.post("/pins")
        async def add_pin(request: Request):
            try:
                body = await request.json()
                cid = to_cidv1(parse_cid(body["cid"]))
            except (ValueError, KeyError, TypeError, IpfsError):
                return failure(400, "BAD_REQUEST", "body must be a Pin object with a valid cid")
            status = {
                "requestid": uuid.uuid4().hex,
                "status": "queued",
                "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                "pin": {
                    "cid": OTHER_CID if self.fault == "wrong_cid" else body["cid"],
                    "name": body.get("name"),
                    "origins": body.get("origins", []),
                    "meta": body.get("meta", {}),
                },
                "delegates": ["/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"],
                "info": {},
                "_real_cid": cid,
            }
            with self.lock:
                self.pins[status["requestid"]] = status
            return JSONResponse(self._public(status), status_code=202)

        @app.get("/pins/{requestid}")
        def get_pin(requestid: str):
            with self.lock:
                status = self.pins.get(requestid)
            if status is None:
                return failure(404, "NOT_FOUND", "The specified resource was not found")
            self._advance(status)
            return self._public(status)

        @app.get("/pins")
        def list_pins(cid: str | None = None, status: str = "pinned", limit: int = 10):
            wanted = {to_cidv1(c) for c in cid.split(",")} if cid else None
            states = set(status.split(","))
            results = [
                self._public(s)
                for s in self.pins.values()
                if s["status"] in states and (wanted is None or s["_real_cid"] in wanted)
            ]
            return {"count": len(results), "results": results[:limit]}

        @app.delete("/pins/{requestid}")
        def delete_pin(requestid: str):
            with self.lock:
                if self.pins.pop(requestid, None) is None:
                    return failure(404, "NOT_FOUND", "The specified resource was not found")
            return JSONResponse(None, status_code=202)

        return app
