"""The imports API: upload, follow, read the report of, and cancel bulk imports."""

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.errors import Conflict, ContentTooLarge, NotFound, problem_responses
from app.etag import NOT_MODIFIED, READ_HEADERS, IfNoneMatch, etag, header_doc, none_match
from app.idempotency.guard import Idempotency, holding
from app.idempotency.repository import IdempotencyRepositoryDep
from app.imports.repository import ImportRepository, ImportRepositoryDep
from app.imports.schemas import (
    ImportErrorQuery,
    ImportErrorRead,
    ImportEventQuery,
    ImportEventRead,
    ImportOptions,
    ImportQuery,
    ImportRead,
)
from app.imports.upload import import_format, spooled_body
from app.keys.guard import CallerDep
from app.models import Import, ImportEvent
from app.models.idempotency_key import ANONYMOUS
from app.pagination import LIST_HEADERS, LIST_RESPONSES, Page, PagerDep
from app.state import request_state

router = APIRouter(prefix="/imports", tags=["imports"])

NOT_AN_IMPORT = "No import has this id."
EVENT_STREAM = "text/event-stream"
# How long a client should wait before asking again about an unfinished import.
RETRY_AFTER_SECONDS = "2"
STREAM_POLL_SECONDS = 0.5
KEEP_ALIVE_SECONDS = 15.0
FINAL_EVENTS = ("succeeded", "failed", "cancelled")
ACCEPTED_HEADERS = {
    **READ_HEADERS,
    "Location": header_doc("The path of the new import."),
    "Idempotent-Replayed": header_doc("`true` when this answer replays an earlier request's."),
}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "title,author,isbn,published_year,tags\n"
                "The Dispossessed,Ursula K. Le Guin,9780060512750,1974,sf|utopia\n",
            },
            "application/x-ndjson": {
                "schema": {"type": "string"},
                "example": '{"title": "The Dispossessed", "author": "Ursula K. Le Guin", '
                '"published_year": 1974, "tags": ["sf", "utopia"]}\n',
            },
        },
    }
}
UPLOAD_PROBLEMS = problem_responses(409, 413, 415)


def import_headers(job: Import) -> dict[str, str]:
    headers = {"ETag": etag(job.version)}
    if not job.finished:
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    return headers


def upload_fingerprint(request: Request, digest: str) -> str:
    """The request as a retry must repeat it: path, query, content type and body digest."""
    query = sorted(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "")
    request_line = f"POST /imports?{query}\n{content_type}\n{digest}"
    return hashlib.sha256(request_line.encode()).hexdigest()


@router.post(
    "",
    status_code=202,
    response_model=ImportRead,
    responses={202: {"headers": ACCEPTED_HEADERS}, **UPLOAD_PROBLEMS},
    openapi_extra=UPLOAD_BODY,
)
async def create_import(
    request: Request,
    imports: ImportRepositoryDep,
    keys: IdempotencyRepositoryDep,
    response: Response,
    tasks: BackgroundTasks,
    caller: CallerDep,
    options: Annotated[ImportOptions, Query()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=r"^[\x21-\x7e]{1,255}$",
            description="1-255 visible ASCII characters; a retry with the same key and body "
            "replays the first answer instead of importing again.",
        ),
    ] = None,
) -> ImportRead | Response:
    """Upload a CSV or NDJSON file of books; it is imported in the background."""
    file_format = import_format(request.headers.get("content-type"))
    settings = request_state(request).settings
    limit = settings.max_import_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ContentTooLarge(f"An import may have at most {limit} bytes.")
    async with spooled_body(request, limit) as upload:
        job = Import(
            format=file_format,
            on_duplicate=options.on_duplicate,
            dry_run=options.dry_run,
            size_bytes=upload.size,
        )
        if idempotency_key is None:
            await imports.create(job, upload.chunks())
            return accepted(request, job, response, tasks)
        owner = caller.api_key_id or ANONYMOUS
        async with holding(request, keys, owner, idempotency_key):
            idempotency = Idempotency(
                keys,
                response,
                idempotency_key,
                upload_fingerprint(request, upload.digest),
                timedelta(hours=settings.idempotency_ttl_hours),
                owner,
            )
            if (replay := await idempotency.replay()) is not None:
                return replay
            await imports.create(job, upload.chunks())
            created = accepted(request, job, response, tasks)
            await idempotency.save(202, created, dict(response.headers))
            return created


