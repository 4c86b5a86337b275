"""The A1111/Deforum clients against the A1111 double: contracts, quirks, clear errors."""

from __future__ import annotations

import httpx
import pytest

from movieminter.render.a1111 import A1111Client
from movieminter.render.deforum import DeforumClient
from movieminter.render.errors import (
    A1111HttpError,
    A1111Unreachable,
    ApiDisabled,
    AuthRequired,
    DeforumApiDisabled,
    DeforumBusy,
)
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
    with pytest.raises(A1111HttpError):
        DeforumClient(client).submit({"max_frames": 1})
    assert seen == [("POST", "/deforum_api/batches")]  # never submitted twice


def test_txt2img_refused_while_deforum_runs(a1111, small_film):
    from movieminter.render.submission import plan_job

    double, url = a1111
    double.frame_delay = 0.05
    client = A1111Client(url)
    job_id = DeforumClient(client).submit(plan_job(small_film, 0).settings)
    with pytest.raises(DeforumBusy) as err:
        client.txt2img({"prompt": "a lighthouse", "steps": 4, "width": 64, "height": 64})
    assert job_id in str(err.value)
    assert double.txt2img_during_deforum == 0 and double.txt2img_calls == 0
    DeforumClient(client).cancel(job_id)
