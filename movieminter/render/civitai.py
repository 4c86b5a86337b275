"""Civitai client: look a model file up by its hash, download it resumably.

The token goes in an `Authorization: Bearer` header; httpx drops that header
when Civitai redirects to its storage host, so the token never leaves
Civitai. Partial downloads continue with `Range` from where they stopped.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from movieminter.render.errors import DownloadError


class CivitaiClient:
    def __init__(
        self, base_url: str = "https://civitai.com", token: str | None = None, *, timeout: float = 60, retries: int = 3
    ):
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._has_token = bool(token)
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, follow_redirects=True)

    def __repr__(self) -> str:
        return f"CivitaiClient({self.base_url!r}, token={'***' if self._has_token else None})"

    def close(self) -> None:
        self._http.close()

    def by_hash(self, file_hash: str) -> dict | None:
        """The model version holding a file with this hash (SHA256, AutoV2, …), or None."""
        try:
            resp = self._http.get(f"/api/v1/model-versions/by-hash/{file_hash}")
        except httpx.TransportError as exc:
            raise DownloadError(
                f"cannot reach Civitai at {self.base_url} ({type(exc).__name__})",
                hint="check the network, or download the file by hand (see the message above)",
            ) from exc
        if resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise DownloadError(
                f"Civitai answered {resp.status_code} to a by-hash lookup: {resp.text[:200]}", hint="try again later"
            )
        return resp.json()

    def page_url(self, model_id: int | None, version_id: int) -> str:
        if model_id:
            return f"{self.base_url}/models/{model_id}?modelVersionId={version_id}"
        return f"{self.base_url}/api/download/models/{version_id}"

    def download(
        self,
        version_id: int,
        part: Path,
        *,
        params: dict | None = None,
        on_bytes: Callable[[int, int | None], None] | None = None,
    ) -> Path:
        """Download a version's file into `part`, continuing a partial one.

        Retries (resuming) when the connection drops. Returns `part`; the caller
        verifies the sha256 before the file goes anywhere A1111 can see it.
        """
        attempt = 0
        while True:
            try:
                self._download_once(version_id, part, params or {}, on_bytes)
                return part
            except (httpx.TransportError, httpx.RemoteProtocolError) as exc:
                if attempt >= self.retries:
                    raise DownloadError(
                        f"the download of Civitai version {version_id} kept failing ({type(exc).__name__}); "
                        f"{part.stat().st_size if part.exists() else 0} bytes are kept in {part}",
                        hint="run the same command again to resume",
                    ) from exc
                time.sleep(0.2 * 2**attempt)
                attempt += 1

    def _download_once(self, version_id, part: Path, params: dict, on_bytes) -> None:
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self._http.stream("GET", f"/api/download/models/{version_id}", params=params, headers=headers) as resp:
            if resp.status_code == 401:
                raise DownloadError(
                    f"Civitai requires a login to download model version {version_id}",
                    hint="create an API key at https://civitai.com/user/account and pass --civitai-token "
                    "(or set MOVIEMINTER_CIVITAI_TOKEN)",
                )
            if resp.status_code == 416:  # we already have at least the whole file
                return
            if resp.status_code not in (200, 206):
                raise DownloadError(
                    f"Civitai answered {resp.status_code} to the download of version {version_id}",
                    hint="try again later, or download it by hand",
                )
            mode = "ab" if resp.status_code == 206 else "wb"  # 200: the server ignored Range
            done = have if mode == "ab" else 0
            total = resp.headers.get("content-length")
            total = int(total) + done if total else None
            with open(part, mode) as fh:
                for chunk in resp.iter_bytes(1 << 16):
                    fh.write(chunk)
                    done += len(chunk)
                    if on_bytes:
                        on_bytes(done, total)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
