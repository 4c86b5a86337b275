"""Content stores behind one interface (see base.ContentStore).

open_store(settings) -> ContentStore     settings.ipfs_backend:
  local   blocks in <data_dir>/ipfs (default)
  kubo    Kubo RPC at ipfs_endpoint (default http://127.0.0.1:5001), ipfs_token optional
  pinata  Pinata v3 API, ipfs_token = JWT (ipfs_endpoint overrides the API base)
  psa     IPFS Pinning Service API at ipfs_endpoint, ipfs_token = access token
"""

from __future__ import annotations

from movieminter.ipfs.errors import IpfsError
from movieminter.ipfs.stores.base import ContentStore, PinRecord, check_same
from movieminter.ipfs.stores.kubo import KuboStore
from movieminter.ipfs.stores.local import LocalStore
from movieminter.ipfs.stores.pinata import PinataStore
from movieminter.ipfs.stores.psa import PsaStore

BACKENDS = ("local", "kubo", "pinata", "psa")


def open_store(settings) -> ContentStore:
    backend = (settings.ipfs_backend or "local").strip().lower()
    data_dir = settings.data_dir
    if backend == "local":
        return LocalStore(data_dir)
    if backend == "kubo":
        return KuboStore(data_dir, settings.ipfs_endpoint, settings.ipfs_token)
    if backend == "pinata":
        return PinataStore(data_dir, settings.ipfs_token, settings.ipfs_endpoint, gateway_url=settings.gateway_url)
    if backend == "psa":
        return PsaStore(data_dir, settings.ipfs_endpoint, settings.ipfs_token, gateway_url=settings.gateway_url)
    raise IpfsError(
        f"unknown IPFS backend {settings.ipfs_backend!r}", hint=f"set ipfs_backend to one of: {', '.join(BACKENDS)}"
    )


__all__ = ["open_store", "ContentStore", "LocalStore", "PinRecord", "check_same", "BACKENDS"]
