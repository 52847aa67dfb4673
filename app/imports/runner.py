"""The import runner: claims imports, and applies each in batches, one transaction a batch.

Each batch renews the runner's lease, applies its rows, records their errors and a
`progress` event, and moves the checkpoint past its last record, all in one commit: a
runner killed at any moment leaves every batch applied wholly or not at all, and the
runner that takes the import over resumes after the last committed batch.
"""

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable
from contextlib import aclosing, suppress
from datetime import timedelta
from typing import Any, cast

from opentelemetry.trace import NoOpTracer, Tracer
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db.engine import Database
from app.db.faults import classify, report
from app.imports.batches import BatchRepository, Outcome
from app.imports.checking import Checked, checked_batches
from app.imports.formats import FileFormat, Plan, Reading, by_name
from app.imports.leases import LeaseRepository
from app.imports.loading import Statistics
from app.imports.reader import Chunks, Record, Unreadable, records
from app.imports.repository import ImportRepository, event, problem
from app.models import Import
from app.models.import_chunk import CHUNK_BYTES
from app.models.import_job import Delimiter, UnknownColumns

logger = logging.getLogger(__name__)

COUNTERS = (
    "rows_processed",
    "rows_created",
    "rows_updated",
    "rows_skipped",
    "rows_failed",
    "warnings",
)
# A batch that loses a race for an ISBN or a name on PostgreSQL is read and applied again.
BATCH_ATTEMPTS = 3
# Told of the import after each batch the runner commits.
OnBatch = Callable[[Import], None]


def counters(job: Import) -> dict[str, Any]:
    return {name: getattr(job, name) for name in COUNTERS}


def reading(job: Import) -> Reading:
    """The options the import's file is read with."""
    return Reading(
        columns=json.loads(job.columns or "{}"),
        unknown_columns=cast(UnknownColumns, job.unknown_columns),
        delimiter=cast(Delimiter | None, job.delimiter),
        author_separator=job.author_separator,
    )


async def read_plan(chunk: Chunks, file_format: FileFormat, job: Import) -> tuple[Plan, int, int]:
    """How the file's rows are read, and the offset and line after its header (if any)."""
    if not file_format.has_header:
        return file_format.plan(reading(job), None), 0, 0
    async with aclosing(records(chunk, file_format, 0, 0, CHUNK_BYTES)) as found:
        async for header in found:
            plan = file_format.plan(reading(job), header)
            return plan, header.end_offset, header.end_line
    return file_format.plan(reading(job), None), 0, 0  # no header: Unreadable


async def count_rows(chunk: Chunks, file_format: FileFormat, offset: int, line: int) -> int:
    """Read the file once after its header: Unreadable if it cannot be read to its end, else
    how many rows it has."""
    count = 0
    async for _record in records(chunk, file_format, offset, line, CHUNK_BYTES):
        count += 1
    return count


