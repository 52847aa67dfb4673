"""How `POST /imports` is asked to read a file: its options, checked before an import is
made, shown on the import, and applied to the file's columns, keys, delimiter and charset."""

from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient

from app.config import Settings
from tests.helpers.catalogue import ISBNS
from tests.helpers.imports import (
    CSV,
    NDJSON,
    all_books,
    errors_of,
    imported,
    ndjson,
    served,
    stored_chunks,
    upload,
)
from tests.helpers.problems import assert_invalid, assert_problem

ROW = ndjson({"title": "Kindred", "author": "Octavia E. Butler"})


@pytest.mark.parametrize(
    "columns",
    [
        "colour:Color",
        "title",
        "title:original_title,",
        "title:a,title:b",
        "title:name,author:Name",
        "x" * 2001,
    ],
)
async def test_a_columns_option_that_is_not_field_column_pairs_is_a_422(
    client: AsyncClient, columns: str
) -> None:
    response = await client.post(
        "/imports", content=ROW, headers={"Content-Type": NDJSON}, params={"columns": columns}
    )
    body = assert_problem(response, 422)
    assert [error["loc"] for error in body["errors"]] == [["query", "columns"]]
    assert "x" * 100 not in response.text  # the input is not echoed whole
    assert (await client.get("/imports")).json()["meta"]["total"] == 0


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"unknown_columns": "drop"}, "unknown_columns"),
        ({"delimiter": "pipe"}, "delimiter"),
        ({"author_separator": " "}, "author_separator"),
        ({"author_separator": "######"}, "author_separator"),
        ({"author_separator": "\x00"}, "author_separator"),
        ({"columns": "title:a\x00b"}, "columns"),
    ],
)
async def test_other_bad_options_are_a_422(
    client: AsyncClient, params: dict[str, str], loc: str
) -> None:
    response = await client.post(
        "/imports", content=ROW, headers={"Content-Type": NDJSON}, params=params
    )
    assert_invalid(response, "/imports", ["query", loc], response.json()["errors"][0]["type"])
    assert (await client.get("/imports")).json()["meta"]["total"] == 0


async def test_the_import_shows_how_its_file_is_read(client: AsyncClient) -> None:
    job = await upload(
        client,
        b"Titel;Autor\nx;y\n",
        "text/csv; charset=latin-1",
        columns="title:Titel, author:Autor",
        unknown_columns="ignore",
        delimiter="semicolon",
        author_separator=",",
    )
    assert {name: job[name] for name in OPTIONS} == {
        "columns": {"title": "Titel", "author": "Autor"},
        "unknown_columns": "ignore",
        "delimiter": "semicolon",
        "author_separator": ",",
        "charset": "iso-8859-1",
        "ignored_columns": None,
        "warnings": 0,
    }
    plain = await upload(client, ROW)
    assert {name: plain[name] for name in OPTIONS} == {
        "columns": None,
        "unknown_columns": "error",
        "delimiter": None,
        "author_separator": None,
        "charset": "utf-8",
        "ignored_columns": None,
        "warnings": 0,
    }
    assert (await client.get(f"/imports/{job['id']}")).json() == job


OPTIONS = (
    "columns",
    "unknown_columns",
    "delimiter",
    "author_separator",
    "charset",
    "ignored_columns",
    "warnings",
)


async def failed(
    fresh_database: Callable[[], Settings], body: bytes, **kwargs: Any
) -> dict[str, Any]:
    """The import of a file that fails as a whole, checked to have applied nothing."""
    async with served(fresh_database) as (client, database, settings):
        job = await imported(client, database, settings, body, **kwargs)
        assert job["status"] == "failed", job
        assert job["rows_processed"] == 0
        assert await all_books(client) == []
        assert await stored_chunks(database, job["id"]) == 0
        events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
        assert events[-1]["type"] == "failed"
        assert events[-1]["detail"] == job["error"]
        error: dict[str, Any] = job["error"]
        assert error["status"] == 422
        assert error["instance"] == f"/imports/{job['id']}"
        return error


