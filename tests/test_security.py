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
    app_context.steps = holding_steps()
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
    app_context.steps = holding_steps()
    app_context.settings.host_urls = "http://a1111.local:7860"  # what the A1111 host glue passes
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


# ------------------------------------------------------------------ Host allow-list (DNS rebinding)
FOREIGN = "rebind.evil.example"


@pytest.fixture
def served(app_context, serve_app):
    """The app with its UI on a real uvicorn server (127.0.0.1), one public URL configured."""
    app_context.steps = holding_steps()
    app_context.settings.public_urls = "https://mm.example.org, mybox.lan:7870"
    return serve_app(create_app(app_context, run_jobs=False, proxy_secret=""))


def test_a_foreign_host_is_refused_on_api_routes_and_pages(served, app_context):
    """A DNS-rebinding page reaches 127.0.0.1 with its own name in Host: nothing answers it."""
    import httpx

    port = served.port
    evil = {"Host": f"{FOREIGN}:{port}"}
    with httpx.Client(base_url=served.url, timeout=60) as c:
        token = c.get("/healthz").cookies.get("mm_csrf")
        for path in ("/api/v1/jobs", "/api/v1/settings", "/api/v1/auth/me", "/healthz", "/api/v1/docs"):
            r = c.get(path, headers=evil)
            assert r.status_code == 403, (path, r.text)
            detail = r.json()["detail"]
            assert detail["error"] == "HostNotAllowed" and FOREIGN in detail["message"]
            assert "MOVIEMINTER_PUBLIC_URLS" in detail["hint"], detail
            assert "mm.example.org" not in r.text  # the configured addresses are not revealed
        # The rebinding page's own fetch: same-origin for the browser, so Origin matches Host.
        r = c.post(
            "/api/v1/jobs",
            json=JOB,
            headers={**evil, "Origin": f"http://{FOREIGN}:{port}", "X-CSRF-Token": token, "Cookie": f"mm_csrf={token}"},
        )
        assert r.status_code == 403 and r.json()["detail"]["error"] == "HostNotAllowed"
        assert c.post("/api/v1/jobs/1/cancel", headers={**evil, "X-CSRF-Token": token}).status_code == 403
        # Pages answer a browser in HTML, with the same words.
        for path in ("/", "/studio/", "/watch/", "/jobs/", "/static/mm-fetch.js"):
            r = c.get(path, headers={**evil, "Accept": "text/html,application/xhtml+xml"})
            assert r.status_code == 403, (path, r.status_code)
            if path.endswith("/"):
                assert r.headers["content-type"].startswith("text/html")
                assert "MOVIEMINTER_PUBLIC_URLS" in r.text and FOREIGN in r.text
        assert c.get("/api/v1/jobs").json() == {"jobs": []}  # nothing was queued

        # The addresses it is served under: loopback names (any port: an SSH tunnel), the socket's
        # own address, and the configured URLs.
        for host in (
            f"127.0.0.1:{port}",
            f"localhost:{port}",
            "localhost:9999",
            f"[::1]:{port}",
            "mm.example.org",
            "mm.example.org:443",
            "mybox.lan:7870",
        ):
            assert c.get("/api/v1/jobs", headers={"Host": host}).status_code == 200, host
            page = c.get("/studio/", headers={"Host": host, "Accept": "text/html"})
            assert page.status_code == 200 and "<html" in page.text.lower(), host
        for host in (
            "mm.example.org:8080",
            "mybox.lan",
            "mybox.lan:7871",
            "example.org",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "",
        ):
            assert c.get("/api/v1/jobs", headers={"Host": host}).status_code == 403, host


def test_behind_the_proxy_the_forwarded_host_must_be_served_too(app_context):
    """Through the A1111 proxy the browser's Host arrives as X-Forwarded-Host: a rebinding page
    pointed at A1111's port is refused the same way, with the A1111 setting to name."""
    app_context.steps = holding_steps()
    app_context.settings.host_urls = "https://abc123.gradio.live"
    app = create_app(app_context, ui=False, run_jobs=False, proxy_secret="s3cret")
    with TestClient(app, base_url="http://127.0.0.1:7870") as c:
        ok = {"X-MovieMinter-Proxy-Secret": "s3cret", "X-Forwarded-Prefix": "/movieminter"}
        assert c.get("/api/v1/jobs", headers={**ok, "X-Forwarded-Host": "abc123.gradio.live"}).status_code == 200
        assert c.get("/api/v1/jobs", headers={**ok, "X-Forwarded-Host": "127.0.0.1:7860"}).status_code == 200
        r = c.get("/api/v1/jobs", headers={**ok, "X-Forwarded-Host": f"{FOREIGN}:7860"})
        assert r.status_code == 403 and "movieminter_public_urls" in r.json()["detail"]["hint"]
        # A1111 reached by IP with --listen: the proxy reports the address of A1111's socket.
        lan = {**ok, "X-Forwarded-Host": "192.168.1.20:7860"}
        assert c.get("/api/v1/jobs", headers=lan).status_code == 403
        assert (
            c.get("/api/v1/jobs", headers={**lan, "X-MovieMinter-Host-Server": "192.168.1.20:7860"}).status_code == 200
        )
        assert (
            c.get("/api/v1/jobs", headers={**lan, "X-MovieMinter-Host-Server": "192.168.1.21:7860"}).status_code == 403
        )
        # Without the secret neither forwarded header counts (and the app answers nothing anyway).
        r = c.get(
            "/api/v1/jobs",
            headers={"X-Forwarded-Host": "abc123.gradio.live", "X-MovieMinter-Host-Server": "192.168.1.20:7860"},
        )
        assert r.status_code == 403 and r.json()["detail"]["error"] == "ProxyOnly"


def test_served_hosts_come_from_configuration_only():
    from movieminter.app.security import ServedHosts, parse_address
    from movieminter.config import Settings

    served = ServedHosts.from_settings(
        Settings(
            public_urls="https://mm.example.org/app, box:7870 bogus://x",
            host_urls="https://abc123.gradio.live,http://studio:7860",
        )
    )
    assert [(a.host, a.port, a.scheme, a.source) for a in served.configured] == [
        ("mm.example.org", 443, "https", "configured"),
        ("box", 7870, None, "configured"),
        ("abc123.gradio.live", 443, "https", "a1111"),
        ("studio", 7860, "http", "a1111"),
    ]
    assert served.find("ABC123.gradio.live").scheme == "https"
    assert served.find("abc123.gradio.live:80") is None
    assert served.find("studio:7860").schemes() == ("http",)
    assert served.find("10.1.2.3:7870") is None
    assert served.find("10.1.2.3:7870", ("10.1.2.3", 7870)).source == "socket"  # the socket's own address
    assert served.find("10.1.2.3:7871", ("10.1.2.3", 7870)) is None
    assert served.find("[::1]:1").source == "loopback" and served.find("127.0.0.9").source == "loopback"
    assert served.find("app.localhost:7870").source == "loopback"
    for bad in ("evil.example", "evil.example:7870", "a@box:7870", "box:7870/x", "box:99999", " ", "[::1"):
        assert served.find(bad) is None, bad
    assert parse_address("ftp://x") is None and parse_address("http://") is None
