from collections.abc import Callable

from sqlalchemy import func
from sqlmodel import col, select

from app.books.isbn import normalize_isbn
from app.commands.seed import AUTHORS, BOOKS, TAGS, Seeded, seed
from app.config import Settings
from app.db.engine import create_database
from app.models import Author, Book, BookTag, Tag


async def counts(settings: Settings) -> dict[str, int]:
    database = create_database(settings)
    try:
        async with database.reads() as session:
            return {
                model.__name__: (await session.exec(select(func.count()).select_from(model))).one()
                for model in (Author, Book, Tag, BookTag)
            }
    finally:
        await database.dispose()


async def test_seed_fills_an_empty_database_once(fresh_database: Callable[[], Settings]) -> None:
    settings = fresh_database()

    assert await seed(settings) == Seeded(authors=AUTHORS, books=BOOKS, tags=len(TAGS))

    after_first = await counts(settings)
    assert after_first["Author"] == AUTHORS
    assert after_first["Book"] == BOOKS
    assert after_first["Tag"] == len(TAGS)
    assert 0 < after_first["BookTag"] <= 4 * BOOKS
    database = create_database(settings)
    try:
        async with database.reads() as session:
            isbns = list(await session.exec(select(Book.isbn)))
            years = list(await session.exec(select(Book.published_year)))
            tag_names = list(await session.exec(select(Tag.name).order_by(col(Tag.name))))
    finally:
        await database.dispose()
    assert all(isbn is not None and len(isbn) == 13 and isbn.isdigit() for isbn in isbns)
    assert all(normalize_isbn(isbn) == isbn for isbn in isbns if isbn is not None)
    assert len(set(isbns)) == BOOKS
    assert None in years
    assert min(year for year in years if year is not None) < 0
    assert tag_names == sorted(TAGS)
    assert all(name == name.lower() for name in tag_names)

    assert await seed(settings) is None
    assert await counts(settings) == after_first


async def test_seed_reuses_tags_that_already_exist(fresh_database: Callable[[], Settings]) -> None:
    settings = fresh_database()
    database = create_database(settings)
    try:
        async with database.writes() as session, session.begin():
            session.add(Tag(name=TAGS[0]))
    finally:
        await database.dispose()

    assert await seed(settings, authors=10, books=30) == Seeded(
        authors=10, books=30, tags=len(TAGS) - 1
    )
    assert (await counts(settings))["Tag"] == len(TAGS)
