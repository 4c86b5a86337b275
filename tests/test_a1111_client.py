"""The A1111/Deforum clients against the A1111 double: contracts, quirks, clear errors."""

from __future__ import annotations

import base64
import io
import time

import httpx
import pytest
from PIL import Image

from movieminter.render.a1111 import A1111Client
from movieminter.render.deforum import DeforumClient
from movieminter.render.errors import (
    A1111Unreachable, ApiDisabled, AuthRequired, DeforumApiDisabled, DeforumBusy, JobNotFound, UnknownBatch)
from movieminter.testing.a1111_double import Faults
from tests.conftest import free_port


def counting_client(url, **kw):
    client = A1111Client(url, backoff=0.01, **kw)
    calls = []
    client._http.event_hooks["request"].append(lambda req: calls.append((req.method, req.url.path)))
    return client, calls


def test_unreachable_says_how_to_start_a1111():
    url = f"http://127.0.0.1:{free_port()}"
    client, calls = counting_client(url, retries=2)
    with pytest.raises(A1111Unreachable) as err:
        client.options()
    assert url in str(err.value) and "--api" in err.value.hint
    assert len(calls) == 3  # first try + 2 retries


def test_api_off_and_deforum_off(a1111_factory):
    _, url, _ = a1111_factory(faults=Faults(api=False))
    with pytest.raises(ApiDisabled) as err:
        A1111Client(url).sd_models()
    assert "--api" in err.value.hint
    _, url, _ = a1111_factory(faults=Faults(deforum_api=False))
    with pytest.raises(DeforumApiDisabled) as err:
        DeforumClient(A1111Client(url)).submit({"max_frames": 1})
    assert "--api --deforum-api" in err.value.hint


def test_api_auth_protects_sdapi_only(a1111_factory):
    _, url, _ = a1111_factory(faults=Faults(api_auth="alice:s3cret"))
    with pytest.raises(AuthRequired) as err:
        A1111Client(url).options()
    assert "--a1111-auth" in err.value.hint and "requires" in err.value.message
    with pytest.raises(AuthRequired) as err:
        A1111Client(url, auth="alice:wrong").options()
    assert "rejected" in err.value.message
    good = A1111Client(url, auth="alice:s3cret")
    assert good.options()["sd_model_checkpoint"].startswith("dreamshaper_8")
    assert "s3cret" not in repr(good)
    assert A1111Client(url).running_deforum_jobs() == []  # Deforum's routes have no auth


def test_deforum_quirks_unknown_batch_is_500_and_not_retried(a1111):
    _, url = a1111
    client, calls = counting_client(url, retries=3)
    deforum = DeforumClient(client)
    with pytest.raises(UnknownBatch):
        deforum.batch("batch(123)")
    assert calls == [("GET", "/deforum_api/batches/batch(123)")]
    with pytest.raises(JobNotFound):
        deforum.job("batch(123)-0")


def test_retry_policy_get_retried_post_submitted_once():
    seen = []

    def handler(request: httpx.Request):
        seen.append((request.method, request.url.path))
        if request.method == "GET" and len(seen) < 3:
            return httpx.Response(502)
        if request.method == "POST":
            return httpx.Response(500, json={"error": "RuntimeError"})
        return httpx.Response(200, json={"ok": True})

    client = A1111Client("http://a1111.test", backoff=0.001, transport=httpx.MockTransport(handler))
    assert client.options() == {"ok": True}
    assert len(seen) == 3
    seen.clear()
    with pytest.raises(Exception):
        DeforumClient(client).submit({"max_frames": 1})
    assert seen == [("POST", "/deforum_api/batches")]  # never submitted twice


def test_submit_poll_cancel_lifecycle(a1111):
    double, url = a1111
    double.frame_delay = 0.1
    deforum = DeforumClient(A1111Client(url))
    sub = deforum.submit_batch({"max_frames": 40, "W": 256, "H": 128, "seed": 1,
                                "prompts": {"0": "a red boat"}}, {})
    assert sub["batch_id"].startswith("batch(") and sub["job_ids"] == [sub["batch_id"] + "-0"]
    job_id = sub["job_ids"][0]
    seen_phases = set()
    for _ in range(200):
        job = deforum.job(job_id)
        seen_phases.add(job["phase"])
        if job["phase"] == "GENERATING" and job["phase_progress"] > 0:
            break
        time.sleep(0.01)
    assert job["status"] == "ACCEPTED" and job["outdir"] and job["timestring"]
    progress = deforum.a1111.progress()
    assert progress["state"]["job"] == f"Deforum {job_id}" and 0 < progress["progress"] < 1
    assert deforum.cancel(job_id) is True
    job = deforum.job(job_id)
    assert job["status"] == "CANCELLED"
    assert deforum.cancel(job_id) is False  # Deforum's 400: not cancellable any more
    assert [b["id"] for b in deforum.batch(sub["batch_id"])] == [job_id]


def test_missing_keys_fall_back_to_deforum_defaults(a1111):
    """The quirk: max_frames omitted renders Deforum's 120 frames, not 'a few'."""
    double, url = a1111
    deforum = DeforumClient(A1111Client(url))
    job_id = deforum.submit({"W": 64, "H": 64, "prompts": {"0": "x"}})
    while (job := deforum.job(job_id))["status"] == "ACCEPTED":
        time.sleep(0.02)
    assert job["status"] == "SUCCEEDED"
    from pathlib import Path
    assert len(list(Path(job["outdir"]).glob(f"{job['timestring']}_*.png"))) == 120


def test_txt2img_refused_while_deforum_runs(a1111):
    double, url = a1111
    double.frame_delay = 0.05
    client = A1111Client(url)
    job_id = DeforumClient(client).submit({"max_frames": 30, "W": 64, "H": 64, "prompts": {"0": "x"}})
    with pytest.raises(DeforumBusy) as err:
        client.txt2img({"prompt": "a lighthouse", "steps": 4, "width": 64, "height": 64})
    assert job_id in str(err.value)
    assert double.txt2img_during_deforum == 0 and double.txt2img_calls == 0
    DeforumClient(client).cancel(job_id)


def test_txt2img_returns_png_and_info(a1111):
    _, url = a1111
    out = A1111Client(url).txt2img({"prompt": "a lighthouse", "seed": 5, "steps": 4, "width": 128, "height": 96})
    img = Image.open(io.BytesIO(base64.b64decode(out["images"][0])))
    assert img.size == (128, 96) and out["info"]["seed"] == 5


def test_versions_from_sysinfo_and_extensions(a1111):
    _, url = a1111
    v = A1111Client(url).versions()
    assert v["a1111"] == "v1.10.1" and v["deforum_commit"]


def test_sd_models_unhashed_until_loaded(a1111_factory):
    _, url, _ = a1111_factory(faults=Faults(hashed="none"))
    client = A1111Client(url)
    m = client.sd_models()[0]
    assert m["sha256"] is None and m["hash"] is None and m["title"] == "dreamshaper_8.safetensors"
    client.txt2img({"prompt": "x", "steps": 1, "width": 64, "height": 64,
                    "override_settings": {"sd_model_checkpoint": "dreamshaper_8"}})
    m = client.sd_models()[0]
    assert m["sha256"] and m["title"] == f"dreamshaper_8.safetensors [{m['sha256'][:10]}]"
