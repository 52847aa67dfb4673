"""An import's events as a Server-Sent Events stream: past events, then new ones as they are
written, ending after the import's last.

The past events are read by the request, with its own session; the new ones come from the
process's watcher (app/imports/watch.py), so an open stream holds no session and sends no
statement of its own, and a client that goes away cancels no database work.
"""

import json
import uuid
from collections.abc import AsyncIterator, Callable

from fastapi import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.imports.schemas import ImportEventRead
from app.imports.watch import EventWatch, Follower
from app.keys.guard import client_address
from app.models import ImportEvent
from app.state import request_state

EVENT_STREAM = "text/event-stream"
KEEP_ALIVE_SECONDS = 15.0
FINAL_EVENTS = ("succeeded", "failed", "cancelled")
# Past events the request reads itself; the watcher sends any beyond them.
PAST_EVENTS = 100


def event_read(found: ImportEvent) -> ImportEventRead:
    assert found.id is not None
    return ImportEventRead(
        id=found.id, at=found.at, type=found.type, detail=json.loads(found.detail)
    )


def wants_stream(request: Request) -> bool:
    """Whether the client asked for the events as a stream."""
    return EVENT_STREAM in request.headers.get("accept", "")


def watch_of(request: Request) -> EventWatch:
    """The process's watcher, made at the first stream and stopped with the app."""
    watch: EventWatch | None = getattr(request.app.state, "event_watch", None)
    if watch is None:
        state = request_state(request)
        watch = EventWatch(state.database, state.settings)
        request.app.state.event_watch = watch
        state.on_stop.append(watch.stop)
    return watch


def message(item: ImportEvent) -> str:
    data = event_read(item).model_dump_json()
    return f"id: {item.id}\nevent: {item.type}\ndata: {data}\n\n"


def ends(past: list[ImportEvent], finished: bool) -> bool:
    """Whether the stream ends with the past events: they hold the last one, or the import
    finished and its last event came before `Last-Event-ID`."""
    return any(item.type in FINAL_EVENTS for item in past) or (finished and not past)


async def event_stream(past: list[ImportEvent], follower: Follower | None) -> AsyncIterator[str]:
    """The past events, then those the watcher finds, until the import's last; a comment
    every KEEP_ALIVE_SECONDS while nothing happens, so proxies keep the connection."""
    found = past
    while True:
        for item in found:
            yield message(item)
            if item.type in FINAL_EVENTS:
                return
        if follower is None:
            return
        found = await follower.next(KEEP_ALIVE_SECONDS)
        if not found:
            yield ": still running\n\n"


class EventStreamResponse(StreamingResponse):
    """A stream that gives its place back to the watcher however it ends: finished, its
    client gone, or never started because the client went away first."""

    def __init__(self, body: AsyncIterator[str], on_close: Callable[[], None]) -> None:
        super().__init__(body, media_type=EVENT_STREAM, headers={"Cache-Control": "no-store"})
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.on_close()


def stream_response(
    request: Request, import_id: uuid.UUID, after: int, past: list[ImportEvent], finished: bool
) -> StreamingResponse:
    """The stream of the import's events after `after`, which begin with `past`; a 429 or
    503 problem past the caps on open streams."""
    if ends(past, finished):
        return EventStreamResponse(event_stream(past, None), on_close=lambda: None)
    watch = watch_of(request)
    last = past[-1].id if past else after
    assert last is not None
    follower = watch.follow(import_id, client_address(request), last)
    return EventStreamResponse(event_stream(past, follower), lambda: watch.leave(follower))
