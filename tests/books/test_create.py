"""POST /books and GET /books/{id}."""

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import (
    MISSING_ID,
    NEXT_YEAR,
    create_author,
    create_book,
    etag_of,
    get_book,
    list_books,
    tag_counts,
)
from tests.helpers.problems import assert_problem, error_locs


async def test_create_returns_the_book_with_location_and_etag(client: AsyncClient) -> None:
    author = await create_author(client, "Ursula K. Le Guin")
    response = await client.post(
        "/books",
        json={
            "title": " The Dispossessed ",
            "isbn": "0-06-051275-X",
            "published_year": 1974,
            "description": " An ambiguous utopia. ",
            "author_id": author["id"],
            "tags": ["SF", "sf", " Utopia "],
        },
    )
    assert response.status_code == 201, response.text
    book = response.json()
    assert response.headers["location"] == f"/books/{book['id']}"
    assert re.fullmatch(r'"[^"]+"', response.headers["etag"])  # strong: no W/ prefix
    assert await etag_of(client, book["id"]) == response.headers["etag"]
    assert uuid.UUID(book["id"]).version == 7
    assert {
        key: value for key, value in book.items() if key not in {"id", "created_at", "updated_at"}
    } == {
        "title": "The Dispossessed",
        "isbn": "9780060512750",
        "published_year": 1974,
        "description": "An ambiguous utopia.",
        "author_id": author["id"],
        "author": {"id": author["id"], "name": "Ursula K. Le Guin"},
        "authors": [{"id": author["id"], "name": "Ursula K. Le Guin"}],
        "tags": ["sf", "utopia"],
        "publisher": None,
        "language": None,
        "series": None,
        "series_position": None,
        "version": 1,
    }
    for stamp in ("created_at", "updated_at"):
        assert datetime.fromisoformat(book[stamp]).utcoffset() == timedelta(0)
    assert await get_book(client, book["id"]) == book


async def test_optional_fields_default_to_null_and_no_tags(client: AsyncClient) -> None:
    author = await create_author(client)
    book = await create_book(client, author["id"], "Untitled Draft")
    assert (book["isbn"], book["published_year"], book["description"], book["tags"]) == (
        None,
        None,
        None,
        [],
    )


async def test_new_tags_are_created(client: AsyncClient) -> None:
    author = await create_author(client)
    await create_book(client, author["id"], tags=["SF", "sf", " Utopia "])
    assert await tag_counts(client) == {"sf": 1, "utopia": 1}


async def test_existing_tags_are_reused(client: AsyncClient) -> None:
    author = await create_author(client)
    await create_book(client, author["id"], "The Dispossessed", tags=["sf", "utopia"])
    before = (await client.get("/tags")).json()["items"]
    book = await create_book(client, author["id"], "The Lathe of Heaven", tags=["SF", " Dreams "])
    assert book["tags"] == ["dreams", "sf"]
    after = (await client.get("/tags")).json()
    assert after["meta"]["total"] == 3
    assert {tag["name"]: tag["book_count"] for tag in after["items"]} == {
        "dreams": 1,
        "sf": 2,
        "utopia": 1,
    }
    sf_ids = {tag["id"] for tag in [*before, *after["items"]] if tag["name"] == "sf"}
    assert len(sf_ids) == 1


async def test_unknown_author_is_a_422_at_author_id_and_stores_nothing(
    client: AsyncClient,
) -> None:
    response = await client.post(
        "/books", json={"title": "Orphan", "author_id": MISSING_ID, "tags": ["lonely"]}
    )
    assert error_locs(response) == [["body", "author_id"]]
    assert (await list_books(client))["meta"]["total"] == 0
    assert await tag_counts(client) == {}


