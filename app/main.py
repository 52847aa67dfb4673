"""The application factory: lifespan, routers and error handlers."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import partial

from fastapi import Depends, FastAPI

import app.imports.metrics  # noqa: F401  (adds imports by status to /metrics)
from app.authors.router import router as authors_router
from app.books.router import router as books_router
from app.config import Settings, get_settings
from app.db.checks import DatabaseWatch
from app.db.engine import Database, create_database
from app.db.migrations import SCHEMA_HEAD
from app.edge.install import install_edge
from app.edge.openapi import describe_body_limits, describe_cors
from app.exports.router import router as exports_router
from app.health.router import router as health_router
from app.idempotency.purge import purge_periodically
from app.imports.router import router as imports_router
from app.imports.runner import ImportRunner
from app.keys.limits import RateLimits
from app.keys.openapi import describe_access
from app.keys.router import router as keys_router
from app.kit.collector import tuned_for_serving
from app.kit.docs import install_docs, operation_id
from app.kit.errors import every_route_problem_responses, install_error_handlers
from app.kit.openapi import SCHEMA_STEPS, with_steps
from app.kit.responses import install_response_middleware
from app.kit.schemas import utf8_query_string
from app.observe.logs import configure_logging
from app.observe.middleware import install_observability
from app.observe.tracing import install_tracing, span_exporter
from app.state import State, state_of
from app.tags.router import router as tags_router

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Authors, books and tags, with filters, sorting, ranked search and paging by number or cursor;
bulk imports of CSV and NDJSON files, and exports in the same formats.

- **Keys**: changing data needs an API key with the `write` scope (`Authorization: Bearer
  folio_...`), managing keys `admin`; reading needs none unless the server asks for `read`.
- **Errors** are RFC 9457 problems (`application/problem+json`); a 422 says where in `errors`.
- **Writes** of one resource answer with a strong `ETag`: send it back in `If-Match` to change
  only what you read. `Idempotency-Key` makes a POST safe to retry.
- **Limits**: each client may make `q` requests per `w` seconds, as `RateLimit-Policy` says;
  past it a 429 with `Retry-After`. Bodies, strings, lists and pages are bounded as the
  schemas below state.
"""
# The API's sections, in the order the documentation pages show them.
TAGS = [
    {"name": "authors", "description": "Authors, each with the books they wrote."},
    {
        "name": "books",
        "description": "Books: their authors in order, tags, publisher, language and series; "
        "filters and ranked full-text search.",
    },
    {"name": "tags", "description": "Tags, each with how many books carry it."},
    {
        "name": "imports",
        "description": "Books loaded in bulk from a CSV or NDJSON file, in the background: "
        "follow an import, read the rows it could not apply, cancel it.",
    },
    {
        "name": "exports",
        "description": "Every book a filter finds, streamed in the format imports read.",
    },
    {"name": "api keys", "description": "API keys and their scopes (`admin`)."},
    {
        "name": "health",
        "description": "Probes for supervisors and load balancers; never need a key, never "
        "rate-limited.",
    },
]


async def close_database(database: Database) -> None:
    """Checkpoint, then close every connection: a clean stop leaves one self-contained file."""
    try:
        if not await database.checkpoint():
            logger.warning("WAL checkpoint at shutdown incomplete: another process is reading")
    except Exception:
        # A database that cannot be reached now still has its connections closed.
        logger.warning("WAL checkpoint at shutdown failed", exc_info=True)
    finally:
        await database.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the Folio application for the given (or the environment's) settings."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = state_of(app)
        if settings.auth_mode == "open":
            logger.warning(
                "AUTH_MODE=open: every request may read, change and delete everything, "
                "API keys included; use it only for local experiments"
            )
        tasks = [asyncio.create_task(purge_periodically(state.database))]
        state.database_watch = DatabaseWatch(settings)
        # Checked before the first request; retried meanwhile only if it did not pass.
        if not await state.database_watch.check():
            tasks.append(asyncio.create_task(state.database_watch.retry()))
        if settings.import_runner:
            runner = ImportRunner(state.database, settings, tracer=state.tracer)
            state.wake_imports = runner.wake_soon
            tasks.append(asyncio.create_task(runner.run_forever()))
        try:
            with tuned_for_serving():
                yield
        finally:
            # A batch cut short here is rolled back; the import resumes at the next start.
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            for stop in state.on_stop:
                await stop()
            await close_database(state.database)
            if (provider := getattr(app.state, "tracer_provider", None)) is not None:
                provider.shutdown()  # sends the spans still waiting

    app = FastAPI(
        title="Folio",
        summary="A catalogue of authors, books and tags.",
        description=DESCRIPTION,
        version="1.0.0",
        contact={"name": "Folio maintainers"},
        openapi_tags=TAGS,
        lifespan=lifespan,
        dependencies=[Depends(utf8_query_string)],
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        responses=every_route_problem_responses(),
    )
    # Engines connect on first use, so building them here costs no I/O.
    app.state.folio = State(settings, create_database(settings), SCHEMA_HEAD, RateLimits(settings))
    install_error_handlers(app)
    install_edge(app, settings)
    for router in (authors_router, books_router, tags_router, health_router, keys_router):
        app.include_router(router)
    app.include_router(imports_router)
    app.include_router(exports_router)
    install_docs(app)
    # Each step documents the answers the ones before it added.
    app.openapi = with_steps(  # type: ignore[method-assign]
        app,
        partial(describe_body_limits, settings=settings),
        partial(describe_access, settings=settings),
        describe_cors,
        *SCHEMA_STEPS,
    )
    install_response_middleware(app)
    install_observability(app, settings)
    state = state_of(app)
    state.tracer = install_tracing(app, state.database, span_exporter(settings))
    return app


def create_served_app() -> FastAPI:
    """The app as a server process runs it: logging set up first, in every worker process."""
    settings = get_settings()
    configure_logging(settings)
    return create_app(settings)
