"""Exports stream every matching book in the import format, and import back unchanged."""

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient

from app.config import Settings
from app.exports import stream
from tests.helpers.catalogue import ISBNS, create_author, create_book
from tests.helpers.imports import CSV, all_books, imported, served


async def catalogue(client: AsyncClient) -> None:
    le_guin = await create_author(client, "Ursula K. Le Guin")
    zola = await create_author(client, "Émile Zola")
    await create_book(
        client,
        le_guin["id"],
        "The Dispossessed",
        isbn=ISBNS[0],
        published_year=1974,
        tags=["SF", "anarchy"],
        description='Quotes " and, commas\nand lines',
    )
    await create_book(client, le_guin["id"], "A Wizard of Earthsea", published_year=1968)
    await create_book(client, zola["id"], "Germinal", isbn=ISBNS[1], tags=["roman"])


def ndjson_rows(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


async def test_ndjson_export_has_every_book_in_the_import_format(client: AsyncClient) -> None:
    await catalogue(client)
    response = await client.get("/exports/books")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    rows = ndjson_rows(response.text)
    assert [row["title"] for row in rows] == [
        "A Wizard of Earthsea",
        "Germinal",
        "The Dispossessed",
    ]
    assert set(rows[2]) == {
        "title",
        "author",
        "author_id",
        "authors",
        "author_ids",
        "isbn",
        "published_year",
        "description",
        "tags",
        "publisher",
        "language",
        "series",
        "series_position",
    }
    assert rows[2]["authors"] == [rows[2]["author"]]
    assert rows[2]["author_ids"] == [rows[2]["author_id"]]
    assert rows[2]["tags"] == ["anarchy", "sf"]
    assert rows[1]["author"] == "Émile Zola"
    assert rows[0]["isbn"] is None


async def test_filters_and_sort_are_those_of_get_books(client: AsyncClient) -> None:
    await catalogue(client)
    for params in (
        {"tag": "sf"},
        {"q": "the"},
        {"year_from": 1970},
        {"sort": "-published_year"},
        {"isbn": ISBNS[1]},
    ):
        listed = (await client.get("/books", params=params)).json()["items"]
        exported = ndjson_rows((await client.get("/exports/books", params=params)).text)
        assert [row["title"] for row in exported] == [book["title"] for book in listed], params


@pytest.mark.parametrize(
    "params",
    [{"format": "xml"}, {"page": 2}, {"per_page": 5}, {"cursor": ""}, {"sort": "author"}],
)
async def test_bad_parameters_are_a_422(client: AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get("/exports/books", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_csv_export_quotes_cells_and_joins_tags(client: AsyncClient) -> None:
    await catalogue(client)
    response = await client.get("/exports/books", params={"format": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[2]["description"] == 'Quotes " and, commas\nand lines'
    assert rows[2]["tags"] == "anarchy|sf"
    assert rows[0]["isbn"] == rows[0]["tags"] == ""


async def test_batches_continue_where_the_last_one_ended(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "BATCH_SIZE", 2)
    author = await create_author(client)
    titles = [f"Book {n}" for n in range(5)]
    for title in titles:
        await create_book(client, author["id"], title)
    exported = ndjson_rows((await client.get("/exports/books", params={"sort": "-title"})).text)
    assert [row["title"] for row in exported] == titles[::-1]


def shown(books: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            book["title"],
            tuple(author["name"] for author in book["authors"]),
            book["isbn"],
            book["published_year"],
            book["description"],
            tuple(book["tags"]),
            book["publisher"],
            book["language"],
            book["series"],
            book["series_position"],
        )
        for book in books
    )


@pytest.mark.parametrize("file_format", ["ndjson", "csv"])
async def test_export_then_import_into_an_empty_catalogue_reproduces_it(
    fresh_database: Callable[[], Settings], file_format: str
) -> None:
    async with served(fresh_database) as (source, _database, _settings):
        await catalogue(source)
        await create_author(source, "Same Name")
        twin = await create_author(source, "same name")
        await create_book(source, twin["id"], "By a twin", tags=["x"])
        straub = await create_author(source, "Peter Straub")
        king = await create_author(source, "Stephen King")
        response = await source.post(
            "/books",
            json={
                "title": "The Talisman",
                "author_ids": [straub["id"], king["id"], twin["id"]],
                "publisher": "Viking",
                "language": "en-GB",
                "series": "The Talisman",
                "series_position": 1.5,
            },
        )
        assert response.status_code == 201, response.text
        books = await all_books(source)
        tags = (await source.get("/tags")).json()["items"]
        exported = await source.get("/exports/books", params={"format": file_format})
    async with served(fresh_database) as (target, database, settings):
        content_type = CSV if file_format == "csv" else "application/x-ndjson"
        job = await imported(
            target, database, settings, exported.content, content_type=content_type
        )
        assert job["status"] == "succeeded"
        assert job["rows_created"] == len(books) == 5
        assert shown(await all_books(target)) == shown(books)
        copied = (await target.get("/tags")).json()["items"]
        assert [(tag["name"], tag["book_count"]) for tag in copied] == [
            (tag["name"], tag["book_count"]) for tag in tags
        ]


@pytest.mark.parametrize("params", [{"q": ""}, {"tag": ""}, {"isbn": "x" * 40}])
async def test_a_filter_that_get_books_refuses_is_a_422_before_the_export_starts(
    client: AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/exports/books", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"][0] for error in response.json()["errors"]] == ["query"]


FORMULA_LIKE = ["=SUM(A1)", "-5 ways", "+1 more", "@home", "'=quoted already", "'plain"]


async def test_csv_export_opens_safely_in_a_spreadsheet_and_imports_back(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (source, _database, _settings):
        author = await create_author(source, "=Formula Author")
        for title in FORMULA_LIKE:
            await create_book(
                source, author["id"], title, description=title, published_year=-500, tags=["-x"]
            )
        exported = await source.get("/exports/books", params={"format": "csv"})
        books = await all_books(source)
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    for row in rows:
        for name in ("title", "author", "description", "tags"):
            assert row[name][:1] not in ("=", "+", "-", "@"), row
        assert row["published_year"] == "-500"  # a number Folio writes is left as it is
    assert {row["title"] for row in rows} == {
        "'=SUM(A1)",
        "'-5 ways",
        "'+1 more",
        "'@home",
        "''=quoted already",
        "'plain",
    }
    async with served(fresh_database) as (target, database, settings):
        job = await imported(target, database, settings, exported.content, content_type=CSV)
        assert job["rows_created"] == len(FORMULA_LIKE)
        assert shown(await all_books(target)) == shown(books)
