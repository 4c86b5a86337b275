"""The app serves its local IPFS store at /ipfs/ (video seeks need Range)."""

from fastapi.testclient import TestClient

from movieminter.app.context import AppContext
from movieminter.app.server import create_app
from movieminter.config import Settings


def test_app_serves_local_store_with_range(tmp_path):
    ctx = AppContext(Settings(data_dir=tmp_path, ipfs_backend="local"))
    data = bytes(range(256)) * 4096  # 1 MiB: more than one UnixFS chunk
    cid = ctx.store.add_bytes(data)
    with TestClient(create_app(ctx, ui=False, run_jobs=False)) as client:
        whole = client.get(f"/ipfs/{cid}")
        assert whole.status_code == 200 and whole.content == data
        part = client.get(f"/ipfs/{cid}", headers={"Range": "bytes=300000-300009"})
        assert part.status_code == 206
        assert part.content == data[300000:300010]
        assert part.headers["content-range"] == f"bytes 300000-300009/{len(data)}"


def test_remote_backends_do_not_expose_a_gateway(tmp_path):
    ctx = AppContext(Settings(data_dir=tmp_path, ipfs_backend="kubo", ipfs_endpoint="http://127.0.0.1:9"))
    app = create_app(ctx, ui=False, run_jobs=False)
    assert not any(getattr(r, "path", "").startswith("/ipfs/") for r in app.router.routes)
