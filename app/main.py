"""The application factory: lifespan, routers and error handlers."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import Depends, FastAPI

from app.authors.router import router as authors_router
from app.books.router import router as books_router
from app.config import Settings, get_settings
from app.db import Database, create_database
from app.errors import install_error_handlers
from app.exports.router import router as exports_router
from app.health.router import router as health_router
from app.idempotency.guard import InFlight
from app.idempotency.purge import purge_periodically
from app.imports.router import router as imports_router
from app.imports.runner import ImportRunner
from app.schemas import utf8_query_string
from app.tags.router import router as tags_router

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def schema_head() -> str:
    """The newest migration, read once so that readiness checks do no file work."""
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "no migrations found"
    return head


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
        app.state.database = create_database(settings)
        app.state.schema_head = schema_head()
        purging = asyncio.create_task(purge_periodically(app.state.database))
        importing = None
        if settings.import_runner:
            app.state.import_runner = ImportRunner(app.state.database, settings)
            importing = asyncio.create_task(app.state.import_runner.run_forever())
        try:
            yield
        finally:
            if importing is not None:
                # A batch cut short here is rolled back; the import resumes at the next start.
                importing.cancel()
                with suppress(asyncio.CancelledError):
                    await importing
            purging.cancel()
            with suppress(asyncio.CancelledError):
                await purging
            await close_database(app.state.database)

    app = FastAPI(
        title="Folio",
        summary="A catalogue of authors, books and tags.",
        version="1.0.0",
        lifespan=lifespan,
        dependencies=[Depends(utf8_query_string)],
    )
    app.state.settings = settings
    app.state.in_flight = InFlight()
    install_error_handlers(app)
    for router in (authors_router, books_router, tags_router, health_router):
        app.include_router(router)
    app.include_router(imports_router)
    app.include_router(exports_router)
    return app