@pytest.mark.parametrize(
    ("body", "params", "line", "says"),
    [
        (b"title,author\nx,y\n", {"columns": "authors:Writers"}, 1, "no column 'Writers'"),
        (b"title,author,colour\nx,y,z\n", {}, 1, "Unknown columns 'colour'"),
        (b"title,author\nx,y\n", {"delimiter": "tab"}, 1, "delimiter=tab splits nothing"),
        (b"\n\ntitle\nx\n", {}, 3, "one column"),
        (b"title,author\nok,y\n\xe9,y\n", {}, 3, "charset=windows-1252"),
        (b"title,author\r\nok,y\r\n\x81,y\r\n", {"charset": "cp1252"}, 3, "not windows-1252"),
        (b"title,author\n" + b"x,y\n" * 3 + b'"never,y\n', {}, 5, "never ends"),
        (b"", {}, None, "empty"),
    ],
)
async def test_a_file_that_cannot_be_read_fails_naming_the_cause_and_line(
    fresh_database: Callable[[], Settings],
    body: bytes,
    params: dict[str, str],
    line: int | None,
    says: str,
) -> None:
    charset = params.pop("charset", None)
    content_type = CSV if charset is None else f"{CSV}; charset={charset}"
    error = await failed(fresh_database, body, content_type=content_type, **params)
    assert says in error["detail"]
    assert error.get("line") == line


async def test_undecodable_bytes_fail_the_import_at_once(client: AsyncClient) -> None:
    job = await upload(client, ndjson({"title": "a", "author": "b"}) + b'{"title": "\xff"}\n')
    assert job["status"] == "failed"
    assert job["finished_at"] is not None
    assert job["error"]["line"] == 2
    assert "charset" in job["error"]["detail"]
    events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
    assert [event["type"] for event in events] == ["queued", "failed"]


@pytest.mark.parametrize(
    "content_type",
    ["text/csv; charset=shift_jis", "application/x-ndjson; charset=utf-32", 'text/csv; charset=""'],
)
async def test_a_charset_folio_does_not_read_is_a_415(
    client: AsyncClient, content_type: str
) -> None:
    response = await client.post("/imports", content=ROW, headers={"Content-Type": content_type})
    body = assert_problem(response, 415)
    assert "utf-8" in body["detail"]
    assert (await client.get("/imports")).json()["meta"]["total"] == 0


async def test_other_content_type_parameters_are_not_looked_at(client: AsyncClient) -> None:
    job = await upload(client, b"title,author\nx,y\n", "text/csv; header=present; charset=UTF-8")
    assert (job["format"], job["charset"]) == ("csv", "utf-8")


