"""Job events over SSE, framed by sse-starlette, through a real uvicorn server: events, heartbeats
and the ending."""

from __future__ import annotations

import threading

import httpx
from fastapi import FastAPI

from movieminter.app.sse import EventHub, job_events_response
from tests.test_app import read_events

JOB = 5


def _terminal(item):
    return item["event"] == "state" and item["data"]["state"] == "minted"


def _events_app(hub: EventHub, snapshot: dict) -> FastAPI:
    app = FastAPI()

    @app.get("/response")
    async def response():
        return job_events_response(hub, JOB, lambda: snapshot, heartbeat=0.2, terminal=_terminal)

    return app


def test_snapshot_progress_heartbeats_then_the_terminal_state_ends_the_stream(serve_app):
    path = "/response"
    hub = EventHub()
    hub.publish(JOB, "progress", {"job_id": JOB, "frame": 1})  # before anyone listens: replayed as the last one
    srv = serve_app(_events_app(hub, {"id": JOB, "state": "rendering"}))
    with httpx.Client(base_url=srv.url, timeout=20) as c, c.stream("GET", path) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        lines = resp.iter_lines()
        events, comments = read_events(lines, lambda e: e[0] == "progress")
        assert events == [("state", {"id": JOB, "state": "rendering"}), ("progress", {"job_id": JOB, "frame": 1})]
        threading.Timer(0.7, hub.publish, (JOB, "progress", {"job_id": JOB, "frame": 2})).start()
        threading.Timer(0.9, hub.publish, (JOB, "state", {"id": JOB, "state": "minted"})).start()
        events, comments = read_events(lines, lambda e: e[0] == "state")
        assert events == [("progress", {"job_id": JOB, "frame": 2}), ("state", {"id": JOB, "state": "minted"})]
        assert ": heartbeat" in comments  # kept open while nothing happened
        assert list(lines) == []  # the stream ended after the terminal state
    assert hub._subs == {}  # the subscriber is gone with the stream


def test_a_job_already_finished_gets_its_state_and_the_stream_ends(serve_app):
    hub = EventHub()
    srv = serve_app(_events_app(hub, {"id": JOB, "state": "minted"}))
    body = httpx.get(srv.url + "/response", timeout=20).text
    assert body.splitlines()[:4] == [
        ": movieminter job events",
        "",
        "event: state",
        'data: {"id": 5, "state": "minted"}',
    ]
