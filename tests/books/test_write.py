"""PATCH /books/{id} and DELETE /books/{id}."""

from datetime import datetime
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import (
    ISBNS,
    MISSING_ID,
    NEXT_YEAR,
    book_counts,
    create_author,
    create_book,
    etag_of,
    get_book,
    tag_counts,
    titles,
)
from tests.helpers.problems import assert_problem, error_locs

FULL_BOOK: dict[str, Any] = {
    "title": "The Dispossessed",
    "isbn": ISBNS[1],
    "published_year": 1974,
    "description": "An ambiguous utopia.",
    "tags": ["sf", "utopia"],
}


async def full_book(client: AsyncClient) -> dict[str, Any]:
    author = await create_author(client)
    return await create_book(client, author["id"], **FULL_BOOK)


async def patch(client: AsyncClient, book_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.patch(f"/books/{book_id}", json=body)
    assert response.status_code == 200, response.text
    book: dict[str, Any] = response.json()
    assert await get_book(client, book_id) == book
    assert await etag_of(client, book_id) == response.headers["etag"]
    return book


async def test_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    book = await full_book(client)
    updated = await patch(client, book["id"], {"title": "  The Dispossessed: A Novel "})
    unchanged = {key: book[key] for key in book if key not in {"title", "updated_at", "version"}}
    assert {key: updated[key] for key in unchanged} == unchanged
    assert updated["title"] == "The Dispossessed: A Novel"
    assert updated["version"] == 2
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(
        book["updated_at"]
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"isbn": "0-306-40615-2"}, {"isbn": "9780306406157"}),
        ({"published_year": NEXT_YEAR}, {"published_year": NEXT_YEAR}),
        ({"published_year": -3000}, {"published_year": -3000}),
        ({"description": " New. "}, {"description": "New."}),
        ({"tags": ["Utopia", "Anarchy", "anarchy"]}, {"tags": ["anarchy", "utopia"]}),
        ({"isbn": None}, {"isbn": None}),
        ({"published_year": None}, {"published_year": None}),
        ({"description": None}, {"description": None}),
        ({"tags": []}, {"tags": []}),
        ({"tags": None}, {"tags": []}),
        ({}, {}),
    ],
)
async def test_patch_sets_and_clears_fields(
    client: AsyncClient, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    book = await full_book(client)
    updated = await patch(client, book["id"], body)
    assert {key: updated[key] for key in FULL_BOOK} == {**FULL_BOOK, **expected}


async def test_patch_replaces_the_whole_tag_list(client: AsyncClient) -> None:
    book = await full_book(client)
    updated = await patch(client, book["id"], {"tags": ["SF", "Anarchy"]})
    assert updated["tags"] == ["anarchy", "sf"]
    # The dropped tag stays, carried by no book; the new one was created.
    assert await tag_counts(client) == {"anarchy": 1, "sf": 1, "utopia": 0}
    assert await titles(client, tag="utopia") == []
    assert await titles(client, tag="anarchy") == ["The Dispossessed"]


@pytest.mark.parametrize("tags", [[], None])
async def test_patch_clearing_tags_unlinks_them(
    client: AsyncClient, tags: list[str] | None
) -> None:
    book = await full_book(client)
    await patch(client, book["id"], {"tags": tags})
    assert await tag_counts(client) == {"sf": 0, "utopia": 0}


async def test_patch_without_tags_keeps_them(client: AsyncClient) -> None:
    book = await full_book(client)
    updated = await patch(client, book["id"], {"published_year": 1975})
    assert updated["tags"] == ["sf", "utopia"]
    assert await tag_counts(client) == {"sf": 1, "utopia": 1}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"title": None}, ["body", "title"]),
        ({"author_id": None}, ["body", "author_id"]),
        ({"title": ""}, ["body", "title"]),
        ({"title": "x" * 501}, ["body", "title"]),
        ({"title": "nul\x00"}, ["body", "title"]),
        ({"description": "d" * 20001}, ["body", "description"]),
        ({"description": ""}, ["body", "description"]),
        ({"isbn": ""}, ["body", "isbn"]),
        ({"published_year": -3001}, ["body", "published_year"]),
        ({"published_year": NEXT_YEAR + 1}, ["body", "published_year"]),
        ({"isbn": "0-306-40615-3"}, ["body", "isbn"]),
        ({"tags": [f"tag{i:02}" for i in range(21)]}, ["body", "tags"]),
        ({"tags": ["t" * 51]}, ["body", "tags", 0]),
        ({"author_id": "not-a-uuid"}, ["body", "author_id"]),
        ({"version": 7}, ["body", "version"]),
        ({"author": {"name": "Someone"}}, ["body", "author"]),
    ],
)
async def test_invalid_patch_is_a_422_and_changes_nothing(
    client: AsyncClient, body: dict[str, Any], loc: list[str | int]
) -> None:
    book = await full_book(client)
    response = await client.patch(f"/books/{book['id']}", json={"description": "X", **body})
    assert loc in error_locs(response)
    assert await get_book(client, book["id"]) == book


