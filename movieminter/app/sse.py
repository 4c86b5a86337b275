"""Server-sent events: job progress from the runner's threads to browsers.

The runner publishes from worker threads; each subscriber is an asyncio queue
fed with `call_soon_threadsafe`, so publishing never blocks a render. A slow
browser only loses intermediate progress events (its queue is bounded), never
state changes: a new subscriber first gets the job's current snapshot.
The framing (event/data/comment lines) is sse-starlette's.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent

HEARTBEAT_SECONDS = 15.0
SEP = "\n"  # line ends of the framing (sse-starlette's default is CRLF; browsers take both)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class EventHub:
    def __init__(self):
        self._lock = threading.Lock()
        self._subs: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = {}
        self._last: dict[int, dict] = {}  # last progress event per job

    def publish(self, job_id: int, event: str, data: dict) -> None:
        item = {"event": event, "data": data}
        with self._lock:
            if event == "progress":
                self._last[job_id] = data
            subs = list(self._subs.get(job_id, ()))
        for loop, queue in subs:
            try:
                loop.call_soon_threadsafe(_put, queue, item)
            except RuntimeError:  # loop closed: the browser went away
                pass

    def last_progress(self, job_id: int) -> dict | None:
        with self._lock:
            return self._last.get(job_id)

    def subscribe(self, job_id: int) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=256)
        with self._lock:
            self._subs.setdefault(job_id, set()).add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, job_id: int, queue: asyncio.Queue) -> None:
        with self._lock:
            subs = self._subs.get(job_id, set())
            for entry in list(subs):
                if entry[1] is queue:
                    subs.discard(entry)
            if not subs:
                self._subs.pop(job_id, None)


def _put(queue: asyncio.Queue, item: dict) -> None:
    if queue.full():
        if item["event"] == "progress":
            return  # drop a progress tick, keep state changes
        try:
            queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
    queue.put_nowait(item)


def sse_event(event: str, data, event_id: int | None = None) -> ServerSentEvent:
    """One event, its data as JSON; framed by sse-starlette ("\n" line ends, as before)."""
    return ServerSentEvent(
        json.dumps(data, default=str), event=event, id=None if event_id is None else str(event_id), sep=SEP
    )


def sse_comment(text: str) -> ServerSentEvent:
    """A comment line: browsers ignore it; proxies see traffic and keep the stream open."""
    return ServerSentEvent(comment=text, sep=SEP)


def format_event(event: str, data, event_id: int | None = None) -> str:
    return sse_event(event, data, event_id).encode().decode()


async def job_events(
    hub: EventHub, job_id: int, snapshot, *, heartbeat: float | None = HEARTBEAT_SECONDS, terminal=lambda item: False
) -> AsyncIterator[ServerSentEvent]:
    """One job's events: its snapshot (`state`), its last `progress`, then live events; ends after
    a terminal state event. `heartbeat`: a comment after that many seconds without an event (None:
    none; EventSourceResponse then pings by itself)."""
    queue = hub.subscribe(job_id)
    try:
        yield sse_comment("movieminter job events")
        first = snapshot()
        yield sse_event("state", first)
        if terminal({"event": "state", "data": first}):
            return
        last = hub.last_progress(job_id)
        if last:
            yield sse_event("progress", last)
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=heartbeat)
            except asyncio.TimeoutError:
                yield sse_comment("heartbeat")
                continue
            yield sse_event(item["event"], item["data"])
            if terminal(item):
                return
    finally:
        hub.unsubscribe(job_id, queue)


def job_events_response(
    hub: EventHub, job_id: int, snapshot, *, heartbeat: float = HEARTBEAT_SECONDS, terminal=lambda item: False
) -> EventSourceResponse:
    """The job's events as sse-starlette's response: its keep-alive pings are the heartbeat
    comments, and it ends the stream when the server shuts down."""
    return EventSourceResponse(
        job_events(hub, job_id, snapshot, heartbeat=None, terminal=terminal),
        headers=SSE_HEADERS,
        ping=heartbeat,
        ping_message_factory=lambda: sse_comment("heartbeat"),
        sep=SEP,
    )
