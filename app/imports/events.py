"""An import's events as a Server-Sent Events stream: past events, then new ones as they are
written, ending after the import's last."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

from fastapi import Request

from app.imports.repository import ImportRepository
from app.imports.schemas import ImportEventRead
from app.models import ImportEvent
from app.state import request_state

EVENT_STREAM = "text/event-stream"
STREAM_POLL_SECONDS = 0.5
KEEP_ALIVE_SECONDS = 15.0
FINAL_EVENTS = ("succeeded", "failed", "cancelled")


def event_read(found: ImportEvent) -> ImportEventRead:
    assert found.id is not None
    return ImportEventRead(
        id=found.id, at=found.at, type=found.type, detail=json.loads(found.detail)
    )


def wants_stream(request: Request) -> bool:
    """Whether the client asked for the events as a stream."""
    return EVENT_STREAM in request.headers.get("accept", "")


async def event_stream(request: Request, import_id: uuid.UUID, after: int) -> AsyncIterator[str]:
    """Past events, then new ones as they are written, until the import's last.

    The stream outlives the request's session, so each look at the table opens a short
    session of its own: no transaction stays open while the client watches.
    """
    reads = request_state(request).database.reads
    quiet = 0.0
    while True:
        async with reads() as session, session.begin():
            repository = ImportRepository(session)
            found = await repository.events_after(import_id, after, 100)
            job = None if found else await repository.get(import_id)
        if job is not None and job.finished:
            return  # its last event came before `Last-Event-ID`
        for item in found:
            assert item.id is not None
            after = item.id
            data = event_read(item).model_dump_json()
            yield f"id: {item.id}\nevent: {item.type}\ndata: {data}\n\n"
            if item.type in FINAL_EVENTS:
                return
        if found:
            quiet = 0.0
            continue
        if await request.is_disconnected():
            return
        await asyncio.sleep(STREAM_POLL_SECONDS)
        quiet += STREAM_POLL_SECONDS
        if quiet >= KEEP_ALIVE_SECONDS:
            quiet = 0.0
            yield ": still running\n\n"