async def test_patch_moves_the_book_to_another_author(client: AsyncClient) -> None:
    le_guin = await create_author(client, "Ursula K. Le Guin")
    banks = await create_author(client, "Iain M. Banks")
    book = await create_book(client, le_guin["id"], "Misattributed")
    await create_book(client, le_guin["id"], "Rightly Hers")
    assert await book_counts(client) == {le_guin["id"]: 2, banks["id"]: 0}
    updated = await patch(client, book["id"], {"author_id": banks["id"]})
    assert updated["author_id"] == banks["id"]
    assert updated["author"] == {"id": banks["id"], "name": "Iain M. Banks"}
    assert await book_counts(client) == {le_guin["id"]: 1, banks["id"]: 1}
    assert await titles(client, author_id=banks["id"]) == ["Misattributed"]
    detail = (await client.get(f"/authors/{le_guin['id']}")).json()
    assert [item["title"] for item in detail["books"]] == ["Rightly Hers"]


async def test_patch_to_an_unknown_author_is_a_422_and_changes_nothing(
    client: AsyncClient,
) -> None:
    book = await full_book(client)
    response = await client.patch(
        f"/books/{book['id']}", json={"author_id": MISSING_ID, "tags": ["new"]}
    )
    assert error_locs(response) == [["body", "author_id"]]
    assert await get_book(client, book["id"]) == book
    assert await tag_counts(client) == {"sf": 1, "utopia": 1}


@pytest.mark.parametrize("spelling", ["0-306-40615-2", "9780306406157", "978-0-306-40615-7"])
async def test_patch_to_another_books_isbn_is_a_409_and_changes_nothing(
    client: AsyncClient, spelling: str
) -> None:
    book = await full_book(client)
    other = await create_book(client, book["author_id"], "Other", isbn=ISBNS[0])
    response = await client.patch(f"/books/{book['id']}", json={"isbn": spelling, "title": "New"})
    assert_problem(response, 409)
    assert await get_book(client, book["id"]) == book
    assert await get_book(client, other["id"]) == other


async def test_patch_to_its_own_isbn_in_another_spelling_is_fine(client: AsyncClient) -> None:
    book = await full_book(client)
    updated = await patch(client, book["id"], {"isbn": "0-06-051275-X"})
    assert (updated["isbn"], updated["version"]) == (ISBNS[1], 2)


async def test_version_grows_by_one_per_successful_patch(client: AsyncClient) -> None:
    book = await full_book(client)
    stamps = [datetime.fromisoformat(book["updated_at"])]
    bodies: list[dict[str, Any]] = [
        {"title": "One"},
        {"tags": ["x"]},
        {"isbn": None},
        {"published_year": 2000},
    ]
    for expected, body in enumerate(bodies, start=2):
        updated = await patch(client, book["id"], body)
        assert updated["version"] == expected
        assert updated["created_at"] == book["created_at"]
        stamps.append(datetime.fromisoformat(updated["updated_at"]))
    # A failed PATCH does not count.
    failed = await client.patch(f"/books/{book['id']}", json={"title": ""})
    assert failed.status_code == 422
    assert (await get_book(client, book["id"]))["version"] == 5
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


async def test_patch_of_fields_and_tags_together_counts_once(client: AsyncClient) -> None:
    book = await full_book(client)
    body = {"title": "Both", "isbn": None, "published_year": 1975, "tags": ["new"]}
    updated = await patch(client, book["id"], body)
    assert updated["version"] == 2
    assert (updated["title"], updated["tags"]) == ("Both", ["new"])


