"""A stand-in for Civitai's public API, faithful to what model acquisition uses:

- `GET /api/v1/model-versions/by-hash/{hash}` (any of the file hashes, any
  case) → the model version with `files[]` carrying `metadata.format`
  (SafeTensor | PickleTensor) and `hashes` (SHA256, AutoV2, …); 404
  `{"error": "Model not found"}` otherwise.
- `GET /api/download/models/{versionId}` → 307 to a storage URL; 401 without
  a Bearer token (or `?token=`) when the creator requires a login.
- The storage URL honours `Range` (206 + Content-Range) so partial
  downloads resume.

Faults: wrong bytes served, the connection dropped after N bytes, token
required. The files are the fake models the example manifest pins.

    python -m movieminter.testing.civitai_double --port 8765
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import zlib

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from movieminter.testing.fake_models import FAKE_MODELS, safetensors_bytes
from movieminter.testing.server_thread import serve_in_thread

# name -> (model id, version id, Civitai type); version ids match examples/lighthouse.json
DEFAULT_CATALOG = {
    "dreamshaper_8": (4384, 128713, "Checkpoint"),
    "ghibli_style_v2": (6526, 7657, "LORA"),
    "film_grain_35mm": (33208, 39525, "LORA"),
}
PICKLE_VERSION_ID = 128714  # a .ckpt-only release of dreamshaper_8


@dataclasses.dataclass
class CivitaiFile:
    name: str
    data: bytes
    fmt: str  # SafeTensor | PickleTensor
    model_id: int
    version_id: int
    type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class CivitaiDouble:
    def __init__(self, *, require_token: str | None = None, wrong_bytes: bool = False, drop_after: int | None = None):
        self.require_token = require_token  # downloads need this Bearer token
        self.wrong_bytes = wrong_bytes  # storage serves different bytes than the hashes say
        self.drop_after = drop_after  # the first download is cut after this many bytes
        self.files: list[CivitaiFile] = []
        self.bytes_served = 0
        self.downloads = 0
        self.range_requests: list[str] = []
        for name, (model_id, version_id, typ) in DEFAULT_CATALOG.items():
            self.files.append(
                CivitaiFile(f"{name}.safetensors", safetensors_bytes(name), "SafeTensor", model_id, version_id, typ)
            )
        self.files.append(
            CivitaiFile(
                "dreamshaper_8.ckpt",
                safetensors_bytes("dreamshaper_8", "pickletensor"),
                "PickleTensor",
                4384,
                PICKLE_VERSION_ID,
                "Checkpoint",
            )
        )

    def by_hash(self, h: str) -> CivitaiFile | None:
        h = h.lower()
        for f in self.files:
            if h in (f.sha256, f.sha256[:10]):
                return f
        return None

    def version(self, version_id: int) -> list[CivitaiFile]:
        return [f for f in self.files if f.version_id == version_id]


def _file_json(f: CivitaiFile, base: str) -> dict:
    return {
        "id": f.version_id * 10 + 1,
        "sizeKB": len(f.data) / 1024,
        "name": f.name,
        "type": "Model",
        "pickleScanResult": "Success",
        "virusScanResult": "Success",
        "scannedAt": "2024-01-01T00:00:00.000Z",
        "metadata": {"format": f.fmt, "size": "pruned", "fp": "fp16"},
        "hashes": {
            "AutoV1": f.sha256[:8].upper(),
            "AutoV2": f.sha256[:10].upper(),
            "SHA256": f.sha256.upper(),
            "CRC32": format(zlib.crc32(f.data), "08X"),
            "BLAKE3": hashlib.blake2b(f.data).hexdigest()[:64].upper(),
        },
        "primary": True,
        "downloadUrl": f"{base}/api/download/models/{f.version_id}",
    }


def create_app(double: CivitaiDouble) -> FastAPI:
    app = FastAPI(title="Civitai double")
    app.state.double = double

    @app.get("/api/v1/model-versions/by-hash/{h}")
    def by_hash(h: str, request: Request):
        f = double.by_hash(h)
        if f is None:
            return JSONResponse({"error": "Model not found"}, status_code=404)
        base = str(request.base_url).rstrip("/")
        kind = FAKE_MODELS.get(f.name.split(".")[0], ("checkpoint",))[0]
        return {
            "id": f.version_id,
            "modelId": f.model_id,
            "name": "v1",
            "baseModel": "SD 1.5",
            "trainedWords": [] if kind == "checkpoint" else [f.name.split(".")[0]],
            "model": {"name": f.name.split(".")[0], "type": f.type, "nsfw": False, "poi": False},
            "files": [_file_json(x, base) for x in double.version(f.version_id)],
            "images": [],
            "downloadUrl": f"{base}/api/download/models/{f.version_id}",
        }

    @app.get("/api/download/models/{version_id}")
    def download(version_id: int, request: Request, token: str | None = None):
        files = double.version(version_id)
        if not files:
            return JSONResponse({"error": "Model not found"}, status_code=404)
        if double.require_token:
            auth = request.headers.get("authorization", "")
            given = auth[7:] if auth.lower().startswith("bearer ") else token
            if given != double.require_token:
                return JSONResponse(
                    {
                        "error": "Unauthorized",
                        "message": "The creator of this asset requires you to be logged in to download it",
                    },
                    status_code=401,
                )
        fmt = request.query_params.get("format")
        f = next((x for x in files if fmt is None or x.fmt == fmt), files[0])
        return RedirectResponse(f"/storage/{f.version_id}/{f.fmt}/{f.name}", status_code=307)

    @app.get("/storage/{version_id}/{fmt}/{name}")
    def storage(version_id: int, fmt: str, name: str, request: Request):
        f = next((x for x in double.version(version_id) if x.fmt == fmt and x.name == name), None)
        if f is None:
            return Response(status_code=404)
        data = f.data
        if double.wrong_bytes:
            data = data[:-16] + b"\x00" * 16
        double.downloads += 1
        headers = {
            "Accept-Ranges": "bytes",
            "Content-Disposition": f'attachment; filename="{f.name}"',
            "Content-Type": "application/octet-stream",
        }
        start, status = 0, 200
        rng = request.headers.get("range", "")
        if rng.startswith("bytes="):
            double.range_requests.append(rng)
            first = rng[6:].split("-")[0]
            start = int(first or 0)
            if start >= len(data):
                return Response(status_code=416, headers={"Content-Range": f"bytes */{len(data)}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        headers["Content-Length"] = str(len(body))
        drop = double.drop_after
        double.drop_after = None  # only the first download is cut

        def stream():
            sent = 0
            for i in range(0, len(body), 65536):
                chunk = body[i : i + 65536]
                if drop is not None and sent + len(chunk) > drop:
                    part = chunk[: max(0, drop - sent)]
                    double.bytes_served += len(part)
                    yield part
                    raise ConnectionResetError("connection dropped (fault injection)")
                sent += len(chunk)
                double.bytes_served += len(chunk)
                yield chunk

        return StreamingResponse(stream(), status_code=status, headers=headers)

    return app


def start_civitai(**kwargs):
    """A Civitai double served in a background thread: (double, base_url, stop)."""

    double = CivitaiDouble(**kwargs)
    url, stop = serve_in_thread(create_app(double))
    return double, url, stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Civitai API double")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--require-token", default=None)
    parser.add_argument("--wrong-bytes", action="store_true")
    args = parser.parse_args(argv)
    import uvicorn

    double = CivitaiDouble(require_token=args.require_token, wrong_bytes=args.wrong_bytes)
    print(f"Civitai double on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(create_app(double), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