@pytest.mark.parametrize(
    "spelling",
    ["0-06-051275-X", "006051275x", "0 06 051275 X", "9780060512750", "978-0-06-051275-0"],
)
async def test_duplicate_isbn_in_any_spelling_is_a_409(client: AsyncClient, spelling: str) -> None:
    author = await create_author(client)
    await create_book(client, author["id"], "The Dispossessed", isbn="978 0 06 051275 0")
    response = await client.post(
        "/books", json={"title": "Copy", "author_id": author["id"], "isbn": spelling}
    )
    assert_problem(response, 409)
    assert await tag_counts(client) == {}
    assert (await list_books(client))["meta"]["total"] == 1


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("title", "x" * 500, "x" * 500),
        ("title", "  padded  ", "padded"),
        ("description", "d" * 20000, "d" * 20000),
        ("published_year", -3000, -3000),
        ("published_year", 0, 0),
        ("published_year", NEXT_YEAR, NEXT_YEAR),
        ("tags", [f"tag{i:02}" for i in range(20)], [f"tag{i:02}" for i in range(20)]),
        ("tags", ["t" * 50], ["t" * 50]),
        ("tags", ["b", "A", "c", "a"], ["a", "b", "c"]),
        ("isbn", "0-8044-2957-X", "9780804429573"),
        ("isbn", "979-10-90636-07-1", "9791090636071"),
        ("isbn", None, None),
    ],
)
async def test_values_at_the_limits_are_accepted(
    client: AsyncClient, field: str, value: Any, stored: Any
) -> None:
    author = await create_author(client)
    book = await create_book(client, author["id"], **{"title": "Limits", field: value})
    assert book[field] == stored


def too_many_tags() -> list[str]:
    return [f"tag{i:02}" for i in range(21)]


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"title": ""}, ["body", "title"]),
        ({"title": "   "}, ["body", "title"]),
        ({"title": "x" * 501}, ["body", "title"]),
        ({"title": None}, ["body", "title"]),
        ({"title": "bad\x00title"}, ["body", "title"]),
        ({"description": "d" * 20001}, ["body", "description"]),
        ({"description": ""}, ["body", "description"]),
        ({"description": "   "}, ["body", "description"]),
        ({"description": "nul\x00"}, ["body", "description"]),
        ({"published_year": -3001}, ["body", "published_year"]),
        ({"published_year": NEXT_YEAR + 1}, ["body", "published_year"]),
        ({"published_year": 1974.5}, ["body", "published_year"]),
        ({"tags": too_many_tags()}, ["body", "tags"]),
        ({"tags": ["t" * 51]}, ["body", "tags", 0]),
        ({"tags": ["ok", ""]}, ["body", "tags", 1]),
        ({"tags": ["   "]}, ["body", "tags", 0]),
        ({"tags": ["nul\x00"]}, ["body", "tags"]),
        ({"tags": "sf"}, ["body", "tags"]),
        ({"isbn": "0-06-051275-3"}, ["body", "isbn"]),
        ({"isbn": "978-0-306-40615-8"}, ["body", "isbn"]),
        ({"isbn": "12345"}, ["body", "isbn"]),
        ({"isbn": ""}, ["body", "isbn"]),
        ({"isbn": "  "}, ["body", "isbn"]),
        ({"isbn": "03064O6152"}, ["body", "isbn"]),
        ({"isbn": "٠٣٠٦٤٠٦١٥٢"}, ["body", "isbn"]),
        ({"isbn": "0" * 33}, ["body", "isbn"]),
        ({"author_id": "not-a-uuid"}, ["body", "author_id"]),
        ({"author_id": None}, ["body", "author_id"]),
        ({"rating": 5}, ["body", "rating"]),
        ({"author": {"name": "Someone"}}, ["body", "author"]),
        ({"version": 3}, ["body", "version"]),
    ],
)
async def test_invalid_bodies_are_a_422_naming_the_field(
    client: AsyncClient, changes: dict[str, Any], loc: list[str | int]
) -> None:
    author = await create_author(client)
    body = {"title": "Valid", "author_id": author["id"], **changes}
    response = await client.post("/books", json=body)
    assert loc in error_locs(response)
    assert (await list_books(client))["meta"]["total"] == 0


