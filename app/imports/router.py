"""The imports API: upload, follow, read the report of, and cancel bulk imports."""

import hashlib
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response

from app.idempotency.guard import IdempotencyDep
from app.imports.events import (
    EVENT_STREAM,
    PAST_EVENTS,
    event_read,
    stream_response,
    wants_stream,
)
from app.imports.repository import ImportDep, ImportRepositoryDep, LockedImportDep
from app.imports.schemas import (
    ImportErrorPage,
    ImportErrorQuery,
    ImportErrorRead,
    ImportEventPage,
    ImportEventQuery,
    ImportOptions,
    ImportPage,
    ImportQuery,
    ImportRead,
    ImportWarningPage,
    ImportWarningQuery,
    ImportWarningRead,
)
from app.imports.upload import import_format, request_body, spooled
from app.kit.errors import Conflict, ContentTooLarge, problem_responses
from app.kit.etag import NOT_MODIFIED, READ_HEADERS, IfNoneMatch, created_headers, etag, none_match
from app.kit.pagination import LIST_HEADERS, LIST_RESPONSES, PagerDep
from app.models import Import
from app.state import SettingsDep, request_state

router = APIRouter(prefix="/imports", tags=["imports"])

# How long a client should wait before asking again about an unfinished import.
RETRY_AFTER_SECONDS = "2"
ACCEPTED_HEADERS = created_headers(router.prefix)
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
UPLOAD_DESCRIPTION = (
    "The body is the file. Its `Content-Type` may name its charset: `utf-8` (the default; a "
    "byte-order mark is dropped), `utf-16` (with its byte-order mark), `iso-8859-1` (also "
    "`latin-1`, `latin1`) or `windows-1252` (`cp1252`); another charset is a 415. CSV cells "
    "are separated by a comma, a semicolon or a tab, lines end in LF, CRLF or CR. The query "
    "says how columns (or NDJSON keys) are read as fields. A file that cannot be read as a "
    "whole (bytes that are not text in its charset, a header without the columns it needs) "
    "still answers 202: the import ends `failed` with a problem that names the cause and line."
)


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
    description=UPLOAD_DESCRIPTION,
)
async def create_import(
    request: Request,
    imports: ImportRepositoryDep,
    idempotency: IdempotencyDep,
    response: Response,
    tasks: BackgroundTasks,
    settings: SettingsDep,
    options: Annotated[ImportOptions, Query()],
) -> ImportRead | Response:
    """Upload a CSV or NDJSON file of books; it is imported in the background."""
    file_format, charset = import_format(request.headers.get("content-type"))
    limit = settings.max_import_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ContentTooLarge(f"An import may have at most {limit} bytes.")
    async with spooled(request_body(request), limit, file_format, charset) as upload:
        replay = await idempotency.replay(upload_fingerprint(request, upload.digest))
        if replay is not None:
            return replay
        job = options.new_import(file_format.name, charset, upload.size)
        await imports.create(job, upload.chunks(), upload.failure(job.id))
        created = accepted(request, job, response, tasks)
        await idempotency.save(202, created, dict(response.headers))
        return created


def accepted(
    request: Request, job: Import, response: Response, tasks: BackgroundTasks
) -> ImportRead:
    """The 202 answer; once it is committed, the runner in this process hears of the import."""
    response.headers.update({"Location": f"/imports/{job.id}", **import_headers(job)})
    wake = request_state(request).wake_imports
    if wake is not None:
        tasks.add_task(wake)
    return ImportRead.of(job)


@router.get("", responses=LIST_RESPONSES)
async def list_imports(
    query: Annotated[ImportQuery, Query()], imports: ImportRepositoryDep, pager: PagerDep
) -> ImportPage:
    """List imports, newest first; filter by `status`."""
    found = await imports.page(query)
    items = [ImportRead.of(job) for job in found.items]
    return pager.answer(ImportPage, found.with_items(items), query)


@router.get(
    "/{import_id}",
    response_model=ImportRead,
    responses={200: {"headers": READ_HEADERS}, **NOT_MODIFIED, **problem_responses(404)},
)
async def get_import(
    job: ImportDep, response: Response, if_none_match: IfNoneMatch = None
) -> ImportRead | Response:
    """Get an import and its counters; `Retry-After` says when to look again while it runs."""
    headers = import_headers(job)
    if none_match(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return ImportRead.of(job)


@router.get(
    "/{import_id}/errors", responses={200: {"headers": LIST_HEADERS}, **problem_responses(404)}
)
async def list_import_errors(
    job: ImportDep,
    query: Annotated[ImportErrorQuery, Query()],
    imports: ImportRepositoryDep,
    pager: PagerDep,
) -> ImportErrorPage:
    """List the rows that could not be imported, by line."""
    found = await imports.errors(job.id, query)
    items = [ImportErrorRead.model_validate(error, from_attributes=True) for error in found.items]
    return pager.answer(ImportErrorPage, found.with_items(items), query)


@router.get(
    "/{import_id}/warnings", responses={200: {"headers": LIST_HEADERS}, **problem_responses(404)}
)
async def list_import_warnings(
    job: ImportDep,
    query: Annotated[ImportWarningQuery, Query()],
    imports: ImportRepositoryDep,
    pager: PagerDep,
) -> ImportWarningPage:
    """List the values of applied rows that were read otherwise than spelled, by line."""
    found = await imports.warnings(job.id, query)
    items = [ImportWarningRead.model_validate(item, from_attributes=True) for item in found.items]
    return pager.answer(ImportWarningPage, found.with_items(items), query)


@router.get(
    "/{import_id}/events",
    response_model=ImportEventPage,
    responses={
        200: {
            "headers": LIST_HEADERS,
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
            "description": "A page of events, or with `Accept: text/event-stream` a stream.",
        },
        # A stream past the cap of its client (429) or of the server (503).
        **problem_responses(404, 429),
    },
)
async def list_import_events(
    job: ImportDep,
    query: Annotated[ImportEventQuery, Query()],
    imports: ImportRepositoryDep,
    request: Request,
    pager: PagerDep,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=18,
            pattern=r"^\d{1,18}$",
            description="Resume after it.",
        ),
    ] = None,
) -> ImportEventPage | Response:
    """List an import's events, oldest first, or stream them as Server-Sent Events."""
    if wants_stream(request):
        after = int(last_event_id or 0)
        past = await imports.events_after(job.id, after, PAST_EVENTS)
        return stream_response(request, job.id, after, past, job.finished)
    found = await imports.events(job.id, query)
    items = [event_read(item) for item in found.items]
    return pager.answer(ImportEventPage, found.with_items(items), query)


@router.delete(
    "/{import_id}",
    status_code=202,
    response_model=ImportRead,
    responses={202: {"headers": READ_HEADERS}, **problem_responses(404, 409)},
)
async def cancel_import(
    job: LockedImportDep, imports: ImportRepositoryDep, response: Response
) -> ImportRead:
    """Cancel a queued or running import; what it committed stays."""
    if job.finished:
        raise Conflict(f"The import has already {job.status}.")
    cancelled = await imports.cancel(job)
    response.headers.update(import_headers(cancelled))
    return ImportRead.of(cancelled)
