"""Books with several authors, in order: written as `author_ids` (or v1's `author_id`), read
as `authors` with `author_id` and `author` as the first."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import MISSING_ID, create_author, create_book, get_book, list_books
from tests.helpers.problems import assert_problem, error_locs


async def three_authors(client: AsyncClient) -> list[dict[str, Any]]:
    return [await create_author(client, name) for name in ("Stephen King", "Peter Straub", "Owen")]


async def test_a_book_keeps_its_authors_in_the_order_sent(client: AsyncClient) -> None:
    king, straub, owen = await three_authors(client)
    ids = [straub["id"], owen["id"], king["id"]]
    response = await client.post("/books", json={"title": "The Talisman", "author_ids": ids})
    assert response.status_code == 201, response.text
    book = response.json()
    assert book["authors"] == [
        {"id": straub["id"], "name": "Peter Straub"},
        {"id": owen["id"], "name": "Owen"},
        {"id": king["id"], "name": "Stephen King"},
    ]
    assert book["author_id"] == straub["id"]
    assert book["author"] == {"id": straub["id"], "name": "Peter Straub"}
    assert await get_book(client, book["id"]) == book
    listed = await list_books(client, q="talisman")
    assert listed["items"] == [book]


async def test_v1_clients_send_one_author_id_and_read_it_back(client: AsyncClient) -> None:
    author = await create_author(client, "Le Guin")
    book = await create_book(client, author["id"], "The Lathe of Heaven")
    assert (book["author_id"], book["author"]["name"]) == (author["id"], "Le Guin")
    assert book["authors"] == [{"id": author["id"], "name": "Le Guin"}]
    other = await create_author(client, "Other")
    response = await client.patch(f"/books/{book['id']}", json={"author_id": other["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["authors"] == [{"id": other["id"], "name": "Other"}]


@pytest.mark.parametrize(
    ("authors", "loc", "type_"),
    [
        ({"author_ids": []}, ["body", "author_ids"], "too_short"),
        ({"author_ids": ["x"]}, ["body", "author_ids", 0], "uuid_parsing"),
        ({"author_ids": None}, ["body", "author_id"], "missing"),
        ({}, ["body", "author_id"], "missing"),
    ],
)
async def test_author_lists_that_name_no_author_are_a_422(
    client: AsyncClient, authors: dict[str, Any], loc: list[Any], type_: str
) -> None:
    response = await client.post("/books", json={"title": "Nobody's", **authors})
    body = assert_problem(response, 422)
    assert [(error["loc"], error["type"]) for error in body["errors"]] == [(loc, type_)]


async def test_both_spellings_at_once_twice_the_same_author_or_too_many_are_a_422(
    client: AsyncClient,
) -> None:
    king, straub, _ = await three_authors(client)
    for authors, loc in [
        ({"author_ids": [king["id"]], "author_id": king["id"]}, ["body", "author_id"]),
        ({"author_ids": [king["id"], straub["id"], king["id"]]}, ["body", "author_ids"]),
        ({"author_ids": [king["id"]] * 21}, ["body", "author_ids"]),
    ]:
        response = await client.post("/books", json={"title": "Twice", **authors})
        assert error_locs(response) == [loc], authors
    assert (await list_books(client, q="twice"))["items"] == []


async def test_an_unknown_author_is_a_422_at_its_place_and_stores_nothing(
    client: AsyncClient,
) -> None:
    king, straub, _ = await three_authors(client)
    ids = [king["id"], straub["id"], MISSING_ID]
    response = await client.post("/books", json={"title": "Orphan", "author_ids": ids})
    body = assert_problem(response, 422)
    assert [(error["loc"], error["type"]) for error in body["errors"]] == [
        (["body", "author_ids", 2], "missing_reference")
    ]
    assert (await list_books(client, q="orphan"))["items"] == []
    book = await create_book(client, king["id"], "Kept")
    response = await client.patch(f"/books/{book['id']}", json={"author_ids": [MISSING_ID]})
    assert error_locs(response) == [["body", "author_ids", 0]]
    assert await get_book(client, book["id"]) == book


async def test_patch_replaces_the_whole_list_and_changes_the_etag(client: AsyncClient) -> None:
    king, straub, owen = await three_authors(client)
    book = await create_book(client, king["id"], "Black House")
    before = await client.get(f"/books/{book['id']}")
    ids = [straub["id"], king["id"]]
    response = await client.patch(
        f"/books/{book['id']}",
        json={"author_ids": ids},
        headers={"If-Match": before.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert [author["id"] for author in changed["authors"]] == ids
    assert changed["version"] == book["version"] + 1
    assert response.headers["etag"] != before.headers["etag"]
    assert await get_book(client, book["id"]) == changed
    # A stale ETag changes nothing.
    stale = await client.patch(
        f"/books/{book['id']}",
        json={"author_ids": [owen["id"]]},
        headers={"If-Match": before.headers["etag"]},
    )
    assert_problem(stale, 412)
    assert await get_book(client, book["id"]) == changed


async def test_renaming_a_co_author_changes_the_books_etag_and_answers(
    client: AsyncClient,
) -> None:
    king, straub, _ = await three_authors(client)
    book = await client.post(
        "/books", json={"title": "The Talisman", "author_ids": [king["id"], straub["id"]]}
    )
    before = book.headers["etag"]
    renamed = await client.patch(f"/authors/{straub['id']}", json={"name": "P. Straub"})
    assert renamed.status_code == 200, renamed.text
    after = await client.get(f"/books/{book.json()['id']}")
    assert after.headers["etag"] != before
    assert [author["name"] for author in after.json()["authors"]] == ["Stephen King", "P. Straub"]


async def test_author_filter_finds_every_book_the_author_is_one_of_the_authors_of(
    client: AsyncClient,
) -> None:
    king, straub, owen = await three_authors(client)
    await client.post("/books", json={"title": "Carrie", "author_ids": [king["id"]]})
    await client.post(
        "/books", json={"title": "The Talisman", "author_ids": [king["id"], straub["id"]]}
    )
    await client.post(
        "/books", json={"title": "Sleeping Beauties", "author_ids": [owen["id"], king["id"]]}
    )
    await client.post("/books", json={"title": "Ghost Story", "author_ids": [straub["id"]]})

    async def titles(author_id: str) -> list[str]:
        page = await list_books(client, author_id=author_id)
        assert page["meta"]["total"] == len(page["items"])
        return [book["title"] for book in page["items"]]

    assert await titles(king["id"]) == ["Carrie", "Sleeping Beauties", "The Talisman"]
    assert await titles(straub["id"]) == ["Ghost Story", "The Talisman"]
    assert await titles(owen["id"]) == ["Sleeping Beauties"]
