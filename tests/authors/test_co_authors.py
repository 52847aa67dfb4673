"""An author's books are every book they are one of the authors of: listed, counted, and
what deleting the author does to them."""

from typing import Any

from httpx import AsyncClient

from tests.helpers.catalogue import create_author, get_book
from tests.helpers.problems import assert_problem


async def write(client: AsyncClient, title: str, *authors: dict[str, Any], **fields: Any) -> Any:
    body = {"title": title, "author_ids": [author["id"] for author in authors], **fields}
    response = await client.post("/books", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_author_shows_and_counts_their_co_authored_books(client: AsyncClient) -> None:
    king = await create_author(client, "Stephen King")
    straub = await create_author(client, "Peter Straub")
    await write(client, "Carrie", king, published_year=1974)
    talisman = await write(client, "The Talisman", king, straub, published_year=1984)
    await write(client, "Black House", straub, king, published_year=2001)
    detail = (await client.get(f"/authors/{straub['id']}")).json()
    assert [book["title"] for book in detail["books"]] == ["The Talisman", "Black House"]
    assert detail["books"][0]["id"] == talisman["id"]
    listed = (await client.get("/authors", params={"q": "e"})).json()["items"]
    assert {author["name"]: author["book_count"] for author in listed} == {
        "Stephen King": 3,
        "Peter Straub": 2,
    }


async def test_an_author_named_by_any_book_cannot_be_deleted_without_cascade(
    client: AsyncClient,
) -> None:
    king = await create_author(client, "Stephen King")
    straub = await create_author(client, "Peter Straub")
    book = await write(client, "The Talisman", king, straub)
    response = await client.delete(f"/authors/{straub['id']}")
    body = assert_problem(response, 409)
    assert "cascade=true" in body["detail"]
    assert (await client.get(f"/authors/{straub['id']}")).status_code == 200
    assert await get_book(client, book["id"]) == book


async def test_cascade_deletes_the_books_they_wrote_alone_and_leaves_the_others(
    client: AsyncClient,
) -> None:
    king = await create_author(client, "Stephen King")
    straub = await create_author(client, "Peter Straub")
    owen = await create_author(client, "Owen King")
    alone = await write(client, "Ghost Story", straub, tags=["horror"])
    shared = await write(client, "The Talisman", straub, king)
    three = await write(client, "Imagined", king, straub, owen)
    before = await client.get(f"/books/{shared['id']}")

    response = await client.delete(f"/authors/{straub['id']}", params={"cascade": "true"})
    assert response.status_code == 204, response.text

    assert (await client.get(f"/authors/{straub['id']}")).status_code == 404
    assert (await client.get(f"/books/{alone['id']}")).status_code == 404
    after = await client.get(f"/books/{shared['id']}")
    assert after.json()["authors"] == [{"id": king["id"], "name": "Stephen King"}]
    # The first author was the one deleted: the next one is now `author`.
    assert after.json()["author_id"] == king["id"]
    assert after.json()["version"] == shared["version"] + 1
    assert after.headers["etag"] != before.headers["etag"]
    remaining = await get_book(client, three["id"])
    assert [author["name"] for author in remaining["authors"]] == ["Stephen King", "Owen King"]
    king_now = (await client.get(f"/authors/{king['id']}")).json()
    assert [book["title"] for book in king_now["books"]] == ["Imagined", "The Talisman"]
    tags = (await client.get("/tags", params={"q": "horror"})).json()["items"]
    assert [tag["book_count"] for tag in tags] == [0]
