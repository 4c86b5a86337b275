"""The Minter tab's model download route (POST /movies/{id}/segments/{n}/models/acquire) over HTTP, against the
A1111 double and the Civitai double: a missing LoRA arrives sha256-verified in a local A1111's Lora folder; a
remote A1111 gets exact download instructions instead."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import EXAMPLE_MANIFEST

ORIGIN = "http://testserver"


@pytest.fixture
def civitai():
    from movieminter.testing.civitai_double import start_civitai

    double, url, stop = start_civitai()
    yield double, url
    stop()


def _app(tmp_path, deployed, a1111_url: str, civitai_url: str):
    """The app on a fresh OPEN movie of the example manifest; returns (client, movie id, manifest)."""
    from fastapi.testclient import TestClient

    from movieminter.app.context import AppContext
    from movieminter.app.director import pin_manifest
    from movieminter.chain.client import MovieConfig
    from movieminter.config import Settings
    from tests.fixtures_ui import build_test_app

    ctx = AppContext(
        Settings(
            data_dir=tmp_path / "app",
            a1111_url=a1111_url,
            chain="local",
            rpc_url=deployed.rpc_url,
            contract_address=deployed.contract_address,
            civitai_url=civitai_url,
        )
    )
    ctx.chain_id = 31337
    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    pinned = pin_manifest(ctx.store, manifest)
    acc = deployed.w3.eth.accounts
    receipt = deployed.transact(
        "createMovie",
        [
            MovieConfig(
                manifest_digest=pinned["digest"],
                segment_count=len(manifest["segments"]),
                creator=acc[8],
                director=acc[9],
                mint_mode="open",
                claim_window=3600,
            ).as_tuple()
        ],
        acc[0],
    )
    client = TestClient(build_test_app(ctx), base_url=ORIGIN)
    client.__enter__()
    client.get("/api/v1/auth/me")  # the CSRF cookie a new browser gets
    return client, deployed.movie_id_from_receipt(receipt), manifest


def _post_acquire(client, movie_id: int, index: int = 0):
    token = client.cookies.get("mm_csrf")
    return client.post(
        f"/api/v1/movies/{movie_id}/segments/{index}/models/acquire",
        headers={"Origin": ORIGIN, **({"X-CSRF-Token": token} if token else {})},
    )


def test_missing_lora_is_downloaded_verified_into_a_local_a1111(tmp_path, deployed, a1111_factory, civitai):
    from movieminter.testing.a1111_double import install_fake_models

    root = tmp_path / "a1111"
    install_fake_models(root, names=["dreamshaper_8", "film_grain_35mm"])  # ghibli_style_v2 is missing
    _, a1111_url, _ = a1111_factory(models=False, root=root)
    civ, civ_url = civitai
    client, movie_id, manifest = _app(tmp_path, deployed, a1111_url, civ_url)
    try:
        r = _post_acquire(client, movie_id)
        assert r.status_code == 200, r.text
        body = r.json()
        by_name = {x["name"]: x for x in body["results"]}
        assert by_name["ghibli_style_v2"]["action"] == "downloaded"
        assert "sha256 verified" in by_name["ghibli_style_v2"]["message"]
        assert by_name["dreamshaper_8"]["action"] == "present"  # segment 0 needs the checkpoint + ghibli_style_v2
        pinned = next(e["sha256"] for e in manifest["models"]["loras"] if e["name"] == "ghibli_style_v2")
        arrived = root / "models" / "Lora" / "ghibli_style_v2.safetensors"
        assert hashlib.sha256(arrived.read_bytes()).hexdigest() == pinned
        assert civ.downloads == 1
        # The readiness the scene shows is refreshed: every model is now ready.
        assert {m["name"]: m["state"] for m in body["models"]["models"]}["ghibli_style_v2"] == "ready"
        assert all(m["state"] == "ready" for m in body["models"]["models"])
    finally:
        client.__exit__(None, None, None)


def test_remote_a1111_gets_download_instructions(tmp_path, deployed, a1111_factory, civitai):
    # An A1111 whose models folder is not on this machine: nothing to write into, so the route says what to do.
    _, a1111_url, _ = a1111_factory(models=False)
    civ, civ_url = civitai
    client, movie_id, manifest = _app(tmp_path, deployed, a1111_url, civ_url)
    try:
        r = _post_acquire(client, movie_id)
        assert r.status_code == 200, r.text
        results = {x["name"]: x for x in r.json()["results"]}
        ckpt = results["dreamshaper_8"]
        assert ckpt["action"] == "manual" and not ckpt["ok"]
        ins = ckpt["instructions"]
        assert ins["sha256"] == manifest["models"]["checkpoint"]["sha256"]
        assert ins["folder"] == "models/Stable-diffusion" and ins["file_name"] == "dreamshaper_8.safetensors"
        assert ins["download"] == f"{civ_url}/api/download/models/128713"
        assert ins["download"] in ckpt["message"]
        assert results["ghibli_style_v2"]["instructions"]["folder"] == "models/Lora"
        assert civ.downloads == 0
    finally:
        client.__exit__(None, None, None)


def test_cross_site_acquire_is_refused(tmp_path, deployed, a1111_factory, civitai):
    _, a1111_url, _ = a1111_factory(models=False)
    civ, civ_url = civitai
    client, movie_id, _ = _app(tmp_path, deployed, a1111_url, civ_url)
    try:
        r = client.post(
            f"/api/v1/movies/{movie_id}/segments/0/models/acquire", headers={"Origin": "https://evil.example"}
        )
        assert r.status_code in (400, 403), r.text
        assert civ.downloads == 0
    finally:
        client.__exit__(None, None, None)