async def test_columns_map_fields_and_unknown_columns_are_skipped_and_listed(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (
            b"Name;Writer;title;Year;Shelf\n"
            b"Kindred;Octavia E. Butler;ignored;1979.0;A1\n"
            b"Dawn;Octavia E. Butler;;1987;B2\n"
        )
        job = await imported(
            client,
            database,
            settings,
            body,
            content_type=CSV,
            columns="title:name,author:WRITER,published_year:Year",
            unknown_columns="ignore",
        )
        assert job["status"] == "succeeded", job
        assert job["rows_created"] == 2
        assert job["delimiter"] == "semicolon"  # found from the header, then shown
        assert job["ignored_columns"] == ["title", "Shelf"]
        books = {book["title"]: book for book in await all_books(client)}
        assert books["Kindred"]["published_year"] == 1979
        assert books["Dawn"]["author"]["name"] == "Octavia E. Butler"


async def test_ndjson_keys_are_mapped_and_unknown_ones_fail_their_row_or_are_skipped(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = ndjson(
            {"name": "Kindred", "by": ["Octavia E. Butler"], "colour": "red", "isbn": ISBNS[0]},
            {"name": "Dawn", "author": "Octavia E. Butler", "isbn": ISBNS[1]},
            {"name": "No author"},
        )
        columns = "title:name,authors:by"
        strict = await imported(client, database, settings, body, columns=columns)
        assert (strict["rows_created"], strict["rows_failed"]) == (1, 2)
        errors = {error["line"]: error for error in await errors_of(client, strict["id"])}
        assert (errors[1]["loc"], errors[1]["type"]) == ("colour", "extra_forbidden")
        assert (errors[3]["loc"], errors[3]["type"]) == ("author", "missing")
        assert strict["ignored_columns"] is None
        lenient = await imported(
            client,
            database,
            settings,
            body,
            columns=columns,
            unknown_columns="ignore",
            on_duplicate="skip",
        )
        counts = (lenient["rows_created"], lenient["rows_skipped"], lenient["rows_failed"])
        assert counts == (1, 1, 1)
        assert sorted(book["title"] for book in await all_books(client)) == ["Dawn", "Kindred"]


@pytest.mark.parametrize(
    ("body", "params"),
    [
        (b'title,authors\nT,"Ann|Bob"\n', {}),
        (b'title,author\nT,"Ann, Bob, ann"\n', {"author_separator": ","}),
        (b'title,authors\nT,"Ann ; Bob"\n', {"author_separator": ";"}),
        (ndjson({"title": "T", "authors": ["Ann", "Bob"]}), {}),
    ],
)
async def test_several_authors_in_a_cell_become_the_books_authors_in_order(
    fresh_database: Callable[[], Settings], body: bytes, params: dict[str, str]
) -> None:
    async with served(fresh_database) as (client, database, settings):
        content_type = NDJSON if body.startswith(b"{") else CSV
        job = await imported(client, database, settings, body, content_type=content_type, **params)
        assert job["rows_created"] == 1, job
        [book] = await all_books(client)
        assert [author["name"] for author in book["authors"]] == ["Ann", "Bob"]
        assert book["author"]["name"] == "Ann"


async def test_author_ids_are_read_in_order(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        first = (await client.post("/authors", json={"name": "First"})).json()
        second = (await client.post("/authors", json={"name": "Second"})).json()
        body = f"title,author_ids\nT,{first['id']}|{second['id']}\nBad,nope\n".encode()
        job = await imported(client, database, settings, body, content_type=CSV)
        assert (job["rows_created"], job["rows_failed"]) == (1, 1)
        [error] = await errors_of(client, job["id"])
        assert (error["line"], error["loc"]) == (3, "author_ids.0")
        [book] = await all_books(client)
        assert [author["id"] for author in book["authors"]] == [first["id"], second["id"]]
        assert book["author_id"] == first["id"]


async def test_new_fields_are_checked_by_the_rules_of_a_book(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = (
            "title,author,publisher,language,series,series_position\n"
            "A,X,Gollancz,en,Earthsea,1\n"
            "B,X,,,Earthsea,-1\n"
            "C,X,,,,first\n"
            f"D,X,{'p' * 201},,,\n"
        ).encode()
        job = await imported(client, database, settings, body, content_type=CSV)
        assert (job["rows_created"], job["rows_failed"]) == (1, 3)
        errors = {error["line"]: error["loc"] for error in await errors_of(client, job["id"])}
        assert errors == {3: "series_position", 4: "series_position", 5: "publisher"}


async def test_nul_in_a_files_names_is_spelled_out(fresh_database: Callable[[], Settings]) -> None:
    async with served(fresh_database) as (client, database, settings):
        body = b'{"ti\\u0000tle": "x", "title": "T", "author": "A"}\n'
        job = await imported(client, database, settings, body)
        assert (job["status"], job["rows_failed"]) == ("succeeded", 1)
        [error] = await errors_of(client, job["id"])
        assert error["loc"] == "ti\\x00tle"
        csv_body = b"title,author,a\x00b\nT,A,x\n"
        lenient = await imported(
            client, database, settings, csv_body, content_type=CSV, unknown_columns="ignore"
        )
        assert (lenient["rows_created"], lenient["ignored_columns"]) == (1, ["a\\x00b"])
