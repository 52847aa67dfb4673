"""Reading and checking an import's batches ahead of their writes.

Each batch is read from the file and checked (parsed, validated, its search columns folded)
while the batch before it is being written, so that the database is seldom left waiting for
Python, nor Python for the database: SQLite writes on its own thread and PostgreSQL in its
own process. At most one batch waits ready besides the one being written.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.imports.batches import Outcome
from app.imports.formats import FileFormat, Plan
from app.imports.reader import Record, RowError
from app.imports.schemas import ImportRow
from app.kit.turns import taking_turns
from app.models import derived_columns


@dataclass
class Checked:
    """A batch as the book rules find it: its valid rows by line, the errors of the others,
    the repairs of each row and the columns derived from it, by line."""

    rows: list[tuple[int, ImportRow]] = field(default_factory=list)
    faults: Outcome = field(default_factory=Outcome)
    repairs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # The columns each valid row's book keeps beside its fields (folded, for search), by line.
    derived: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, record: Record, file_format: FileFormat, plan: Plan) -> None:
        """Read and check one record."""
        try:
            parsed = file_format.row(plan, record.text)
            row = ImportRow.model_validate(parsed.values)
        except RowError as exc:
            for loc, msg, type_ in exc.faults:
                self.faults.error(record.line, loc, msg, type_)
            return
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                loc = ".".join(str(part) for part in error["loc"]) or None
                self.faults.error(record.line, loc, error["msg"], error["type"])
            return
        self.rows.append((record.line, row))
        self.derived[record.line] = derived_columns(
            row.title, row.description, row.publisher, row.series
        )
        if parsed.repairs:
            self.repairs[record.line] = [repair.at(record.line) for repair in parsed.repairs]

    def warnings(self, outcome: Outcome) -> list[dict[str, Any]]:
        """The repairs of the rows the batch applied (not failed, not skipped)."""
        left_out = {error["line"] for error in outcome.errors} | set(outcome.skipped_lines)
        return [
            repair
            for line, _row in self.rows
            if line not in left_out
            for repair in self.repairs.get(line, [])
        ]


async def validated(records_: list[Record], file_format: FileFormat, plan: Plan) -> Checked:
    """Read and check a batch's records, letting the event loop serve others as it goes."""
    checked = Checked()
    async for record in taking_turns(records_):
        checked.add(record, file_format, plan)
    return checked


async def next_batch(
    found: AsyncIterator[Record], file_format: FileFormat, plan: Plan, size: int
) -> tuple[list[Record], Checked]:
    """The next `size` records (fewer at the end of the file, none after it), checked."""
    batch: list[Record] = []
    async for record in found:
        batch.append(record)
        if len(batch) >= size:
            break
    return batch, await validated(batch, file_format, plan)


async def checked_batches(
    found: AsyncIterator[Record], file_format: FileFormat, plan: Plan, size: int
) -> AsyncGenerator[tuple[list[Record], Checked], None]:
    """The batches of `size` records, each with how it checks, the next one read and checked
    while the caller writes this one. Close it (`aclosing`) to stop the batch being read."""
    ahead = asyncio.create_task(next_batch(found, file_format, plan, size))
    try:
        while True:
            batch, checked = await ahead
            if not batch:
                return
            ahead = asyncio.create_task(next_batch(found, file_format, plan, size))
            yield batch, checked
    finally:
        ahead.cancel()
        # What the batch ahead met is not this run's to report: a later run reads it again.
        with suppress(asyncio.CancelledError, Exception):
            await ahead
