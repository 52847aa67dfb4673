"""Imported books with several authors, by name or by id, and books without an ISBN found again
by their title, authors and year."""

from collections.abc import Callable

import pytest

from app.config import Settings
from tests.helpers.catalogue import create_author
from tests.helpers.imports import CSV, all_books, errors_of, imported, ndjson, served


def names(book: dict[str, object]) -> list[str]:
    authors = book["authors"]
    assert isinstance(authors, list)
    return [author["name"] for author in authors]


async def test_rows_name_several_authors_by_name_or_id_in_order(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        straub = await create_author(client, "Peter Straub")
        body = ndjson(
            {"title": "The Talisman", "authors": ["Stephen King", "peter straub"]},
            {"title": "Black House", "author_ids": [straub["id"]], "authors": ["ignored"]},
            # An id that does not exist here: the name at its place stands in.
            {
                "title": "Imagined",
                "author_ids": [straub["id"], "0190f6b0-0000-7000-8000-000000000000"],
                "authors": ["Peter Straub", "Owen King"],
            },
            # A name twice in one row counts once, at its first place.
            {"title": "Twice", "authors": ["Stephen King", "Owen King", "stephen king"]},
        )
        job = await imported(client, database, settings, body)
        assert (job["rows_created"], job["rows_failed"]) == (4, 0), await errors_of(
            client, job["id"]
        )
        books = {book["title"]: book for book in await all_books(client)}
        assert names(books["The Talisman"]) == ["Stephen King", "Peter Straub"]
        assert names(books["Black House"]) == ["Peter Straub"]
        assert names(books["Imagined"]) == ["Peter Straub", "Owen King"]
        assert names(books["Twice"]) == ["Stephen King", "Owen King"]
        assert books["The Talisman"]["authors"][1]["id"] == straub["id"]
        authors = (await client.get("/authors", params={"sort": "name"})).json()["items"]
        assert [(a["name"], a["book_count"]) for a in authors] == [
            ("Owen King", 2),
            ("Peter Straub", 3),
            ("Stephen King", 2),
        ]


async def test_a_csv_cell_of_several_authors_and_a_shared_name_that_is_an_error(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        await create_author(client, "Same")
        await create_author(client, "same")
        body = (
            b"title,authors,tags\n"
            b"The Talisman,Stephen King|Peter Straub,horror\n"
            b"Ambiguous,Stephen King|Same,\n"
        )
        job = await imported(client, database, settings, body, content_type=CSV)
        assert (job["rows_created"], job["rows_failed"]) == (1, 1)
        [error] = await errors_of(client, job["id"])
        assert (error["line"], error["loc"], error["type"]) == (3, "authors", "ambiguous_author")
        [book] = await all_books(client)
        assert names(book) == ["Stephen King", "Peter Straub"]


@pytest.mark.parametrize("file_format", ["ndjson", "csv"])
async def test_loading_a_file_without_isbns_twice_with_skip_creates_nothing_new(
    fresh_database: Callable[[], Settings], file_format: str
) -> None:
    rows: list[tuple[str, list[str], int | None]] = [
        ("Les Misérables", ["Victor Hugo"], 1862),
        ("Notre-Dame de Paris", ["Victor Hugo"], 1831),
        ("The Talisman", ["Stephen King", "Peter Straub"], None),
    ]
    if file_format == "ndjson":
        objects = [{"title": t, "authors": a, "published_year": y} for t, a, y in rows]
        body, content_type = ndjson(*objects), "application/x-ndjson"
    else:
        lines = ["title,authors,published_year"]
        lines += [f"{t},{'|'.join(a)},{'' if y is None else y}" for t, a, y in rows]
        body, content_type = ("\n".join(lines) + "\n").encode(), CSV
    async with served(fresh_database) as (client, database, settings):
        first = await imported(client, database, settings, body, content_type=content_type)
        assert first["rows_created"] == 3
        again = await imported(
            client, database, settings, body, content_type=content_type, on_duplicate="skip"
        )
        assert (again["rows_created"], again["rows_skipped"]) == (0, 3)
        assert len(await all_books(client)) == 3


async def test_an_isbn_less_book_is_the_same_only_with_the_same_folded_title_authors_and_year(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        first = ndjson(
            {"title": "Émile", "authors": ["Jean-Jacques Rousseau"], "published_year": 1762}
        )
        await imported(client, database, settings, first)
        again = ndjson(
            # The same book: case, accents and punctuation are folded away.
            {"title": "EMILE", "authors": ["jean jacques rousseau"], "published_year": 1762},
            # Not the same: another year, another author, authors in another order.
            {"title": "Émile", "authors": ["Jean-Jacques Rousseau"], "published_year": 1763},
            {"title": "Émile", "authors": ["Sophie"], "published_year": 1762},
            {"title": "Two", "authors": ["A", "B"]},
            {"title": "Two", "authors": ["B", "A"]},
            # Earlier in the same file.
            {"title": "Two", "authors": ["A", "B"]},
        )
        job = await imported(client, database, settings, again)
        errors = await errors_of(client, job["id"])
        assert [(error["line"], error["type"]) for error in errors] == [
            (1, "duplicate_book"),
            (6, "duplicate_book"),
        ]
        assert job["rows_created"] == 4
        updated = await imported(
            client,
            database,
            settings,
            ndjson(
                {
                    "title": "Emile!",
                    "authors": ["Jean-Jacques Rousseau"],
                    "published_year": 1762,
                    "description": "Or, on education.",
                }
            ),
            on_duplicate="update",
        )
        assert updated["rows_updated"] == 1
        books = [book for book in await all_books(client) if book["published_year"] == 1762]
        assert sorted(book["description"] or "" for book in books) == ["", "Or, on education."]
