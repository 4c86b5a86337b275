"""Pinata, through its current v3 API (JWT as Bearer):

- upload: POST https://uploads.pinata.cloud/v3/files, multipart with
  `network=public`, `car=true` and our CAR as `file`. Uploading the CAR (not
  the raw file) fixes the DAG: Pinata's own importer makes CIDv1 with raw
  leaves (bafkrei…), which is not Kubo's default layout. Answer:
  {"data": {"id", "name", "cid", "size", …}}; data.cid must be our root.
- has: GET https://api.pinata.cloud/v3/files/public?cid=CID.
- pin an existing CID: POST /v3/files/public/pin_by_cid (queued, fetched later).
- GET /data/testAuthentication checks the JWT.

The legacy pinFileToIPFS (pinataOptions.cidVersion 0 gives Kubo-default
CIDs) also works with Pinata but is deprecated; v3 is used here.
With ipfs_endpoint set, both API and upload calls go to that base URL
(the double, or a proxy).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from movieminter.ipfs import unixfs
from movieminter.ipfs.car import CAR_MEDIA_TYPE, write_car
from movieminter.ipfs.cid import parse_cid, to_cidv1
from movieminter.ipfs.errors import IpfsError, StoreUnavailable
from movieminter.ipfs.stores.base import check_same
from movieminter.ipfs.stores.remote import HttpService, RemoteStore

API_URL = "https://api.pinata.cloud"
UPLOAD_URL = "https://uploads.pinata.cloud"


class PinataStore(RemoteStore):
    name = "pinata"

    def __init__(self, data_dir, jwt: str, endpoint: str = "", *, timeout: float = 300.0, gateway_url: str = ""):
        if not jwt:
            raise IpfsError("Pinata needs a JWT", hint="create an API key at Pinata and set ipfs_token to its JWT")
        super().__init__(data_dir, HttpService("Pinata", endpoint or API_URL, jwt, timeout=timeout), gateway_url)
        self.upload_url = (endpoint or UPLOAD_URL).rstrip("/")

    def test_authentication(self) -> dict:
        return self.http.request("GET", "/data/testAuthentication").json()

    def _push(self, node: unixfs.ImportedNode, source) -> str:
        name = source.name if isinstance(source, Path) else f"movieminter-{node.cidv1[-12:]}"
        with tempfile.TemporaryFile() as car:
            write_car(node.cid, self.local.blocks, car)
            car.seek(0)
            resp = self.http.request(
                "POST",
                "",
                url=self.upload_url + "/v3/files",
                data={"network": "public", "car": "true", "name": name},
                files=[("file", (f"{node.cidv1}.car", car, CAR_MEDIA_TYPE))],
            )
        data = resp.json().get("data") or {}
        if "cid" not in data:
            raise StoreUnavailable("Pinata's upload answer has no data.cid")
        return data["cid"]

    def has(self, cid) -> bool:
        data = self.http.request("GET", "/v3/files/public", params={"cid": to_cidv1(cid)}).json()
        return bool(((data.get("data") or {}).get("files")) or [])

    def pin(self, cid) -> None:
        want = to_cidv1(cid)
        if want in self.pins:
            return
        if self.has(want):
            self.pins.add(want)
            return
        if self.local.has(want):
            check_same(self.name, want, self._push(unixfs.ImportedNode(parse_cid(want), 0, 0), want))
            self.pins.add(want)
            return
        self.http.request("POST", "/v3/files/public/pin_by_cid", json={"cid": want})
        raise StoreUnavailable(
            f"Pinata queued {want} to be fetched from IPFS; it is not pinned yet", hint="run pin again later to confirm"
        )
