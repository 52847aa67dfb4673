"""The SQL helpers the repositories share, on a real database."""

from sqlmodel import func, select

from app.db.engine import Database
from app.kit.repository import MAX_BOUND_VALUES, insert_rows
from app.models import BOOK, Book, derived_columns, utcnow, uuid7


async def test_insert_rows_splits_wide_rows_under_the_limit_on_bound_values(
    database: Database,
) -> None:
    now = utcnow()
    async with database.writes() as session, session.begin():
        book = {"isbn": None, "published_year": None, "description": None, "version": 1}
        row = {**book, "publisher": "Wide", "created_at": now, "updated_at": now}
        # Fifteen columns a row: more rows than one statement may bind.
        count = MAX_BOUND_VALUES // 15 + 100
        rows = [
            {
                **row,
                **derived_columns(f"Book {n}", None, "Wide", None),
                "id": uuid7(),
                "title": f"Book {n}",
            }
            for n in range(count)
        ]
        assert len(rows[0]) * count > MAX_BOUND_VALUES
        await insert_rows(session, BOOK, rows)
        stored = await session.exec(
            select(func.count()).select_from(Book).where(Book.publisher_folded == "wide")
        )
        assert stored.one() == count
