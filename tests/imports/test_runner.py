"""The runner applies rows by the book rules, reports faulty rows by line, and ends imports."""

from collections.abc import Callable

import pytest

from app.config import Settings
from app.imports.formats.ndjson import MAX_KEY_ERRORS
from tests.helpers.catalogue import ISBNS, NEXT_YEAR
from tests.helpers.imports import (
    CSV,
    all_books,
    errors_of,
    imported,
    ndjson,
    served,
    stored_chunks,
)


async def test_ndjson_rows_become_books_with_authors_by_name_and_tags(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = ndjson(
            {"title": "A", "author": "Ann Leckie", "isbn": ISBNS[0], "tags": ["SF", "space"]},
            {"title": "B", "author": "ann leckie", "published_year": 2013},
            {"title": "C", "author": "Émile Zola", "description": "Roman", "tags": ["sf"]},
        )
        job = await imported(client, database, settings, body)
        assert job["status"] == "succeeded"
        assert job["rows_total"] == job["rows_processed"] == job["rows_created"] == 3
        assert job["rows_failed"] == job["rows_updated"] == job["rows_skipped"] == 0
        assert job["started_at"] is not None
        assert job["finished_at"] is not None
        books = {book["title"]: book for book in await all_books(client)}
        assert books["A"]["author"]["name"] == books["B"]["author"]["name"] == "Ann Leckie"
        assert books["A"]["author_id"] == books["B"]["author_id"]
        assert books["A"]["tags"] == ["sf", "space"]
        assert books["C"]["tags"] == ["sf"]
        assert books["A"]["isbn"] == ISBNS[0]
        assert books["B"]["published_year"] == 2013
        authors = (await client.get("/authors")).json()
        assert authors["meta"]["total"] == 2
        tags = (await client.get("/tags")).json()
        assert {tag["name"]: tag["book_count"] for tag in tags["items"]} == {"sf": 2, "space": 1}
        events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
        assert [event["type"] for event in events] == ["queued", "started", "progress", "succeeded"]
        assert events[-1]["detail"]["rows_created"] == 3
        assert await stored_chunks(database, job["id"]) == 0  # the upload goes when it ends


async def test_bad_rows_are_errors_by_line_and_the_rest_goes_on(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (
            "title,author,isbn,published_year,tags\n"
            "Good,Ann,,2008.0,a|b\n"
            ",Ann,,,\n"
            '"Two\nlines",Ann,0306406152,,\n'
            f"Future,Ann,,{NEXT_YEAR + 1},\n"
            "Half,Ann,,2008.5,\n"
            "\n"
            "Short,Ann\n"
            "Lost zero,Ann,306406151,,\n"
        ).encode()
        job = await imported(client, database, settings, body, content_type=CSV)
        assert job["status"] == "succeeded"
        assert job["rows_total"] == job["rows_processed"] == 7
        assert (job["rows_created"], job["rows_failed"]) == (2, 5)
        errors = await errors_of(client, job["id"])
        by_line = {error["line"]: error for error in errors}
        assert sorted(by_line) == [3, 6, 7, 9, 10]
        assert by_line[3]["loc"] == "title"
        assert by_line[6]["loc"] == "published_year"
        assert by_line[7]["loc"] == "published_year"
        assert by_line[9]["type"] == "csv_cells"
        # Nine digits that zero-padding does not make an ISBN-10: an error, not a repair.
        assert by_line[10]["loc"] == "isbn"
        assert by_line[10]["type"] == "value_error"
        assert all(set(error) == {"line", "loc", "msg", "type"} for error in errors)
        titles = {book["title"]: book for book in await all_books(client)}
        assert titles["Good"]["published_year"] == 2008
        assert titles["Good"]["tags"] == ["a", "b"]
        assert titles["Two\nlines"]["isbn"] == "9780306406157"


@pytest.mark.parametrize(
    ("on_duplicate", "created", "updated", "skipped", "failed", "title"),
    [
        ("fail", 1, 0, 0, 2, "Old"),
        ("skip", 1, 0, 2, 0, "Old"),
        ("update", 1, 2, 0, 0, "Newest"),
    ],
)
async def test_duplicate_isbns_in_the_catalogue_and_the_file(
    fresh_database: Callable[[], Settings],
    on_duplicate: str,
    created: int,
    updated: int,
    skipped: int,
    failed: int,
    title: str,
) -> None:
    async with served(fresh_database) as (client, database, settings):
        await imported(
            client, database, settings, ndjson({"title": "Old", "author": "A", "isbn": ISBNS[0]})
        )
        body = ndjson(
            {"title": "New", "author": "B", "isbn": ISBNS[0], "tags": ["x"]},
            {"title": "Other", "author": "B", "isbn": ISBNS[1]},
            {"title": "Newest", "author": "B", "isbn": ISBNS[0].replace("978", "978-")},
        )
        job = await imported(client, database, settings, body, on_duplicate=on_duplicate)
        counts = (job["rows_created"], job["rows_updated"], job["rows_skipped"])
        assert counts + (job["rows_failed"],) == (created, updated, skipped, failed)
        books = {book["isbn"]: book for book in await all_books(client)}
        assert len(books) == 2
        assert books[ISBNS[0]]["title"] == title
        if on_duplicate == "update":
            assert books[ISBNS[0]]["author"]["name"] == "B"
            assert books[ISBNS[0]]["tags"] == []
            assert books[ISBNS[0]]["version"] == 2


async def test_author_id_wins_when_it_exists_and_a_shared_name_is_an_error(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        first = (await client.post("/authors", json={"name": "Twin"})).json()
        await client.post("/authors", json={"name": "twin"})
        other = (await client.post("/authors", json={"name": "Other"})).json()
        body = ndjson(
            {"title": "By id", "author_id": other["id"], "author": "Twin"},
            {"title": "By name", "author": "TWIN"},
            {"title": "Missing", "author_id": "0190f6b0-0000-7000-8000-000000000000"},
            {
                "title": "Fallback",
                "author_id": "0190f6b0-0000-7000-8000-000000000000",
                "author": "New",
            },
            {"title": "Neither"},
            {"title": "Extra", "author": "Other", "colour": "red"},
            ["not", "an", "object"],
        )
        job = await imported(client, database, settings, body + b"{not json\n")
        assert (job["rows_created"], job["rows_failed"]) == (2, 6)
        errors = {
            error["line"]: (error["loc"], error["type"])
            for error in await errors_of(client, job["id"])
        }
        assert errors == {
            2: ("author", "ambiguous_author"),
            3: ("author_id", "missing_reference"),
            5: ("author", "missing"),
            6: ("colour", "extra_forbidden"),
            7: (None, "object_type"),
            8: (None, "json_invalid"),
        }
        books = {book["title"]: book for book in await all_books(client)}
        assert books["By id"]["author_id"] == other["id"] != first["id"]
        assert books["Fallback"]["author"]["name"] == "New"


async def test_dry_run_checks_rows_and_writes_no_book(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = ndjson({"title": "A", "author": "X", "tags": ["t"]}, {"author": "X"})
        job = await imported(client, database, settings, body, dry_run="true")
        assert job["dry_run"] is True
        assert job["status"] == "succeeded"
        assert (job["rows_created"], job["rows_failed"]) == (1, 1)
        assert await all_books(client) == []
        assert (await client.get("/authors")).json()["meta"]["total"] == 0
        assert (await client.get("/tags")).json()["meta"]["total"] == 0


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"name,author\nx,y\n", "Unknown columns 'name'"),
        (b"author,isbn\nx,y\n", "no `title` column"),
        (b"title,author\n\xff\xfe,y\n", "not utf-8: line 2"),
        (b'title,author\n"never closed,y\n', "never ends"),
        (b"", "empty"),
    ],
)
async def test_a_file_that_cannot_be_read_fails_with_a_problem(
    fresh_database: Callable[[], Settings], body: bytes, detail: str
) -> None:
    async with served(fresh_database) as (client, database, settings):
        job = await imported(client, database, settings, body, content_type=CSV)
        assert job["status"] == "failed"
        assert job["finished_at"] is not None
        assert job["error"]["status"] == 422
        assert detail in job["error"]["detail"]
        assert job["error"]["instance"] == f"/imports/{job['id']}"
        assert job["rows_processed"] == 0
        assert await all_books(client) == []
        events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
        assert events[-1]["type"] == "failed"


async def test_an_import_error_quotes_a_bounded_part_of_the_file(
    fresh_database: Callable[[], Settings],
) -> None:
    # Ten files whose headers name 990 unknown columns, 100 characters each: about 1 MB.
    columns = ",".join(f"{n:05}{'c' * 95}" for n in range(990))
    body = f"title,author,{columns}\nx,y\n".encode()
    async with served(fresh_database) as (client, database, settings):
        for _ in range(10):
            job = await imported(client, database, settings, body, content_type=CSV)
            assert job["status"] == "failed"
            detail = job["error"]["detail"]
            assert len(detail) < 1_000, detail
            assert "and 980 more" in detail
            assert "'00000cccc" in detail
        listed = await client.get("/imports", params={"per_page": 100})
        assert listed.status_code == 200
        assert len(listed.json()["items"]) == 10
        assert len(listed.content) < 30_000


async def test_a_made_up_key_of_any_length_is_an_error_for_its_row(
    fresh_database: Callable[[], Settings],
) -> None:
    # Longer than the `loc` column holds: PostgreSQL refused it, and failed the import.
    async with served(fresh_database) as (client, database, settings):
        row = {"title": "T", "author": "A", "k" * 300: 1, **{f"u{n}": n for n in range(50)}}
        job = await imported(client, database, settings, ndjson(row))
        assert job["status"] == "succeeded"
        assert job["rows_failed"] == 1
        errors = await errors_of(client, job["id"])
        assert len(errors) == MAX_KEY_ERRORS
        assert all(len(error["loc"]) <= 50 for error in errors), errors


async def test_batches_commit_one_by_one_and_report_progress(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database, import_batch_rows=2) as (client, database, settings):
        rows = [{"title": f"T{n}", "author": "A"} for n in range(5)]
        job = await imported(client, database, settings, ndjson(*rows))
        events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
        progress = [event["detail"] for event in events if event["type"] == "progress"]
        assert [detail["rows_processed"] for detail in progress] == [2, 4, 5]
        assert [detail["line"] for detail in progress] == [2, 4, 5]
        assert job["rows_created"] == 5
