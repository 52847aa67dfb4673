"""The database itself refuses an import in a state its status machine does not have."""

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, update

from app.db.engine import Database
from app.models import Import, utcnow


@pytest.mark.parametrize(
    "values",
    [
        {"status": "paused"},
        {"status": "succeeded"},  # finished without finished_at
        {"finished_at": utcnow()},  # finished_at on a queued import
        {"status": "failed", "finished_at": utcnow()},  # failed without its problem
        {"error": '{"status": 422}'},  # a problem on an import that did not fail
        {"status": "running"},  # running without a lease
        {"lease_owner": "someone"},  # queued yet held
        {"rows_processed": 1},  # counters that do not add up
        {"rows_created": -1, "rows_processed": -1},
        {"rows_total": 1, "rows_processed": 2, "rows_created": 2},
        {"format": "xml"},
        {"on_duplicate": "merge"},
        {"checkpoint_offset": -1},
    ],
)
async def test_impossible_states_are_refused(database: Database, values: dict[str, Any]) -> None:
    async with database.writes() as session, session.begin():
        job = Import(format="csv")
        session.add(job)
        await session.flush()
        statement = update(Import).where(col(Import.id) == job.id).values(**values)
        savepoint = await session.begin_nested()
        with pytest.raises(IntegrityError):
            await session.exec(statement)
        await savepoint.rollback()
