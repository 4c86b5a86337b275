"""Cross-site refusal, CSRF double-submit token and the parent-to-child
secret, through the real app (FastAPI + the security middleware)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from movieminter.app.server import create_app
from tests.fixtures_app import CONTRACT, WALLET, holding_steps

JOB = {"movie_id": 1, "segment": 0, "wallet": WALLET, "chain_id": 31337, "contract": CONTRACT}


@pytest.fixture
def client(app_context):
    app_context.extras["steps"] = holding_steps()
    app = create_app(app_context, ui=False, run_jobs=False, proxy_secret="")
    with TestClient(app, base_url="http://127.0.0.1:7870") as c:
        c.get("/healthz")  # a browser's first visit: gets the mm_csrf cookie
        yield c


def csrf(c):
    return {"X-CSRF-Token": c.cookies.get("mm_csrf")}


def test_first_response_sets_a_csrf_cookie_for_the_page_script(client):
    fresh = TestClient(client.app)
    r = fresh.get("/healthz")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("mm_csrf=") and "SameSite=Strict" in cookie and "HttpOnly" not in cookie
    assert client.get("/healthz").headers.get("set-cookie") is None  # only once


def test_foreign_origin_is_refused_with_a_clear_message(client):
    r = client.post("/api/v1/jobs", json=JOB, headers={"Origin": "https://evil.example", **csrf(client)})
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert detail["error"] == "CrossSiteRequest" and "evil.example" in detail["message"]
    r = client.post("/api/v1/jobs", json=JOB, headers={"Referer": "https://evil.example/x", **csrf(client)})
    assert r.status_code == 403
    r = client.post("/api/v1/jobs", json=JOB, headers={"Sec-Fetch-Site": "cross-site", **csrf(client)})
    assert r.status_code == 403 and "cross-site" in r.json()["detail"]["message"]
    r = client.post("/api/v1/jobs", json=JOB, headers={"Origin": "null", **csrf(client)})
    assert r.status_code == 403
    assert client.get("/api/v1/jobs").json() == {"jobs": []}  # nothing was queued


def test_missing_or_wrong_csrf_token_is_refused(client):
    same = {"Origin": "http://127.0.0.1:7870"}
    r = client.post("/api/v1/jobs", json=JOB, headers=same)
    assert r.status_code == 403 and r.json()["detail"]["error"] == "CSRFTokenMissing"
    r = client.post("/api/v1/jobs", json=JOB, headers={**same, "X-CSRF-Token": "guess"})
    assert r.status_code == 403 and r.json()["detail"]["error"] == "CSRFTokenMismatch"


def test_same_origin_with_token_is_accepted(client):
    r = client.post("/api/v1/jobs", json=JOB, headers={"Origin": "http://127.0.0.1:7870", **csrf(client)})
    assert r.status_code == 201, r.text
    # A non-browser client (no Origin) with the token is fine too.
    r = client.post("/api/v1/jobs/1/cancel", headers=csrf(client))
    assert r.status_code == 200 and r.json()["cancel_requested"] is True


def test_proxy_secret_guards_the_app_port(app_context):
    app_context.extras["steps"] = holding_steps()
    app = create_app(app_context, ui=False, run_jobs=False, proxy_secret="s3cret")
    with TestClient(app, base_url="http://127.0.0.1:7870") as c:
        assert c.get("/healthz").status_code == 200  # the host's health check
        r = c.get("/api/v1/jobs")
        assert r.status_code == 403 and "A1111 tab" in r.json()["detail"]["message"]
        assert c.get("/api/v1/jobs", headers={"X-MovieMinter-Proxy-Secret": "wrong"}).status_code == 403
        ok = {"X-MovieMinter-Proxy-Secret": "s3cret"}
        assert c.get("/api/v1/jobs", headers=ok).status_code == 200
        # Behind the proxy the browser talks to A1111's host: X-Forwarded-Host is
        # what the Origin must match, and it is trusted only with the secret.
        fwd = {**ok, "X-Forwarded-Host": "a1111.local:7860", "X-Forwarded-Prefix": "/movieminter", **csrf(c)}
        r = c.post("/api/v1/jobs", json=JOB, headers={**fwd, "Origin": "http://a1111.local:7860"})
        assert r.status_code == 201, r.text
        r = c.post("/api/v1/jobs", json=JOB, headers={**fwd, "Origin": "http://127.0.0.1:7870"})
        assert r.status_code == 403
        # The docs page points at the OpenAPI file under the proxy prefix.
        assert "/movieminter/api/v1/openapi.json" in c.get("/api/v1/docs", headers=fwd).text


def test_secrets_are_reported_as_set_never_shown(app_context, client):
    app_context.settings.civitai_token = "civitai-SECRET-123"
    app_context.settings.ipfs_token = ""
    body = client.get("/api/v1/settings").json()
    assert body["civitai_token"] == "set" and body["ipfs_token"] == "not set"
    assert "SECRET" not in client.get("/api/v1/settings").text
    assert "SECRET" not in repr(app_context.settings)
