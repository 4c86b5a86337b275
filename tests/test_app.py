"""The app server: module discovery, the REST job API and SSE progress over a
real uvicorn server."""

from __future__ import annotations

import json
import sys
import threading
import types

import httpx
import pytest
from fastapi import APIRouter

from movieminter.app import server
from movieminter.app.deps import Ctx
from movieminter.app.runner import Step
from tests.conftest import free_port
from tests.fixtures_app import CONTRACT, WALLET, wait_state


def test_routers_are_mounted_with_the_shared_context(app_context, monkeypatch):
    fake = types.ModuleType("mm_test_fake_routes")
    fake.router = APIRouter(prefix="/fake")

    @fake.router.get("/ping")
    def ping(ctx: Ctx):
        return {"ctx_is_shared": ctx is app_context}

    monkeypatch.setitem(sys.modules, "mm_test_fake_routes", fake)
    monkeypatch.setattr(server, "ROUTER_MODULES", ["mm_test_fake_routes"])
    monkeypatch.setattr(server, "UI_MODULES", {})
    app = server.create_app(app_context, run_jobs=False)
    assert app.state.mounted == {"routers": ["mm_test_fake_routes"], "uis": []}
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        assert c.get("/api/v1/fake/ping").json() == {"ctx_is_shared": True}
        assert c.get("/", follow_redirects=False).headers["location"] == "api/v1/docs"
        assert "/api/v1/fake/ping" in c.get("/api/v1/openapi.json").json()["paths"]


def test_a_misnamed_router_or_ui_module_fails_loudly(app_context, monkeypatch):
    monkeypatch.setattr(server, "ROUTER_MODULES", ["movieminter.app.routes_not_written_yet"])
    with pytest.raises(ModuleNotFoundError, match="routes_not_written_yet"):
        server.create_app(app_context, run_jobs=False, ui=False)
    monkeypatch.setattr(server, "ROUTER_MODULES", [])
    monkeypatch.setattr(server, "UI_MODULES", {"/nothing": "movieminter.app.ui.not_written_yet"})
    with pytest.raises(ModuleNotFoundError, match="not_written_yet"):
        server.create_app(app_context, run_jobs=False)


def read_events(lines, until):
    """Parse text/event-stream lines (one iterator, read across calls)."""
    events, comments, event, data = [], [], None, []
    for line in lines:
        if line.startswith(":"):
            comments.append(line)
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and event:
            events.append((event, json.loads("\n".join(data))))
            if until(events[-1]):
                return events, comments
            event, data = None, []
    return events, comments


def test_job_progress_streams_over_sse(app_context, serve_app):
    gate = threading.Event()

    def render(ctx, job):
        for frame in range(1, 4):
            job.progress("rendering", frame=frame, frames=3, eta=3 - frame)
        gate.wait(20)
        return {"frames": 3}

    app_context.steps = [
        Step("queued", "rendering", lambda c, j: {}),
        Step("rendering", "rendered", render),
        Step("rendered", "minted", lambda c, j: {"tx_hash": "0x" + "1" * 64}),
    ]
    srv = serve_app(server.create_app(app_context, ui=False))
    with httpx.Client(base_url=srv.url, timeout=20) as c:
        c.get("/healthz")
        r = c.post(
            "/api/v1/jobs",
            json={"movie_id": 7, "segment": 2, "wallet": WALLET},
            headers={"X-CSRF-Token": c.cookies["mm_csrf"]},
        )
        assert r.status_code == 201, r.text
        job = r.json()["job"]
        assert (job["chain_id"], job["contract"]) == (31337, CONTRACT.lower())
        wait_state(app_context.journal, job["id"], "rendering")
        with c.stream("GET", f"/api/v1/jobs/{job['id']}/events") as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            lines = resp.iter_lines()
            events, comments = read_events(lines, lambda e: e[0] == "progress" and e[1]["frame"] == 3)
            assert events[0][0] == "state" and events[0][1]["state"] == "rendering"
            assert events[-1][1] == {
                "job_id": job["id"],
                "state": "rendering",
                "stage": "rendering",
                "frame": 3,
                "frames": 3,
                "eta": 0,
            }
            threading.Timer(1.2, gate.set).start()  # heartbeats flow while the render is busy
            events, more = read_events(lines, lambda e: e[0] == "state" and e[1]["state"] == "minted")
            assert ": heartbeat" in more
            assert [e[1]["state"] for e in events if e[0] == "state"] == ["rendered", "minted"]
        detail = c.get(f"/api/v1/jobs/{job['id']}").json()
        assert [t["to"] for t in detail["transitions"]] == ["queued", "rendering", "rendered", "minted"]
        assert c.get("/api/v1/jobs/999").status_code == 404


def test_submitted_tx_hash_and_errors_over_http(app_context, serve_app):
    def confirm(ctx, job):
        return {"tx_hash": job.wait_for_tx()}

    app_context.steps = [
        Step("queued", "awaiting_signature", lambda c, j: {"tx": {"to": CONTRACT}}),
        Step("awaiting_signature", "minted", confirm),
    ]
    srv = serve_app(server.create_app(app_context, ui=False))
    with httpx.Client(base_url=srv.url, timeout=20) as c:
        c.get("/healthz")
        h = {"X-CSRF-Token": c.cookies["mm_csrf"]}
        job = c.post("/api/v1/jobs", json={"movie_id": 1, "segment": 0, "wallet": WALLET}, headers=h).json()["job"]
        wait_state(app_context.journal, job["id"], "awaiting_signature")
        bad = c.post(f"/api/v1/jobs/{job['id']}/submitted", json={"tx_hash": "nope"}, headers=h)
        assert bad.status_code == 400 and "hint" in bad.json()["detail"]
        ok = c.post(f"/api/v1/jobs/{job['id']}/submitted", json={"tx_hash": "0x" + "2" * 64}, headers=h)
        assert ok.status_code == 200
        assert wait_state(app_context.journal, job["id"], "minted").data["minted"]["tx_hash"] == "0x" + "2" * 64
        again = c.post(f"/api/v1/jobs/{job['id']}/retry", headers=h)
        assert again.status_code == 409 and "only failed or cancelled" in again.json()["detail"]["message"]


def test_serve_refuses_to_listen_beyond_loopback(capsys):
    from movieminter.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--no-ui"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "--unsafe-listen" in err


def test_creating_a_job_without_a_reachable_chain_explains_what_to_set(tmp_path):
    from fastapi.testclient import TestClient

    from movieminter.app.context import AppContext
    from movieminter.config import Settings

    port = free_port()  # nothing listens there
    ctx = AppContext(Settings(data_dir=tmp_path / "d", chain=f"http://127.0.0.1:{port}", contract_address=CONTRACT))
    with TestClient(server.create_app(ctx, ui=False, run_jobs=False)) as c:
        c.get("/healthz")
        r = c.post(
            "/api/v1/jobs",
            json={"movie_id": 1, "segment": 0, "wallet": WALLET},
            headers={"X-CSRF-Token": c.cookies["mm_csrf"]},
        )
    assert r.status_code == 503, r.text
    assert "cannot reach the chain" in r.json()["detail"]["message"]
    assert "RPC URL" in r.json()["detail"]["hint"]
