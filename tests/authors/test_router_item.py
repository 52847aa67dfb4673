"""GET, PATCH and DELETE /authors/{id}, conditional requests, and errors outside any route."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import create_author, create_book, utc
from tests.helpers.problems import assert_invalid, assert_problem

UNKNOWN_ID = "01900000-0000-7000-8000-000000000000"
# Valid ISBN-13s (checksums verified by the app).
ISBN_A, ISBN_B = "9780553293357", "9780547928210"
WRONG_METHODS = [
    ("PUT", "/authors", "GET, HEAD, POST"),
    ("POST", "/authors/{id}", "DELETE, GET, HEAD, PATCH"),
]


async def tag_counts(client: AsyncClient) -> dict[str, int]:
    response = await client.get("/tags", params={"per_page": 100})
    return {tag["name"]: tag["book_count"] for tag in response.json()["items"]}


async def test_get_lists_books_by_year_then_title_with_missing_years_last(
    client: AsyncClient,
) -> None:
    author = await create_author(client, "Asimov", bio="Wrote a lot.")
    other = await create_author(client, "Bronte")
    await create_book(client, other["id"], "Jane Eyre", published_year=1847)
    for title, year, isbn in [
        ("Zeta", None, None),
        ("Beta", 1951, None),
        ("Alpha", None, None),
        ("Gamma", 1942, "978-0-553-29335-7"),
        ("Alpha", 1951, "0547928211"),
        ("Ancient", -500, None),
    ]:
        await create_book(client, author["id"], title, published_year=year, isbn=isbn)
    response = await client.get(f"/authors/{author['id']}")
    assert response.status_code == 200
    # The tag covers the books shown, so it is the author's version plus a digest of theirs.
    assert response.headers["etag"].startswith('"1-')
    body = response.json()
    assert {key: body[key] for key in ("id", "name", "bio", "version")} == {
        key: author[key] for key in ("id", "name", "bio", "version")
    }
    assert all(set(book) == {"id", "title", "isbn", "published_year"} for book in body["books"])
    assert [(b["title"], b["published_year"], b["isbn"]) for b in body["books"]] == [
        ("Ancient", -500, None),
        ("Gamma", 1942, ISBN_A),
        ("Alpha", 1951, ISBN_B),
        ("Beta", 1951, None),
        ("Alpha", None, None),
        ("Zeta", None, None),
    ]


@pytest.mark.parametrize("author_id", ["not-a-uuid", "123", "01900000-0000-7000-8000-00000000000g"])
async def test_get_rejects_an_id_that_is_not_a_uuid(client: AsyncClient, author_id: str) -> None:
    response = await client.get(f"/authors/{author_id}")
    assert_invalid(response, f"/authors/{author_id}", ["path", "author_id"], "uuid_parsing")


async def test_unknown_ids_and_ids_of_other_resources_are_404(client: AsyncClient) -> None:
    author = await create_author(client, "Le Guin")
    book = await create_book(client, author["id"], "Earthsea")
    for missing in (UNKNOWN_ID, book["id"]):
        path = f"/authors/{missing}"
        body = assert_problem(await client.get(path), 404, instance=path)
        assert (body["title"], body["detail"]) == ("Not Found", "No author has this id.")
        assert_problem(await client.patch(path, json={"bio": "x"}), 404, instance=path)
        assert_problem(await client.delete(path), 404, instance=path)
    assert (await client.get(f"/books/{book['id']}")).status_code == 200


async def test_if_none_match(client: AsyncClient) -> None:
    author = await create_author(client, "Le Guin")
    path = f"/authors/{author['id']}"
    for header in ('"1"', "*", '"7", "1"', ' "1" '):
        response = await client.get(path, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == '"1"'
    assert (await client.patch(path, json={"bio": "new"})).headers["etag"] == '"2"'
    for stale in ('"1"', '"0"', 'W/"1"', "2"):
        response = await client.get(path, headers={"If-None-Match": stale})
        assert response.status_code == 200, stale
        assert (response.json()["bio"], response.headers["etag"]) == ("new", '"2"')


async def test_if_none_match_compares_weakly(client: AsyncClient) -> None:
    """RFC 9110 13.1.2: If-None-Match uses weak comparison, so W/"1" matches "1".

    Fails today: the tags are compared as strings. Proxies that compress a response (nginx
    with gzip) weaken its ETag, so clients behind them would never get a 304.
    """
    author = await create_author(client, "Le Guin")
    response = await client.get(f"/authors/{author['id']}", headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 304


async def test_if_none_match_notices_a_new_book(client: AsyncClient) -> None:
    """The books are part of the representation, so adding one must change the ETag.

    Fails today: the ETag is derived from the author's version only, which a new book leaves
    at 1, so a client revalidating its cached author gets 304 and never sees the book.
    """
    author = await create_author(client, "Le Guin")
    path = f"/authors/{author['id']}"
    etag = (await client.get(path)).headers["etag"]
    await create_book(client, author["id"], "Earthsea")
    response = await client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 200, "304 for a representation whose books changed"
    assert [book["title"] for book in response.json()["books"]] == ["Earthsea"]


async def test_patch_changes_only_the_sent_fields(client: AsyncClient) -> None:
    author = await create_author(client, "Le Guin", bio="Old bio")
    path = f"/authors/{author['id']}"
    response = await client.patch(path, json={"bio": "  New bio  "})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    patched = response.json()
    assert (patched["name"], patched["bio"], patched["version"]) == ("Le Guin", "New bio", 2)
    assert patched["created_at"] == author["created_at"]
    assert utc(patched["updated_at"]) > utc(author["updated_at"])
    assert (await client.get(path)).json() == {**patched, "books": []}

    renamed = (await client.patch(path, json={"name": " Ursula "})).json()
    assert (renamed["name"], renamed["bio"], renamed["version"]) == ("Ursula", "New bio", 3)
    assert utc(renamed["updated_at"]) > utc(patched["updated_at"])


async def test_patch_null_clears_bio(client: AsyncClient) -> None:
    author = await create_author(client, bio="Something")
    response = await client.patch(f"/authors/{author['id']}", json={"bio": None})
    assert (response.status_code, response.json()["bio"]) == (200, None)
    assert (await client.get(f"/authors/{author['id']}")).json()["bio"] is None


async def test_patch_with_empty_body_still_counts_as_an_update(client: AsyncClient) -> None:
    """`{}` changes no field, yet is a successful update: version and updated_at move on."""
    author = await create_author(client, bio="Kept")
    response = await client.patch(f"/authors/{author['id']}", json={})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["bio"], body["version"]) == (author["name"], "Kept", 2)
    assert utc(body["updated_at"]) > utc(author["updated_at"])


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        ({"name": None}, ["body", "name"], "value_error"),
        ({"name": ""}, ["body", "name"], "string_too_short"),
        ({"name": "   "}, ["body", "name"], "string_too_short"),
        ({"name": "x" * 201}, ["body", "name"], "string_too_long"),
        ({"bio": "x" * 5001}, ["body", "bio"], "string_too_long"),
        ({"bio": " "}, ["body", "bio"], "string_too_short"),
        ({"bio": "nul\x00"}, ["body", "bio"], "value_error"),
        ({"version": 9}, ["body", "version"], "extra_forbidden"),
        ({"id": UNKNOWN_ID}, ["body", "id"], "extra_forbidden"),
    ],
)
async def test_patch_rejects_invalid_bodies_and_changes_nothing(
    client: AsyncClient, body: dict[str, Any], loc: list[str], type_: str
) -> None:
    author = await create_author(client, bio="Bio")
    path = f"/authors/{author['id']}"
    assert_invalid(await client.patch(path, json=body), path, loc, type_)
    assert (await client.get(path)).json() == {**author, "books": []}


@pytest.mark.parametrize("if_match", ['"1"', "*", '"5", "1"'])
async def test_patch_with_current_if_match(client: AsyncClient, if_match: str) -> None:
    author = await create_author(client, "Le Guin")
    path = f"/authors/{author['id']}"
    response = await client.patch(path, json={"bio": "new"}, headers={"If-Match": if_match})
    assert (response.status_code, response.json()["version"]) == (200, 2)


@pytest.mark.parametrize("if_match", ['"2"', '"0"', 'W/"1"', "1"])
async def test_patch_with_stale_if_match_changes_nothing(
    client: AsyncClient, if_match: str
) -> None:
    author = await create_author(client, bio="old")
    path = f"/authors/{author['id']}"
    response = await client.patch(path, json={"bio": "new"}, headers={"If-Match": if_match})
    body = assert_problem(response, 412, instance=path)
    assert body["title"] == "Precondition Failed"
    assert (await client.get(path)).json() == {**author, "books": []}


async def test_delete(client: AsyncClient) -> None:
    author = await create_author(client, "Le Guin")
    keep = await create_author(client, "Keep")
    path = f"/authors/{author['id']}"
    response = await client.delete(path)
    assert (response.status_code, response.content) == (204, b"")
    assert_problem(await client.get(path), 404, instance=path)
    assert_problem(await client.delete(path), 404, instance=path)
    assert (await client.get(f"/authors/{keep['id']}")).status_code == 200


async def test_delete_author_with_books_is_a_conflict(client: AsyncClient) -> None:
    author = await create_author(client, "Le Guin")
    book = await create_book(client, author["id"], "Earthsea", tags=["fantasy"])
    path = f"/authors/{author['id']}"
    for query in ("", "?cascade=false"):
        body = assert_problem(await client.delete(path + query), 409, instance=path)
        assert body["title"] == "Conflict"
        assert "cascade=true" in body["detail"]
    assert [b["id"] for b in (await client.get(path)).json()["books"]] == [book["id"]]
    assert (await client.get(f"/books/{book['id']}")).status_code == 200
    assert await tag_counts(client) == {"fantasy": 1}


async def test_delete_with_cascade_removes_the_books_and_their_tag_links(
    client: AsyncClient,
) -> None:
    author = await create_author(client, "Le Guin")
    other = await create_author(client, "Other")
    books = [
        await create_book(client, author["id"], "One", tags=["Fantasy", "sea"]),
        await create_book(client, author["id"], "Two", tags=["fantasy"]),
    ]
    kept = await create_book(client, other["id"], "Kept", tags=["fantasy"])
    assert await tag_counts(client) == {"fantasy": 3, "sea": 1}
    response = await client.delete(f"/authors/{author['id']}", params={"cascade": "true"})
    assert (response.status_code, response.content) == (204, b"")
    for book in books:
        assert (await client.get(f"/books/{book['id']}")).status_code == 404
    assert (await client.get(f"/books/{kept['id']}")).status_code == 200
    assert (await client.get(f"/authors/{author['id']}")).status_code == 404
    assert await tag_counts(client) == {"fantasy": 1, "sea": 0}
    listed = (await client.get("/authors")).json()["items"]
    assert [(a["name"], a["book_count"]) for a in listed] == [("Other", 1)]


async def test_delete_cascade_must_be_a_boolean(client: AsyncClient) -> None:
    author = await create_author(client, "Le Guin")
    path = f"/authors/{author['id']}"
    response = await client.delete(path, params={"cascade": "maybe"})
    assert_invalid(response, path, ["query", "cascade"], "bool_parsing")
    assert (await client.get(path)).status_code == 200


async def test_delete_with_if_match(client: AsyncClient) -> None:
    author = await create_author(client, "Le Guin")
    path = f"/authors/{author['id']}"
    await client.patch(path, json={"bio": "v2"})
    body = assert_problem(
        await client.delete(path, headers={"If-Match": '"1"'}), 412, instance=path
    )
    assert body["title"] == "Precondition Failed"
    assert (await client.get(path)).json()["version"] == 2
    assert (await client.delete(path, headers={"If-Match": '"2"'})).status_code == 204
    assert (await client.get(path)).status_code == 404


@pytest.mark.parametrize(("method", "path", "allow"), WRONG_METHODS)
async def test_method_not_allowed_is_a_problem(
    client: AsyncClient, method: str, path: str, allow: str
) -> None:
    path = path.format(id=UNKNOWN_ID)
    response = await client.request(method, path, json={"name": "x"})
    body = assert_problem(response, 405, instance=path)
    assert body["title"] == "Method Not Allowed"
    allowed = set(response.headers["allow"].split(", "))
    assert allowed
    assert allowed <= set(allow.split(", "))


@pytest.mark.parametrize(("method", "path", "allow"), WRONG_METHODS)
async def test_method_not_allowed_names_every_allowed_method(
    client: AsyncClient, method: str, path: str, allow: str
) -> None:
    """RFC 9110 15.5.6: a 405 MUST list the resource's methods in `Allow`.

    Fails today: Starlette stops at the first route whose path matches, so `Allow` names only
    that route's method (`POST` for /authors, `GET` for /authors/{id}).
    """
    response = await client.request(method, path.format(id=UNKNOWN_ID))
    assert sorted(response.headers["allow"].split(", ")) == allow.split(", ")


@pytest.mark.parametrize("path", ["/nowhere", "/tags/extra", "/authors/a/b"])
async def test_unknown_path_is_a_problem(client: AsyncClient, path: str) -> None:
    body = assert_problem(await client.get(path), 404, instance=path)
    assert body["title"] == "Not Found"
