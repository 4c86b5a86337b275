"""IPFS Pinning Service API (ipfs/pinning-services-api-spec): Bearer token,
POST /pins {cid, name, origins, meta} -> PinStatus {requestid, status, pin},
GET /pins/{requestid} until status is "pinned" (or "failed"), GET /pins?cid=.

A pinning service fetches the blocks itself over IPFS, so the content must be
retrievable from somewhere it can reach: give `origins` (multiaddrs of a node
holding it, e.g. your Kubo) or serve the local gateway publicly. Nothing is
recorded as pinned until the service reports "pinned" for our CID.
"""

from __future__ import annotations

import time

from movieminter.ipfs import unixfs
from movieminter.ipfs.cid import to_cidv1
from movieminter.ipfs.errors import IpfsError, StoreUnavailable
from movieminter.ipfs.stores.base import check_same
from movieminter.ipfs.stores.remote import HttpService, RemoteStore


class PsaStore(RemoteStore):
    name = "psa"

    def __init__(
        self,
        data_dir,
        endpoint: str,
        token: str,
        *,
        origins: list[str] | tuple = (),
        pin_timeout: float = 600.0,
        poll_interval: float = 2.0,
        timeout: float = 60.0,
        gateway_url: str = "",
    ):
        if not endpoint:
            raise IpfsError(
                "the Pinning Service API needs an endpoint",
                hint="set ipfs_endpoint to the service's PSA URL (e.g. https://api.pinata.cloud/psa)",
            )
        if not token:
            raise IpfsError("the Pinning Service API needs an access token", hint="set ipfs_token")
        super().__init__(data_dir, HttpService("pinning service", endpoint, token, timeout=timeout), gateway_url)
        self.origins = list(origins)
        self.pin_timeout = pin_timeout
        self.poll_interval = poll_interval

    def _push(self, node: unixfs.ImportedNode, source) -> str:
        return self._pin_and_wait(node.cidv1)

    def _pin_and_wait(self, cid: str, name: str = "") -> str:
        body = {"cid": cid, "name": name or f"movieminter-{cid[-12:]}", "meta": {"app": "movieminter"}}
        if self.origins:
            body["origins"] = self.origins
        status = self.http.request("POST", "/pins", json=body).json()
        returned = (status.get("pin") or {}).get("cid")
        check_same(self.name, cid, returned)  # before waiting: a wrong CID will never become ours
        deadline = time.monotonic() + self.pin_timeout
        while True:
            state = status.get("status")
            if state == "pinned":
                check_same(self.name, cid, (status.get("pin") or {}).get("cid"))
                return status["pin"]["cid"]
            if state == "failed":
                info = status.get("info") or {}
                detail = "; ".join(f"{v}" for v in info.values()) if isinstance(info, dict) else str(info)
                raise IpfsError(
                    f"the pinning service failed to pin {cid}" + (f": {self.http._clean(detail)}" if detail else ""),
                    hint="the service could not fetch the blocks; make the content retrievable "
                    "(origins / a public gateway) and pin again",
                )
            if state not in ("queued", "pinning"):
                raise StoreUnavailable(f"the pinning service reported an unknown status {state!r}")
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    f"{cid} is still {state} after {self.pin_timeout:.0f}s",
                    hint="the service has not fetched the content yet; check that it is "
                    "retrievable, then run pin again (nothing was recorded as pinned)",
                )
            time.sleep(self.poll_interval)
            status = self.http.request("GET", f"/pins/{status['requestid']}").json()

    def pin(self, cid) -> None:
        want = to_cidv1(cid)
        if want in self.pins:  # confirmed pinned already: no second pin request
            return
        self._pin_and_wait(want)
        self.pins.add(want)

    def has(self, cid) -> bool:
        data = self.http.request("GET", "/pins", params={"cid": to_cidv1(cid), "status": "pinned"}).json()
        return int(data.get("count", 0)) > 0
