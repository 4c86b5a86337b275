"""What the Kubo, Pinata and Pinning Service API stores share: one httpx
client with auth headers, error mapping with clear, token-free messages, and
the compute-locally / push / compare / record flow."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import httpx

from movieminter.ipfs import unixfs
from movieminter.ipfs.blockstore import check_block
from movieminter.ipfs.errors import InsufficientFunds, IpfsError, StoreAuthError, StoreUnavailable
from movieminter.ipfs.stores.base import ContentStore, PinRecord, check_same
from movieminter.ipfs.stores.local import LocalStore
from movieminter.ipfs.trustless import fetch_block, public_url

log = logging.getLogger(__name__)


def auth_header(token: str) -> dict:
    """'Bearer x' / 'Basic x' as given; 'user:pass' -> Basic; anything else -> Bearer."""
    token = (token or "").strip()
    if not token:
        return {}
    if token.split(" ", 1)[0] in ("Bearer", "Basic"):
        return {"Authorization": token}
    if ":" in token:
        return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}
    return {"Authorization": "Bearer " + token}


class HttpService:
    def __init__(
        self, service: str, base_url: str, token: str = "", *, timeout: float = 60.0, headers: dict | None = None
    ):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            headers={**auth_header(token), **(headers or {})},
        )

    def __repr__(self) -> str:
        return f"<HttpService {self.service} {public_url(self.base_url)}>"

    def _clean(self, text: str) -> str:
        text = (text or "").strip()
        if self._token:
            for secret in {self._token, self._token.split(" ", 1)[-1]}:
                if secret:
                    text = text.replace(secret, "***")
        return text[:300]

    def request(self, method: str, path: str, *, url: str | None = None, **kw) -> httpx.Response:
        target = url or (self.base_url + path)
        where = public_url(target)
        try:
            resp = self.client.request(method, target, **kw)
        except httpx.TimeoutException:
            raise StoreUnavailable(
                f"{self.service} at {where} timed out", hint="the service is slow or the upload is large; retry later"
            ) from None
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                f"cannot reach {self.service} at {where} ({type(exc).__name__})",
                hint="is the service running and the endpoint right? "
                "(setting ipfs_endpoint / MOVIEMINTER_IPFS_ENDPOINT)",
            ) from None
        if resp.status_code >= 400:
            self.raise_for(resp, where)
        return resp

    def raise_for(self, resp: httpx.Response, where: str) -> None:
        try:
            body = resp.read().decode("utf-8", errors="replace")
        except httpx.HTTPError:
            body = ""
        detail = self._clean(_error_text(body))
        code = resp.status_code
        if code in (401, 403):
            raise StoreAuthError(
                f"{self.service} refused the credentials ({code}){': ' + detail if detail else ''}",
                hint="check the token (setting ipfs_token / MOVIEMINTER_IPFS_TOKEN)",
            )
        if code == 402 or (code == 409 and "fund" in body.lower()):
            raise InsufficientFunds(
                f"{self.service} says the account has insufficient funds ({code}){': ' + detail if detail else ''}",
                hint="top up or upgrade the plan at the service, then retry",
            )
        raise StoreUnavailable(
            f"{self.service} at {where} answered {code}{': ' + detail if detail else ''}", status=code
        )

    def close(self) -> None:
        self.client.close()


def _error_text(body: str) -> str:
    """The message part of the error bodies Kubo, Pinata and PSA return."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            return " ".join(str(err.get(k, "")) for k in ("reason", "details")).strip()
        for key in ("Message", "message", "error", "details"):
            if isinstance(data.get(key), str):
                return data[key]
    return body


class RemoteStore(ContentStore):
    """add_* = import locally (blocks kept in the local store), push, compare
    the service's CID with ours (CidMismatch otherwise), then record the pin."""

    def __init__(self, data_dir: str | Path, http: HttpService, gateway_url: str = ""):
        self.local = LocalStore(data_dir)
        self.http = http
        self.gateway_url = gateway_url.rstrip("/")
        self.pins = PinRecord(self.local.root / "remote" / self.name / "pins")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {public_url(self.http.base_url)}>"

    # subclasses implement: _push(node, source) -> returned cid text
    def _push(self, node: unixfs.ImportedNode, source) -> str:
        raise NotImplementedError

    def _add(self, source) -> str:
        node = self.local.add_node(source)
        returned = self._push(node, source)
        check_same(self.name, node.cidv1, returned)
        self.pins.add(node.cidv1, size=node.size)
        log.info("%s pinned %s", self.name, node.cidv1)
        return node.cidv1

    def add_file(self, path) -> str:
        return self._add(Path(path))

    def add_bytes(self, data: bytes) -> str:
        return self._add(bytes(data))

    def add_directory(self, entries: Mapping) -> str:
        return self._add(dict(entries))

    def pinned(self) -> list[str]:
        return self.pins.list()

    def remote_block(self, cid) -> bytes:
        """A block this machine does not have: from the configured trustless
        gateway (`?format=raw`); get_block verifies it."""
        if not self.gateway_url:
            raise IpfsError(
                f"{cid} is not in the local store and {self.name} serves no blocks",
                hint="set gateway_url (MOVIEMINTER_GATEWAY_URL) to a trustless gateway, e.g. https://ipfs.io",
            )
        return fetch_block(cid, self.gateway_url)  # a plain client: the service's token never goes to a gateway

    def get_block(self, cid) -> bytes:
        if self.local.blocks.has(cid):
            return self.local.get_block(cid)
        block = self.remote_block(cid)
        check_block(cid, block)  # whatever comes over the network is verified
        self.local.blocks.put(cid, block)
        return block

    def open(self, cid) -> unixfs.UnixFSReader:
        return unixfs.UnixFSReader(cid, self.get_block)

    def size(self, cid) -> int:
        return unixfs.stat(cid, self.get_block).size

    def close(self) -> None:
        self.http.close()