class ImportRunner:
    """Runs imports in this process, one at a time, until cancelled."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        owner: str | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.database = database
        self.tracer = tracer or NoOpTracer()
        self.batch_rows = settings.import_batch_rows
        self.lease = timedelta(seconds=settings.import_lease_seconds)
        self.poll_seconds = settings.import_poll_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.woken = asyncio.Event()

    def wake_soon(self) -> None:
        """Look for work now rather than at the next poll."""
        self.woken.set()

    async def run_forever(self) -> None:
        while True:
            try:
                ran = await self.run_next()
            except Exception as exc:
                if (fault := classify(exc)) is not None:
                    # The database cannot serve now: said once per cause, tried again later.
                    report(fault, exc)
                else:
                    logger.exception("the import runner failed; it goes on")
                ran = None
            if ran is None:
                with suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await self.woken.wait()
                self.woken.clear()

    def leases(self, session: Any) -> LeaseRepository:
        return LeaseRepository(session, self.owner, self.lease)

    async def run_next(
        self, import_id: uuid.UUID | None = None, on_batch: OnBatch | None = None
    ) -> Import | None:
        """Claim an import (this one, if given) and run it to its end; None if none was free."""
        if import_id is None:
            async with self.database.reads() as session, session.begin():
                if not await self.leases(session).waiting():
                    return None
        async with self.database.writes() as session, session.begin():
            job = await self.leases(session).claim(import_id)
            if job is None:
                return None
            if job.attempts > 1:
                session.add(
                    event(
                        job.id,
                        "resumed",
                        runner=self.owner,
                        line=job.checkpoint_line,
                        **counters(job),
                    )
                )
            else:
                session.add(event(job.id, "started", runner=self.owner))
        logger.info("import %s claimed by %s (attempt %d)", job.id, self.owner, job.attempts)
        heartbeat = asyncio.create_task(self.heartbeat(job.id))
        try:
            await self.run(job, on_batch)
        except asyncio.CancelledError:
            # A clean stop: whatever batch was open is rolled back; the next start resumes.
            async with self.database.writes() as session, session.begin():
                await self.leases(session).release(job.id)
            raise
        except Exception as exc:
            if classify(exc) is not None:
                raise  # the lease runs out and a runner tries again later
            logger.exception("import %s stopped on an unexpected error", job.id)
            detail = "The import stopped on an unexpected error."
            async with self.database.writes() as session, session.begin():
                await self.leases(session).fail(
                    job.id, problem(job.id, "Internal Server Error", 500, detail)
                )
        finally:
            heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await heartbeat
        return job

    async def heartbeat(self, import_id: uuid.UUID) -> None:
        """Renew the lease while the run lasts, also while no batch commits."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                async with self.database.writes() as session, session.begin():
                    await self.leases(session).renew(import_id)
            except Exception:
                logger.warning("heartbeat of import %s failed", import_id, exc_info=True)

    async def chunk(self, import_id: uuid.UUID, seq: int) -> bytes | None:
        async with self.database.reads() as session, session.begin():
            return await ImportRepository(session).chunk(import_id, seq)

    async def run(self, job: Import, on_batch: OnBatch | None) -> None:
        def chunk(seq: int) -> Any:
            return self.chunk(job.id, seq)

        file_format = by_name(job.format)
        try:
            plan, start, start_line = await read_plan(chunk, file_format, job)
            if job.rows_total is None:
                total = await count_rows(chunk, file_format, start, start_line)
                found: dict[str, Any] = {"rows_total": total, "delimiter": plan.delimiter}
                if file_format.has_header and job.unknown_columns == "ignore":
                    found["ignored_columns"] = json.dumps(list(plan.ignored))
                async with self.database.writes() as session, session.begin():
                    await self.leases(session).advance(job.id, found)
                job.rows_total = total
        except Unreadable as exc:
            failure = problem(job.id, "Unreadable File", 422, exc.detail, exc.line)
            async with self.database.writes() as session, session.begin():
                await self.leases(session).fail(job.id, failure)
            return
        offset, line = job.checkpoint_offset, job.checkpoint_line
        if offset == 0:
            offset, line = start, start_line
        rest = records(chunk, file_format, offset, line, CHUNK_BYTES)
        batches = checked_batches(rest, file_format, plan, self.batch_rows)
        statistics = Statistics(self.database)
        async with aclosing(rest), aclosing(batches):
            async for batch, checked in batches:
                if not await self.commit(job, batch, checked, on_batch):
                    return
                await statistics.grown(0 if job.dry_run else len(checked.rows))
        await self.commit(job, [], Checked(), on_batch)

    async def commit(
        self,
        job: Import,
        batch: list[Record],
        checked: Checked,
        on_batch: OnBatch | None,
    ) -> bool:
        """Apply one batch, as checked, in one transaction; with no records, end the import.

        False when the run must stop: cancelled, finished, or its lease lost.
        """
        attributes: dict[str, str | int] = {
            "folio.import.id": str(job.id),
            "folio.import.rows": len(batch),
        }
        with self.tracer.start_as_current_span("import batch", attributes=attributes):
            for attempt in range(1, BATCH_ATTEMPTS + 1):
                try:
                    async with self.database.writes() as session, session.begin():
                        return await self.apply(session, job, batch, checked, on_batch)
                except IntegrityError:
                    if attempt == BATCH_ATTEMPTS:
                        raise
                    logger.info("batch of import %s lost a race; applying it again", job.id)
        return False

    async def apply(
        self,
        session: Any,
        job: Import,
        batch: list[Record],
        checked: Checked,
        on_batch: OnBatch | None,
    ) -> bool:
        leases = self.leases(session)
        current = await leases.renew(job.id)
        if current is None:
            logger.warning("import %s: lease lost to another runner; stopping", job.id)
            return False
        if current.cancel_requested:
            await leases.finish(
                job.id, "cancelled", {**counters(current), "line": current.checkpoint_line}, {}
            )
            return False
        if not batch:
            await leases.finish(job.id, "succeeded", counters(current), {})
            if on_batch is not None:
                on_batch(current)
            return False
        outcome = Outcome(errors=list(checked.faults.errors))
        await BatchRepository(session, job.id, job.on_duplicate, job.dry_run).apply(
            checked.rows, outcome, checked.derived
        )
        warnings = checked.warnings(outcome)
        await ImportRepository(session).record_warnings(job.id, warnings)
        current.warnings += len(warnings)
        failed = len({error["line"] for error in outcome.errors})
        current.rows_created += outcome.created
        current.rows_updated += outcome.updated
        current.rows_skipped += outcome.skipped
        current.rows_failed += failed
        current.rows_processed += len(batch)
        current.checkpoint_offset = batch[-1].end_offset
        current.checkpoint_line = batch[-1].end_line
        values = {
            **counters(current),
            "checkpoint_offset": current.checkpoint_offset,
            "checkpoint_line": current.checkpoint_line,
        }
        # The ORM must not also write what the statement does.
        session.expunge(current)
        await leases.advance(job.id, values)
        session.add(
            event(
                job.id,
                "progress",
                runner=self.owner,
                line=current.checkpoint_line,
                **counters(current),
            )
        )
        await session.flush()
        if on_batch is not None:
            on_batch(current)
        return True
