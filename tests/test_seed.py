from collections.abc import Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from app.books.isbn import normalize_isbn
from app.books.schemas import SEEDED_AUTHOR_NAMES, SEEDED_AUTHORS
from app.commands.seed import AUTHORS, BOOKS, TAGS, Seeded, seed
from app.config import Settings
from app.db.engine import create_database
from app.models import Author, Book, BookTag, Tag
from tests.helpers.imports import CSV, imported
from tests.helpers.serving import serving


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


def made(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without what each request makes anew: ids and times."""
    made_anew = {"id", "created_at", "updated_at"}
    shown = {name: value for name, value in answer.items() if name not in made_anew}
    if "books" in shown:
        shown["books"] = [made(book) for book in shown["books"]]
    return shown


async def test_the_openapi_examples_work_on_a_seeded_database(
    fresh_database: Callable[[], Settings],
) -> None:
    """ "Try it out" on the docs page sends the examples as they are: after `make seed` the
    authors the book example names exist, and the book it describes can be created. The
    answers' examples are what those requests, and the import example, answer."""
    settings = fresh_database()
    await seed(settings)
    async with serving(settings) as (client, database):
        document = (await client.get("/openapi.json")).json()
        schemas = document["components"]["schemas"]
        [book] = schemas["BookCreate"]["examples"]
        assert book["author_ids"] == list(SEEDED_AUTHORS)
        created = await client.post("/books", json=book)
        assert created.status_code == 201, created.text
        names = [author["name"] for author in created.json()["authors"]]
        assert names == list(SEEDED_AUTHOR_NAMES) == ["Wendel Ravensworth", "Rhea Salcedo"]
        assert made(created.json()) == made(schemas["BookRead"]["examples"][0])
        [author] = schemas["AuthorCreate"]["examples"]
        ursula = await client.post("/authors", json=author)
        assert ursula.status_code == 201, ursula.text
        assert made(ursula.json()) == made(schemas["AuthorRead"]["examples"][0])

        upload = document["paths"]["/imports"]["post"]["requestBody"]["content"][CSV]
        job = await imported(
            client, database, settings, upload["example"].encode(), content_type=CSV
        )
        assert job["rows_created"] == 1, job
        detail = await client.get(ursula.headers["location"])
        assert made(detail.json()) == made(schemas["AuthorDetail"]["examples"][0])
        [listed] = (await client.get("/authors", params={"name": author["name"]})).json()["items"]
        assert made(listed) == made(schemas["AuthorListItem"]["examples"][0])
        [tag] = (await client.get("/tags", params={"q": "utopia"})).json()["items"]
        assert made(tag) == made(schemas["TagRead"]["examples"][0])