def accepted(
    request: Request, job: Import, response: Response, tasks: BackgroundTasks
) -> ImportRead:
    """The 202 answer; once it is committed, the runner in this process hears of the import."""
    response.headers.update({"Location": f"/imports/{job.id}", **import_headers(job)})
    runner = request_state(request).import_runner
    if runner is not None:
        tasks.add_task(runner.wake_soon)
    return ImportRead.of(job)


@router.get("", responses=LIST_RESPONSES)
async def list_imports(
    query: Annotated[ImportQuery, Query()], imports: ImportRepositoryDep, pager: PagerDep
) -> Page[ImportRead]:
    """List imports, newest first; filter by `status`."""
    found = await imports.search(query)
    return pager.answer(found.with_items([ImportRead.of(job) for job in found.items]), query)


async def existing(imports: ImportRepository, import_id: uuid.UUID) -> Import:
    job = await imports.get(import_id)
    if job is None:
        raise NotFound(NOT_AN_IMPORT)
    return job


@router.get(
    "/{import_id}",
    response_model=ImportRead,
    responses={200: {"headers": READ_HEADERS}, **NOT_MODIFIED, **problem_responses(404)},
)
async def get_import(
    import_id: uuid.UUID,
    imports: ImportRepositoryDep,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> ImportRead | Response:
    """Get an import and its counters; `Retry-After` says when to look again while it runs."""
    job = await existing(imports, import_id)
    headers = import_headers(job)
    if none_match(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return ImportRead.of(job)


@router.get(
    "/{import_id}/errors", responses={200: {"headers": LIST_HEADERS}, **problem_responses(404)}
)
async def list_import_errors(
    import_id: uuid.UUID,
    query: Annotated[ImportErrorQuery, Query()],
    imports: ImportRepositoryDep,
    pager: PagerDep,
) -> Page[ImportErrorRead]:
    """List the rows that could not be imported, by line."""
    await existing(imports, import_id)
    found = await imports.errors(import_id, query)
    items = [ImportErrorRead.model_validate(error, from_attributes=True) for error in found.items]
    return pager.answer(found.with_items(items), query)


def event_read(found: ImportEvent) -> ImportEventRead:
    assert found.id is not None
    return ImportEventRead(
        id=found.id, at=found.at, type=found.type, detail=json.loads(found.detail)
    )


@router.get(
    "/{import_id}/events",
    response_model=Page[ImportEventRead],
    responses={
        200: {
            "headers": LIST_HEADERS,
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
            "description": "A page of events, or with `Accept: text/event-stream` a stream.",
        },
        **problem_responses(404),
    },
)
async def list_import_events(
    import_id: uuid.UUID,
    query: Annotated[ImportEventQuery, Query()],
    imports: ImportRepositoryDep,
    request: Request,
    pager: PagerDep,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", pattern=r"^\d{1,18}$", description="Resume after it."),
    ] = None,
) -> Page[ImportEventRead] | Response:
    """List an import's events, oldest first, or stream them as Server-Sent Events."""
    await existing(imports, import_id)
    if EVENT_STREAM in request.headers.get("accept", ""):
        after = int(last_event_id or 0)
        return StreamingResponse(
            event_stream(request, import_id, after),
            media_type=EVENT_STREAM,
            headers={"Cache-Control": "no-store"},
        )
    found = await imports.events(import_id, query)
    return pager.answer(found.with_items([event_read(item) for item in found.items]), query)


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


@router.delete(
    "/{import_id}",
    status_code=202,
    response_model=ImportRead,
    responses={202: {"headers": READ_HEADERS}, **problem_responses(404, 409)},
)
async def cancel_import(
    import_id: uuid.UUID, imports: ImportRepositoryDep, response: Response
) -> ImportRead:
    """Cancel a queued or running import; what it committed stays."""
    job = await imports.get_for_update(import_id)
    if job is None:
        raise NotFound(NOT_AN_IMPORT)
    if job.finished:
        raise Conflict(f"The import has already {job.status}.")
    await imports.cancel(job)
    job = await existing(imports, import_id)
    response.headers.update(import_headers(job))
    return ImportRead.of(job)
