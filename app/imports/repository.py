"""The SQL of the imports API: creating imports with their uploads, reading them, cancelling."""

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import func
from sqlmodel import col, delete, insert, select, update

from app.db.session import SessionDep, on_session
from app.imports.schemas import (
    ImportErrorQuery,
    ImportEventQuery,
    ImportQuery,
    ImportWarningQuery,
)
from app.kit.loaders import load_or_404, lock_or_404
from app.kit.pagination import Slice, paginate
from app.kit.quoting import MESSAGE_CHARACTERS, shortened
from app.models import (
    Import,
    ImportChunk,
    ImportEvent,
    ImportRowError,
    ImportRowWarning,
    utcnow,
)
from app.models.import_job import FINISHED, STATUSES


def event(import_id: uuid.UUID, type_: str, **detail: Any) -> ImportEvent:
    return ImportEvent(import_id=import_id, type=type_, detail=json.dumps(detail))


def problem(
    import_id: uuid.UUID, title: str, status: int, detail: str, line: int | None = None
) -> dict[str, Any]:
    """The problem object of an import that failed as a whole; `line` where one is at fault."""
    found = {
        "type": "about:blank",
        "title": title,
        "status": status,
        # Stored with the import and listed with every page of imports: kept small.
        "detail": shortened(detail, MESSAGE_CHARACTERS),
        "instance": f"/imports/{import_id}",
    }
    return found if line is None else {**found, "line": line}


class ImportRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def create(
        self, job: Import, chunks: AsyncIterator[bytes], failure: dict[str, Any] | None = None
    ) -> Import:
        """Store the import, its upload chunk by chunk, and its `queued` event; with a
        `failure` (a problem object), store it failed at once, without its upload."""
        if failure is not None:
            job.status, job.error, job.finished_at = "failed", json.dumps(failure), utcnow()
        self.session.add(job)
        await self.session.flush()
        self.session.add(event(job.id, "queued", size_bytes=job.size_bytes))
        if failure is not None:
            self.session.add(event(job.id, "failed", **failure))
            await self.session.flush()
            return job
        seq = 0
        async for data in chunks:
            chunk = ImportChunk(import_id=job.id, seq=seq, data=data)
            self.session.add(chunk)
            await self.session.flush()
            # A written chunk need not stay in the session's memory.
            self.session.expunge(chunk)
            seq += 1
        await self.session.flush()
        return job

    async def chunk(self, import_id: uuid.UUID, seq: int) -> bytes | None:
        """One stored piece of the upload; None past the last."""
        statement = select(ImportChunk.data).where(
            ImportChunk.import_id == import_id, ImportChunk.seq == seq
        )
        return (await self.session.exec(statement)).one_or_none()

    async def get(self, import_id: uuid.UUID) -> Import | None:
        return await self.session.get(Import, import_id, populate_existing=True)

    async def get_for_update(self, import_id: uuid.UUID) -> Import | None:
        """The import, locked for the rest of the transaction where the database can."""
        statement = select(Import).where(Import.id == import_id).with_for_update()
        return (await self.session.exec(statement)).one_or_none()

    async def page(self, query: ImportQuery) -> Slice[Import]:
        filters = [] if query.status is None else [Import.status == query.status]
        return await paginate(self.session, query, select(Import), filters, Import)

    async def errors(self, import_id: uuid.UUID, query: ImportErrorQuery) -> Slice[ImportRowError]:
        filters = [ImportRowError.import_id == import_id]
        return await paginate(self.session, query, select(ImportRowError), filters, ImportRowError)

    async def warnings(
        self, import_id: uuid.UUID, query: ImportWarningQuery
    ) -> Slice[ImportRowWarning]:
        filters = [ImportRowWarning.import_id == import_id]
        return await paginate(
            self.session, query, select(ImportRowWarning), filters, ImportRowWarning
        )

    async def record_warnings(self, import_id: uuid.UUID, warnings: list[dict[str, Any]]) -> None:
        """Keep the repairs of a batch's applied rows, in the batch's transaction."""
        if warnings:
            rows = [{**warning, "import_id": import_id} for warning in warnings]
            await self.session.exec(insert(ImportRowWarning), params=rows)

    async def events(self, import_id: uuid.UUID, query: ImportEventQuery) -> Slice[ImportEvent]:
        filters = [ImportEvent.import_id == import_id]
        return await paginate(self.session, query, select(ImportEvent), filters, ImportEvent)

    async def count_by_status(self) -> dict[str, int]:
        """How many imports are in each status, every status named."""
        statement = select(Import.status, func.count()).group_by(col(Import.status))
        found = dict((await self.session.exec(statement)).all())
        return {status: found.get(status, 0) for status in STATUSES}

    async def newest_event_ids(self, import_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """The id of each import's newest event, for those that have one."""
        newest = func.max(ImportEvent.id)
        statement = (
            select(ImportEvent.import_id, newest)
            .where(col(ImportEvent.import_id).in_(import_ids))
            .group_by(col(ImportEvent.import_id))
        )
        found = (await self.session.exec(statement)).all()
        return {import_id: last for import_id, last in found if last is not None}

    async def events_after(self, import_id: uuid.UUID, after: int, limit: int) -> list[ImportEvent]:
        """The import's events that follow event `after`, oldest first."""
        statement = (
            select(ImportEvent)
            .where(ImportEvent.import_id == import_id, col(ImportEvent.id) > after)
            .order_by(col(ImportEvent.id))
            .limit(limit)
        )
        return list((await self.session.exec(statement)).all())

    async def cancel(self, job: Import) -> Import:
        """Cancel a queued import at once; ask the runner of a running one to stop. Returns the
        import as it is now."""
        now = utcnow()
        if job.status == "queued":
            values: dict[str, Any] = {"status": "cancelled", "finished_at": now}
            await self.session.exec(delete(ImportChunk).where(col(ImportChunk.import_id) == job.id))
            self.session.add(event(job.id, "cancelled", rows_processed=0, line=job.checkpoint_line))
        else:
            values = {"cancel_requested": True}
        still = (
            col(Import.status) == job.status
            if job.status == "queued"
            else col(Import.status).not_in(FINISHED)
        )
        statement = (
            update(Import)
            .where(col(Import.id) == job.id, still)
            .values(**values, updated_at=now, version=col(Import.version) + 1)
            .execution_options(synchronize_session=False)
        )
        await self.session.exec(statement)
        await self.session.flush()
        cancelled = await self.get(job.id)
        assert cancelled is not None, "the import is locked until the transaction ends"
        return cancelled


NO_IMPORT = "No import has this id."
import_repository = on_session(ImportRepository)
ImportRepositoryDep = Annotated[ImportRepository, Depends(import_repository)]
ImportDep = Annotated[Import, Depends(load_or_404(import_repository, "import_id", NO_IMPORT))]
LockedImportDep = Annotated[Import, Depends(lock_or_404(import_repository, "import_id", NO_IMPORT))]