# {etag} stands for the book's current ETag.
@pytest.mark.parametrize("if_match", ["{etag}", "*", '"7", {etag}'])
async def test_patch_with_matching_if_match(client: AsyncClient, if_match: str) -> None:
    book = await full_book(client)
    current = await etag_of(client, book["id"])
    response = await client.patch(
        f"/books/{book['id']}",
        json={"title": "Checked"},
        headers={"If-Match": if_match.format(etag=current)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.headers["etag"] not in {current, ""}


# If-Match compares strongly, so a weak tag never matches (RFC 9110 13.1.1).
@pytest.mark.parametrize("if_match", ['"0"', '"stale"', "W/{etag}", "{bare}"])
async def test_patch_with_stale_if_match_is_a_412_and_changes_nothing(
    client: AsyncClient, if_match: str
) -> None:
    book = await full_book(client)
    current = await etag_of(client, book["id"])
    response = await client.patch(
        f"/books/{book['id']}",
        json={"title": "Lost Update", "tags": ["lost"]},
        headers={"If-Match": if_match.format(etag=current, bare=current.strip('"'))},
    )
    assert_problem(response, 412)
    assert await get_book(client, book["id"]) == book
    assert await tag_counts(client) == {"sf": 1, "utopia": 1}


async def test_patch_with_the_etag_of_an_older_version_is_a_412(client: AsyncClient) -> None:
    book = await full_book(client)
    old = await etag_of(client, book["id"])
    await patch(client, book["id"], {"title": "Second"})
    response = await client.patch(
        f"/books/{book['id']}", json={"title": "Third"}, headers={"If-Match": old}
    )
    assert_problem(response, 412)
    assert (await get_book(client, book["id"]))["title"] == "Second"


async def test_patch_after_the_author_was_renamed_with_the_old_etag_is_a_412(
    client: AsyncClient,
) -> None:
    book = await full_book(client)
    old = await etag_of(client, book["id"])
    renamed = await client.patch(f"/authors/{book['author_id']}", json={"name": "U. K. Le Guin"})
    assert renamed.status_code == 200
    response = await client.patch(
        f"/books/{book['id']}", json={"title": "Blind Write"}, headers={"If-Match": old}
    )
    assert_problem(response, 412)
    assert (await get_book(client, book["id"]))["title"] == FULL_BOOK["title"]


async def test_patch_unknown_book_is_a_404(client: AsyncClient) -> None:
    response = await client.patch(f"/books/{MISSING_ID}", json={"title": "Ghost"})
    assert_problem(response, 404)


async def test_patch_malformed_id_is_a_422(client: AsyncClient) -> None:
    response = await client.patch("/books/not-a-uuid", json={"title": "Ghost"})
    assert ["path", "book_id"] in error_locs(response)


async def test_delete_removes_the_book(client: AsyncClient) -> None:
    book = await full_book(client)
    response = await client.delete(f"/books/{book['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(f"/books/{book['id']}"), 404)
    assert_problem(await client.delete(f"/books/{book['id']}"), 404)
    assert await book_counts(client) == {book["author_id"]: 0}


async def test_delete_unlinks_tags_but_keeps_them(client: AsyncClient) -> None:
    book = await full_book(client)
    other = await create_book(client, book["author_id"], "The Word for World", tags=["SF"])
    assert await tag_counts(client) == {"sf": 2, "utopia": 1}
    response = await client.delete(f"/books/{book['id']}")
    assert response.status_code == 204
    assert await tag_counts(client) == {"sf": 1, "utopia": 0}
    assert (await get_book(client, other["id"]))["tags"] == ["sf"]
    assert await titles(client, tag="utopia") == []


@pytest.mark.parametrize("if_match", ['"0"', "W/{etag}"])
async def test_delete_with_stale_if_match_is_a_412_and_keeps_the_book(
    client: AsyncClient, if_match: str
) -> None:
    book = await full_book(client)
    current = await etag_of(client, book["id"])
    response = await client.delete(
        f"/books/{book['id']}", headers={"If-Match": if_match.format(etag=current)}
    )
    assert_problem(response, 412)
    assert await get_book(client, book["id"]) == book
    assert await tag_counts(client) == {"sf": 1, "utopia": 1}


async def test_delete_with_an_old_etag_is_a_412_and_with_the_current_one_a_204(
    client: AsyncClient,
) -> None:
    book = await full_book(client)
    old = await etag_of(client, book["id"])
    patched = await client.patch(f"/books/{book['id']}", json={"title": "Revised"})
    stale = await client.delete(f"/books/{book['id']}", headers={"If-Match": old})
    assert_problem(stale, 412)
    assert (await get_book(client, book["id"]))["title"] == "Revised"
    response = await client.delete(
        f"/books/{book['id']}", headers={"If-Match": patched.headers["etag"]}
    )
    assert response.status_code == 204
    assert_problem(await client.get(f"/books/{book['id']}"), 404)


async def test_delete_unknown_book_is_a_404(client: AsyncClient) -> None:
    assert_problem(await client.delete(f"/books/{MISSING_ID}"), 404)


async def test_delete_malformed_id_is_a_422(client: AsyncClient) -> None:
    assert error_locs(await client.delete("/books/not-a-uuid")) == [["path", "book_id"]]