async def test_missing_author_id_is_a_422(client: AsyncClient) -> None:
    response = await client.post("/books", json={"title": "Nobody's"})
    body = assert_problem(response, 422)
    assert [(error["loc"], error["type"]) for error in body["errors"]] == [
        (["body", "author_id"], "missing")
    ]


async def test_missing_title_is_a_422(client: AsyncClient) -> None:
    author = await create_author(client)
    response = await client.post("/books", json={"author_id": author["id"]})
    assert error_locs(response) == [["body", "title"]]


async def test_tag_that_lower_cases_past_50_characters_is_refused(client: AsyncClient) -> None:
    # "İ" lower-cases to two characters, so 50 of them would become a 100-character tag.
    author = await create_author(client)
    response = await client.post(
        "/books", json={"title": "Turkish", "author_id": author["id"], "tags": ["İ" * 50]}
    )
    assert ["body", "tags"] in error_locs(response)
    assert await tag_counts(client) == {}


async def test_get_returns_the_book_with_its_etag(client: AsyncClient) -> None:
    author = await create_author(client)
    created = await client.post(
        "/books", json={"title": "Tagged", "author_id": author["id"], "tags": ["sf"]}
    )
    response = await client.get(f"/books/{created.json()['id']}")
    assert response.status_code == 200
    assert response.headers["etag"] == created.headers["etag"]
    assert response.json() == created.json()


async def test_get_unknown_book_is_a_404(client: AsyncClient) -> None:
    response = await client.get(f"/books/{MISSING_ID}")
    assert_problem(response, 404)


async def test_get_with_an_authors_id_is_a_404(client: AsyncClient) -> None:
    author = await create_author(client)
    await create_book(client, author["id"])
    response = await client.get(f"/books/{author['id']}")
    assert_problem(response, 404)


@pytest.mark.parametrize("book_id", ["not-a-uuid", "123", "0190f6b0-0000-7000-8000-00000000000"])
async def test_get_with_a_malformed_id_is_a_422(client: AsyncClient, book_id: str) -> None:
    response = await client.get(f"/books/{book_id}")
    assert error_locs(response) == [["path", "book_id"]]


# {etag} stands for the book's current ETag. If-None-Match compares weakly (RFC 9110 13.1.2).
@pytest.mark.parametrize("if_none_match", ["{etag}", '"0", {etag}', "*", "W/{etag}"])
async def test_get_with_matching_if_none_match_is_a_304(
    client: AsyncClient, if_none_match: str
) -> None:
    author = await create_author(client)
    book = await create_book(client, author["id"])
    current = await etag_of(client, book["id"])
    response = await client.get(
        f"/books/{book['id']}", headers={"If-None-Match": if_none_match.format(etag=current)}
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == current


async def test_get_with_stale_if_none_match_is_a_200(client: AsyncClient) -> None:
    author = await create_author(client)
    book = await create_book(client, author["id"])
    old = await etag_of(client, book["id"])
    patched = await client.patch(f"/books/{book['id']}", json={"title": "Renamed"})
    response = await client.get(f"/books/{book['id']}", headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.headers["etag"] == patched.headers["etag"] != old
    assert response.json()["title"] == "Renamed"


async def test_renaming_the_author_changes_the_books_etag(client: AsyncClient) -> None:
    # The book shows its author's name, so its representation changed with it.
    author = await create_author(client, "Ursula Le Guin")
    book = await create_book(client, author["id"])
    old = await etag_of(client, book["id"])
    renamed = await client.patch(f"/authors/{author['id']}", json={"name": "Ursula K. Le Guin"})
    assert renamed.status_code == 200
    response = await client.get(f"/books/{book['id']}", headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.json()["author"]["name"] == "Ursula K. Le Guin"
    assert response.json()["version"] == 1
