"""Files as real catalogues come: other encodings, delimiters and line ends, their own column
names, and the ISBNs spreadsheets have mangled (tests/imports/files/ holds them)."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from app.config import Settings
from app.imports.runner import ImportRunner
from tests.helpers.imports import (
    CSV,
    all_books,
    errors_of,
    imported,
    run_all,
    served,
    upload,
    warnings_of,
)

FILES = Path(__file__).parent / "files"
GOODBOOKS = {
    "columns": "title:original_title,authors:authors,published_year:original_publication_year,"
    "isbn:isbn",
    "unknown_columns": "ignore",
    "author_separator": ",",
}


async def books_by_title(client: AsyncClient) -> dict[str, dict[str, Any]]:
    return {book["title"]: book for book in await all_books(client)}


async def test_latin1_with_semicolons_and_crlf(fresh_database: Callable[[], Settings]) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (FILES / "latin1-semicolon-crlf.csv").read_bytes()
        job = await imported(
            client, database, settings, body, content_type=f"{CSV}; charset=ISO-8859-1"
        )
        assert (job["status"], job["rows_created"], job["delimiter"]) == (
            "succeeded",
            3,
            "semicolon",
        )
        assert job["charset"] == "iso-8859-1"
        books = await books_by_title(client)
        assert books["L'Assommoir"]["author"]["name"] == "Émile Zola"
        assert books["L'Assommoir"]["description"] == "Gervaise; Coupeau; Lantier"
        assert books["Die Blechtrommel"]["author"]["name"] == "Günter Grass"
        assert books["Les Misérables"]["published_year"] == 1862
        assert books["Les Misérables"]["description"] == "Tome 1\r\nFantine"


async def test_windows_1252_with_curly_quotes_and_the_euro(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (FILES / "windows-1252-quotes.csv").read_bytes()
        job = await imported(
            client, database, settings, body, content_type=f"{CSV}; charset=cp1252"
        )
        assert job["rows_created"] == 2, job
        books = await books_by_title(client)
        book = books["“The Price” – 10 €"]
        assert book["author"]["name"] == "Anaïs Nin"
        assert book["description"] == "‘Quoted’ and priced at €10"
        assert books["Café Stories"]["author"]["name"] == "Renée Vivien"
        # The same bytes sent as UTF-8 (no charset) fail on the first line that is not.
        unsent = await imported(client, database, settings, body, content_type=CSV)
        assert unsent["status"] == "failed"
        assert unsent["error"]["line"] == 2
        assert "charset=" in unsent["error"]["detail"]


async def test_utf16_with_its_byte_order_mark_and_tabs(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (FILES / "utf16-bom.csv").read_bytes()
        job = await imported(
            client, database, settings, body, content_type=f"{CSV}; charset=utf-16"
        )
        assert (job["rows_created"], job["delimiter"]) == (2, "tab"), job
        books = await books_by_title(client)
        assert books["ノルウェイの森"]["author"]["name"] == "村上春樹"
        assert books["Der Steppenwolf"]["published_year"] == 1927


async def test_cr_only_line_ends_count_lines_and_resume_by_batch(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database, import_batch_rows=1) as (client, database, settings):
        body = (FILES / "cr-only.csv").read_bytes() + b"Bad,,1999,\r"
        job = await imported(client, database, settings, body, content_type=CSV)
        assert (job["rows_created"], job["rows_failed"]) == (3, 1), job
        [error] = await errors_of(client, job["id"])
        assert (error["line"], error["loc"]) == (6, "author")
        books = await books_by_title(client)
        assert books["Inside Macintosh"]["description"] == "Volume I\rVolume II"
        events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
        progress = [event["detail"]["line"] for event in events if event["type"] == "progress"]
        assert progress == [2, 4, 5, 6]


async def test_goodbooks_columns_authors_and_lost_isbn_zeros(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (FILES / "goodbooks-sample.csv").read_bytes()
        job = await imported(client, database, settings, body, content_type=CSV, **GOODBOOKS)
        assert job["status"] == "succeeded", job
        assert (job["rows_created"], job["rows_failed"]) == (5, 2)
        assert job["columns"] == {
            "title": "original_title",
            "authors": "authors",
            "published_year": "original_publication_year",
            "isbn": "isbn",
        }
        assert job["ignored_columns"][:5] == [
            "book_id",
            "goodreads_book_id",
            "best_book_id",
            "work_id",
            "books_count",
        ]
        assert {"title", "isbn13", "language_code", "small_image_url"} <= set(
            job["ignored_columns"]
        )
        assert "isbn" not in job["ignored_columns"]
        errors = {error["line"]: error["loc"] for error in await errors_of(client, job["id"])}
        assert errors == {7: "title", 8: "isbn"}  # Jane Eyre has no original title
        books = await books_by_title(client)
        assert books["The Hunger Games"]["isbn"] == "9780439023481"
        assert books["The Hunger Games"]["published_year"] == 2008
        talisman = books["The Talisman"]
        assert [author["name"] for author in talisman["authors"]] == [
            "Stephen King",
            "Peter Straub",
        ]
        assert talisman["author"]["name"] == "Stephen King"  # the first, as v1 reads it
        assert books["Ἰλιάς"]["published_year"] == -750
        assert books["Harry Potter and the Philosopher's Stone"]["author"]["name"] == "J.K. Rowling"
        warnings = await warnings_of(client, job["id"])
        assert job["warnings"] == len(warnings) == 5
        assert [(warning["line"], warning["value"]) for warning in warnings] == [
            (2, "439023483"),
            (3, "439554934"),
            (4, "316015849"),
            (5, "345444884"),
            (6, "140275363"),
        ]
        assert {(warning["loc"], warning["type"]) for warning in warnings} == {
            ("isbn", "isbn_leading_zeros")
        }
        assert "0439023483" in warnings[0]["msg"]


async def test_a_spreadsheets_text_guards(fresh_database: Callable[[], Settings]) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (FILES / "spreadsheet-guards.csv").read_bytes()
        job = await imported(client, database, settings, body, content_type=CSV)
        assert job["rows_created"] == 4, job
        books = await books_by_title(client)
        assert books["Mockingjay"]["isbn"] == "9780439023511"
        assert books["Mockingjay"]["published_year"] == 2010
        assert books["Dune"]["isbn"] == "9780441172719"
        assert books["Catching Fire"]["isbn"] == "9780439023498"
        assert books["=SUM(A1)"]["author"]["name"] == "Ann Spreadsheet"
        # Only the lost zeros are a repair; a guard taken off is not.
        warnings = await warnings_of(client, job["id"])
        assert [(warning["line"], warning["value"]) for warning in warnings] == [
            (3, '="439023491"')
        ]


async def test_a_tab_separated_file(fresh_database: Callable[[], Settings]) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (FILES / "tab-separated.tsv").read_bytes()
        job = await imported(client, database, settings, body, content_type=CSV)
        assert (job["rows_created"], job["delimiter"]) == (2, "tab"), job
        books = await books_by_title(client)
        assert books["Moby-Dick"]["tags"] == ["sea", "whales"]
        assert books["Moby-Dick"]["description"] == "Call me Ishmael.\tA tab, and a comma"


def lost_zero_isbns(count: int) -> list[str]:
    """Nine-digit numbers that are ISBN-10s once a leading zero is put back."""
    found: list[str] = []
    number = 100_000_000
    while len(found) < count:
        digits = f"{number:010d}"
        if sum((10 - i) * int(digit) for i, digit in enumerate(digits)) % 11 == 0:
            found.append(str(number))
        number += 1
    return found


async def test_a_resumed_import_applies_each_row_and_warning_once(
    fresh_database: Callable[[], Settings],
) -> None:
    rows = 200
    isbns = lost_zero_isbns(rows)
    lines = ["title;author;isbn;description"] + [
        f'Livre {n} à 5 €;Zoë {n % 7};{isbns[n]};"ligne 1\rligne 2"' for n in range(rows)
    ]
    body = ("\r".join(lines) + "\r").encode("cp1252")
    async with served(fresh_database, import_batch_rows=3) as (client, database, settings):
        job = await upload(client, body, f"{CSV}; charset=windows-1252")
        running = asyncio.create_task(ImportRunner(database, settings).run_next())
        while (await client.get(f"/imports/{job['id']}")).json()["rows_processed"] < 30:
            assert not running.done()
            await asyncio.sleep(0.01)
        running.cancel()  # a clean stop: the open batch is rolled back, the lease given back
        with pytest.raises(asyncio.CancelledError):
            await running
        stopped = (await client.get(f"/imports/{job['id']}")).json()
        assert stopped["status"] == "queued"
        assert 30 <= stopped["rows_processed"] < rows
        await run_all(database, settings)
        done = (await client.get(f"/imports/{job['id']}")).json()
        assert (done["status"], done["rows_created"], done["warnings"]) == ("succeeded", rows, rows)
        events = (await client.get(f"/imports/{job['id']}/events", params={"per_page": 100})).json()
        assert "resumed" in [event["type"] for event in events["items"]]
        books = await all_books(client)
        assert sorted(book["title"] for book in books) == sorted(
            f"Livre {n} à 5 €" for n in range(rows)
        )
        assert {book["description"] for book in books} == {"ligne 1\rligne 2"}
        page = await client.get(f"/imports/{job['id']}/warnings", params={"per_page": 100})
        assert page.json()["meta"]["total"] == rows
        # Each row takes two lines (its cell has a CR in it): one warning for each, in order.
        assert [warning["line"] for warning in page.json()["items"]] == list(range(2, 202, 2))
