"""HTTP client for AUTOMATIC1111's API (`/sdapi/v1/*`, started with `--api`).

Retries with exponential backoff on connection errors and 5xx, except where
a repeat could do harm or a 5xx is a documented answer: a POST is repeated
only when the request never reached A1111 (connect error) or a proxy in
front said A1111 was not reached (502/503/504), so a render is never
submitted twice. `--api-auth` protects `/sdapi/v1/*` only, so the credentials
go with every request but are only ever checked there.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from movieminter.errors import MovieMinterError
from movieminter.render.errors import (
    A1111HttpError,
    A1111Timeout,
    A1111Unreachable,
    ApiDisabled,
    AuthRequired,
    DeforumApiDisabled,
    DeforumBusy,
    FramesError,
)

# Process-wide: one lock per A1111 instance. A Deforum render holds it for its
# whole run; txt2img refuses to start while it is held (Deforum jobs ignore
# A1111's own queue lock, so both would write into the same shared state).
_render_locks: dict[str, threading.Lock] = {}
_render_locks_guard = threading.Lock()

_PROXY_STATUSES = {502, 503, 504}


def render_lock(base_url: str) -> threading.Lock:
    with _render_locks_guard:
        return _render_locks.setdefault(base_url.rstrip("/"), threading.Lock())


def parse_auth(auth: str | tuple[str, str] | None) -> tuple[str, str] | None:
    if not auth:
        return None
    if isinstance(auth, tuple):
        return auth
    user, sep, password = auth.partition(":")
    if not sep or not user:
        raise MovieMinterError(
            "--a1111-auth must look like user:password", hint="use the same value as A1111's --api-auth"
        )
    return user, password


class A1111Client:
    def __init__(
        self,
        base_url: str,
        *,
        auth: str | tuple[str, str] | None = None,
        timeout: float = 30,
        retries: int = 3,
        backoff: float = 0.25,
        local_files: bool | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        if not base_url:
            raise MovieMinterError("no A1111 URL given", hint="pass --a1111-url http://127.0.0.1:7860")
        self.base_url = base_url.rstrip("/")
        self._auth = parse_auth(auth)
        self.retries = retries
        self.backoff = backoff
        # None: decide per path (is A1111's output folder readable here?).
        self.local_files = local_files
        self._http = httpx.Client(
            base_url=self.base_url, auth=self._auth, timeout=timeout, transport=transport, follow_redirects=False
        )

    def __repr__(self) -> str:  # never show the password
        return f"A1111Client({self.base_url!r}, auth={'***' if self._auth else None})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def render_lock(self) -> threading.Lock:
        return render_lock(self.base_url)

    # -- transport -------------------------------------------------------

    def request(
        self, method: str, path: str, *, json_body: Any = None, params: dict | None = None, timeout: float | None = None
    ) -> httpx.Response:
        """One API call with retries; maps the well-known failures to clear errors.

        Returns the response for any status < 400 and for 4xx/5xx the caller
        must interpret itself (404 on a known route, Deforum's 500 on a batch).
        """
        attempt = 0
        kwargs: dict = {"params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        if timeout is not None:
            kwargs["timeout"] = timeout
        while True:
            try:
                resp = self._http.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                reason = type(exc).__name__
                retry = True
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteError) as exc:
                # The request may have reached A1111: only idempotent calls are repeated.
                reason = type(exc).__name__
                retry = method in ("GET", "HEAD", "DELETE")
                timed_out = isinstance(exc, httpx.ReadTimeout)
                if timed_out and (not retry or attempt >= self.retries):
                    raise A1111Timeout(
                        self.base_url, f"{method} {path}", timeout if timeout is not None else self._http.timeout.read
                    ) from exc
                if not retry:
                    raise A1111Unreachable(self.base_url, f"{reason} during {method} {path}") from exc
            else:
                status = resp.status_code
                retryable = status >= 500 and (
                    status in _PROXY_STATUSES
                    or (method in ("GET", "HEAD", "DELETE") and not _documented_500(method, path, status))
                )
                if not retryable:
                    return self._check(resp, method, path)
                if attempt >= self.retries:
                    if status in _PROXY_STATUSES:  # nothing is answering behind the front door
                        raise A1111Unreachable(self.base_url, f"HTTP {status} to {method} {path}")
                    return self._check(resp, method, path)
                reason = f"HTTP {status}"
                retry = True
            if not retry or attempt >= self.retries:
                raise A1111Unreachable(self.base_url, reason)
            time.sleep(self.backoff * (2**attempt))
            attempt += 1

    def _check(self, resp: httpx.Response, method: str, path: str) -> httpx.Response:
        if resp.status_code == 401:
            raise AuthRequired(self.base_url, had_auth=self._auth is not None)
        if resp.status_code == 404 and _is_route_missing(resp):
            if path.startswith("/sdapi/"):
                raise ApiDisabled(self.base_url)
            if path.startswith("/deforum_api/"):
                raise DeforumApiDisabled(self.base_url)
        return resp

    def _json(self, method: str, path: str, **kw) -> Any:
        resp = self.request(method, path, **kw)
        if resp.status_code >= 400:
            raise A1111HttpError(method, path, resp.status_code, resp.text)
        return resp.json() if resp.content else None

    # -- /sdapi/v1 ---------------------------------------------------------

    def options(self) -> dict:
        return self._json("GET", "/sdapi/v1/options")

    def set_options(self, values: dict) -> None:
        """Persists to A1111's config.json: prefer per-job overrides."""
        self._json("POST", "/sdapi/v1/options", json_body=values)

    def sd_models(self) -> list[dict]:
        return self._json("GET", "/sdapi/v1/sd-models")

    def loras(self) -> list[dict]:
        return self._json("GET", "/sdapi/v1/loras")

    def samplers(self) -> list[dict]:
        return self._json("GET", "/sdapi/v1/samplers")

    def schedulers(self) -> list[dict] | None:
        """None on A1111 < 1.9, which has no scheduler list."""
        try:
            return self._json("GET", "/sdapi/v1/schedulers")
        except ApiDisabled:
            self.options()  # the API is on: only this route is missing
            return None

    def cmd_flags(self) -> dict:
        return self._json("GET", "/sdapi/v1/cmd-flags")

    def extensions(self) -> list[dict]:
        return self._json("GET", "/sdapi/v1/extensions")

    def refresh_checkpoints(self) -> None:
        self._json("POST", "/sdapi/v1/refresh-checkpoints")

    def refresh_loras(self) -> None:
        self._json("POST", "/sdapi/v1/refresh-loras")

    def interrupt(self) -> None:
        self._json("POST", "/sdapi/v1/interrupt")

    def txt2img(self, payload: dict, *, timeout: float = 600) -> dict:
        """Refuses while a Deforum render runs (ours, or anyone's on that A1111)."""
        lock = self.render_lock
        if not lock.acquire(blocking=False):
            raise DeforumBusy(["(this process)"])
        try:
            running = self.running_deforum_jobs()
            if running:
                raise DeforumBusy(running)
            out = self._json("POST", "/sdapi/v1/txt2img", json_body=payload, timeout=timeout)
        finally:
            lock.release()
        if isinstance(out.get("info"), str):  # A1111 sends info as a JSON string
            try:
                out["info"] = json.loads(out["info"])
            except ValueError:
                pass
        return out

    def running_deforum_jobs(self) -> list[str]:
        """Ids of Deforum jobs queued or running now; [] without the Deforum API.
        A job interrupted in A1111 stays ACCEPTED for ever and is left out."""
        from movieminter.render.deforum import DeforumClient  # here: deforum.py imports this module

        try:
            return DeforumClient(self).active_jobs()
        except (DeforumApiDisabled, A1111HttpError):
            return []

    # -- versions ----------------------------------------------------------

    def sysinfo(self) -> dict | None:
        """/internal/sysinfo (no --api-auth), or None: slow on big installs, absent on some forks."""
        try:
            resp = self.request("GET", "/internal/sysinfo", timeout=60)
            return json.loads(resp.text) if resp.status_code == 200 else None
        except (A1111Unreachable, ValueError):
            return None

    def installed_extensions(self, sysinfo: dict | None = None) -> dict[str, str] | None:
        """Enabled extensions, name -> commit ("" when not a git clone), or None if
        A1111 does not say. sysinfo lists every one; /sdapi/v1/extensions only git clones."""
        info = self.sysinfo() if sysinfo is None else sysinfo
        if info and isinstance(info.get("Extensions"), list):
            return {e.get("name", ""): e.get("commit") or "" for e in info["Extensions"] if isinstance(e, dict)}
        try:
            return {
                e.get("name", ""): e.get("commit_hash") or "" for e in self.extensions() or [] if e.get("enabled", True)
            } or None
        except (A1111HttpError, ApiDisabled):
            return None

    def versions(self) -> dict:
        """A1111 version/commit and the Deforum extension's commit. Missing pieces
        are None, never an error."""
        out: dict = {"a1111": None, "a1111_commit": None, "deforum": None, "deforum_commit": None}
        info = self.sysinfo()
        if info:
            out["a1111"] = info.get("Version")
            out["a1111_commit"] = info.get("Commit") if info.get("Commit") not in ("<none>", "") else None
        for name, commit in (self.installed_extensions(info) or {}).items():
            if "deforum" in name.lower():
                out["deforum"] = commit[:8] if commit else name
                out["deforum_commit"] = commit or None
        return out

    # -- files A1111 wrote ---------------------------------------------------

    def is_local(self, path: str | Path) -> bool:
        if self.local_files is not None:
            return self.local_files
        p = Path(path)
        return p.is_absolute() and p.exists()

    def file_url(self, path: str | Path) -> str:
        """Gradio's file route, which serves A1111's own folder (gradio 3.41, A1111
        1.10) or what --gradio-allowed-path lists (gradio 4, Forge)."""
        return f"/file={quote(str(path))}"

    def fetch_file(self, path: str | Path) -> bytes:
        resp = self.request("GET", self.file_url(path), timeout=60)
        if resp.status_code == 200:
            return resp.content

        if resp.status_code == 403:
            raise FramesError(
                f"A1111 at {self.base_url} will not serve {path} over HTTP (403)",
                hint=(
                    "start A1111 with --gradio-allowed-path pointing at its outputs folder, or run "
                    "`movieminter serve` on the A1111 machine so the frames are read locally"
                ),
            )
        if resp.status_code in (401, 404):
            raise FramesError(
                f"cannot fetch {path} from A1111 at {self.base_url} (HTTP {resp.status_code})",
                hint=(
                    "the file is gone or the web UI needs a login (--gradio-auth); run "
                    "`movieminter serve` on the A1111 machine instead"
                ),
            )
        raise A1111HttpError("GET", self.file_url(path), resp.status_code, resp.text)


def _is_route_missing(resp: httpx.Response) -> bool:
    """FastAPI's own 404 ({"detail": "Not Found"}) means the route is not mounted;
    Deforum's 404 for an unknown job carries {"id", "status": "NOT FOUND"}."""
    try:
        body = resp.json()
    except ValueError:
        return True
    return isinstance(body, dict) and body.get("detail") == "Not Found"


def _documented_500(method: str, path: str, status: int) -> bool:
    # Deforum answers an unknown batch id with a 500 (KeyError): an answer, not an outage.
    return status == 500 and path.startswith("/deforum_api/batches/")
