"""Our own IPFS path gateway (with the trustless formats).

`gateway_router(store)` serves GET/HEAD /ipfs/{cid}[/{path}]: files with
Content-Type, ETag (the CID), immutable caching and single HTTP Ranges (so
video seeks); `?format=raw` (one block, application/vnd.ipld.raw) and
`?format=car` (the DAG, DFS pre-order, application/vnd.ipld.car) so other
nodes, pinning services and `movieminter.ipfs.trustless.verified_get` can
check every block.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from movieminter.ipfs import unixfs
from movieminter.ipfs.car import CAR_MEDIA_TYPE, iter_car
from movieminter.ipfs.cid import parse_cid, to_cidv1
from movieminter.ipfs.errors import (
    BlockNotFound,
    InvalidCid,
    IpfsError,
    MalformedBlock,
    TamperedContent,
)
from movieminter.ipfs.trustless import RAW_MEDIA_TYPE

IMMUTABLE = "public, max-age=29030400, immutable"
# Content from IPFS is served on the app's own origin: a sandboxed CSP makes
# any HTML/SVG in it an opaque origin with no scripts, so it can never act as
# the app (cookies, CSRF token, API); nosniff stops type guessing.
UNTRUSTED = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


# --- content type -----------------------------------------------------------------


def sniff_content_type(head: bytes, name: str | None = None) -> str:
    """Content-Type from the file name's extension, else from magic bytes."""
    if name and "." in name:
        guessed, _ = mimetypes.guess_type(name)
        if name.lower().endswith(".m3u8"):
            return "application/vnd.apple.mpegurl"
        if guessed:
            return guessed
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if head.startswith(b"#EXTM3U"):
        return "application/vnd.apple.mpegurl"
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "application/json"
    try:
        head.decode("utf-8")
        return "text/plain; charset=utf-8"
    except UnicodeDecodeError:
        return "application/octet-stream"


# --- Range --------------------------------------------------------------------------


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=` range as inclusive (start, end); None to send everything
    (no header, several ranges, or a unit we don't know — all allowed by RFC 9110)."""
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.split("=", 1)[1].strip()
    if "," in spec:
        return None
    if size == 0:
        raise RangeNotSatisfiable
    first, _, last = spec.partition("-")
    try:
        if first.strip() == "":
            n = int(last)
            if n <= 0:
                raise RangeNotSatisfiable
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last.strip() else size - 1
    except ValueError:
        return None
    if start >= size or start < 0 or end < start:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


# --- our gateway -------------------------------------------------------------------


def gateway_router(store):
    """FastAPI router serving the store's content at /ipfs/{cid}[/{path}]."""
    router = APIRouter()
    get_block = store.get_block

    def error(status: int, message: str) -> Response:
        return Response(message + "\n", status_code=status, media_type="text/plain; charset=utf-8", headers=UNTRUSTED)

    @router.api_route("/ipfs/{cid}", methods=["GET", "HEAD"])
    @router.api_route("/ipfs/{cid}/{path:path}", methods=["GET", "HEAD"])
    def ipfs(cid: str, request: Request, path: str = ""):
        try:
            root = parse_cid(cid)
        except InvalidCid as exc:
            return error(400, exc.message)
        accept = request.headers.get("accept", "")
        fmt = request.query_params.get("format") or (
            "raw" if RAW_MEDIA_TYPE in accept else "car" if CAR_MEDIA_TYPE in accept else ""
        )
        head = request.method == "HEAD"
        try:
            target = unixfs.resolve_path(root, path, get_block) if path else root
            if fmt == "raw":
                block = get_block(target)
                hdrs = {
                    **UNTRUSTED,
                    "ETag": f'"{to_cidv1(target)}.raw"',
                    "Cache-Control": IMMUTABLE,
                    "Content-Length": str(len(block)),
                }
                return Response(b"" if head else block, media_type=RAW_MEDIA_TYPE, headers=hdrs)
            if fmt == "car":
                get_block(target)  # 404 now rather than a broken stream later
                hdrs = {**UNTRUSTED, "ETag": f'"{to_cidv1(target)}.car"', "Cache-Control": IMMUTABLE}
                media = CAR_MEDIA_TYPE + "; version=1; order=dfs; dups=n"
                if head:
                    return Response(b"", media_type=media, headers=hdrs)
                return StreamingResponse(
                    (bytes(p) for p in iter_car(target, get_block)), media_type=media, headers=hdrs
                )
            if fmt:
                return error(400, f"unsupported format {fmt!r} (use raw or car)")
            info = unixfs.stat(target, get_block)
        except BlockNotFound:
            return error(404, f"{cid}{'/' + path if path else ''} is not in this store")
        except (MalformedBlock, TamperedContent) as exc:
            return error(502, exc.message)
        except IpfsError as exc:
            return error(404, exc.message)

        etag = f'"{to_cidv1(target)}"'
        base = {
            **UNTRUSTED,
            "ETag": etag,
            "Cache-Control": IMMUTABLE,
            "X-Ipfs-Path": f"/ipfs/{cid}" + (f"/{path}" if path else ""),
        }
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=base)
        if info.kind == "directory":
            return _listing(cid, path, info, base, head)
        if info.kind not in ("file", "raw"):
            return error(501, f"{info.kind} nodes are not served")

        reader = unixfs.UnixFSReader(target, get_block)
        size = reader.size
        name = path.rsplit("/", 1)[-1] if path else None
        ctype = sniff_content_type(reader.read(512), name)
        base.update({"Accept-Ranges": "bytes", "Content-Type": ctype})
        try:
            rng = parse_range(request.headers.get("range"), size)
        except RangeNotSatisfiable:
            return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
        status, start, end = 200, 0, size
        if rng is not None:
            status, start, end = 206, rng[0], rng[1] + 1
            base["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        base["Content-Length"] = str(end - start)
        if head or end == start:
            return Response(b"", status_code=status, headers=base)
        return StreamingResponse(_bytes(reader.iter_range(start, end)), status_code=status, headers=base)

    def _listing(cid, path, info, base, head):
        prefix = f"/ipfs/{cid}" + (f"/{path}" if path else "")
        rows = "".join(
            f'<li><a href="{html.escape(prefix)}/{html.escape(link.name)}">{html.escape(link.name)}</a>'
            f" ({link.tsize} bytes)</li>"
            for link in info.links
        )
        body = f"<!doctype html><title>{html.escape(prefix)}</title><h1>{html.escape(prefix)}</h1><ul>{rows}</ul>"
        return Response(b"" if head else body.encode(), media_type="text/html; charset=utf-8", headers=base)

    return router


def _bytes(pieces: Iterator) -> Iterator[bytes]:
    for p in pieces:
        yield bytes(p)
