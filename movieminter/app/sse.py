"""Server-sent events: job progress from the runner's threads to browsers.

The runner publishes from worker threads; each subscriber is an asyncio queue
fed with `call_soon_threadsafe`, so publishing never blocks a render. A slow
browser only loses intermediate progress events (its queue is bounded), never
state changes: a new subscriber first gets the job's current snapshot.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator

HEARTBEAT_SECONDS = 15.0


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


def format_event(event: str, data, event_id: int | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    for line in json.dumps(data, default=str).splitlines() or [""]:
        lines.append(f"data: {line}")
    return "\n".join(lines) + "\n\n"


async def job_stream(
    hub: EventHub, job_id: int, snapshot, *, heartbeat: float = HEARTBEAT_SECONDS, terminal=lambda item: False
) -> AsyncIterator[str]:
    """The text/event-stream body for one job: snapshot, then live events,
    with a comment line every `heartbeat` seconds so proxies keep it open.
    Ends after a terminal state event."""
    queue = hub.subscribe(job_id)
    try:
        yield ": movieminter job events\n\n"
        first = snapshot()
        yield format_event("state", first)
        if terminal({"event": "state", "data": first}):
            return
        last = hub.last_progress(job_id)
        if last:
            yield format_event("progress", last)
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=heartbeat)
            except asyncio.TimeoutError:
                yield ": heartbeat\n\n"
                continue
            yield format_event(item["event"], item["data"])
            if terminal(item):
                return
    finally:
        hub.unsubscribe(job_id, queue)
