"""GET /tags: book counts, the `q` filter, sorting and pagination."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import create_author, create_book, links
from tests.helpers.problems import assert_invalid


async def list_tags(client: AsyncClient, **params: Any) -> Any:
    response = await client.get("/tags", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def counts(client: AsyncClient, **params: Any) -> list[tuple[str, int]]:
    return [
        (tag["name"], tag["book_count"]) for tag in (await list_tags(client, **params))["items"]
    ]


async def tag_books(client: AsyncClient, *tag_lists: list[str]) -> list[Any]:
    """Create one book per list of tag names, all by one author."""
    author = await create_author(client, "Tagger")
    return [
        await create_book(client, author["id"], f"Book {number}", tags=tags)
        for number, tags in enumerate(tag_lists)
    ]


async def test_tags_are_lower_case_and_count_their_books(client: AsyncClient) -> None:
    await tag_books(client, ["Fantasy", "SciFi"], ["FANTASY", " sea "], ["fantasy", "Fantasy"])
    body = await list_tags(client)
    assert [(tag["name"], tag["book_count"]) for tag in body["items"]] == [
        *(("fantasy", 3), ("scifi", 1), ("sea", 1))
    ]
    assert all(set(tag) == {"id", "name", "book_count"} for tag in body["items"])
    assert all(uuid.UUID(tag["id"]).version == 7 for tag in body["items"])
    assert body["meta"] == {"page": 1, "per_page": 20, "total": 3, "pages": 1}


async def test_book_count_follows_book_changes(client: AsyncClient) -> None:
    first, second = await tag_books(client, ["a", "b"], ["a"])
    assert await counts(client) == [("a", 2), ("b", 1)]
    response = await client.patch(f"/books/{first['id']}", json={"tags": ["B", "c"]})
    assert response.status_code == 200, response.text
    assert await counts(client) == [("a", 1), ("b", 1), ("c", 1)]
    assert (await client.delete(f"/books/{second['id']}")).status_code == 204
    # A tag outlives its last book, with a count of zero.
    assert await counts(client) == [("a", 0), ("b", 1), ("c", 1)]


async def test_empty_collection(client: AsyncClient) -> None:
    response = await client.get("/tags")
    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "meta": {"page": 1, "per_page": 20, "total": 0, "pages": 0},
    }
    assert links(response) == {"first": "/tags?page=1", "last": "/tags?page=1"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("SNAKE", ["snake_case", "snakexcase"]),
        ("%", ["100%"]),
        ("_", ["snake_case"]),
        ("e_c", ["snake_case"]),
        ("/", ["a/b"]),
        ("-", ["sci-fi"]),
        ("É", ["émigré"]),
        ("x%", []),
    ],
)
async def test_filter_by_substring_treats_wildcards_literally(
    client: AsyncClient, q: str, expected: list[str]
) -> None:
    await tag_books(client, ["100%", "snake_case", "snakeXcase", "sci-fi", "a/b", "Émigré"])
    body = await list_tags(client, q=q)
    assert [tag["name"] for tag in body["items"]] == expected
    assert body["meta"]["total"] == len(expected)


async def test_sort_by_name(client: AsyncClient) -> None:
    await tag_books(client, ["b", "c", "a"], ["a10", "a9"])
    assert [name for name, _ in await counts(client)] == ["a", "a10", "a9", "b", "c"]
    assert [name for name, _ in await counts(client, sort="-name")] == [
        *("c", "b", "a9", "a10", "a")
    ]


async def test_sort_by_book_count_breaks_ties_by_id(client: AsyncClient) -> None:
    # Counts: three 3, two 2, and a tie between one and zero at 1.
    await tag_books(client, ["one", "three", "two"], ["three", "two"], ["three"], ["zero"])
    items = (await list_tags(client))["items"]
    ids = {tag["name"]: tag["id"] for tag in items}
    singles = sorted(["one", "zero"], key=lambda name: uuid.UUID(ids[name]))

    ascending = await counts(client, sort="book_count")
    assert ascending == [(name, 1) for name in singles] + [("two", 2), ("three", 3)]
    descending = await counts(client, sort="-book_count")
    assert descending == [("three", 3), ("two", 2)] + [(name, 1) for name in singles[::-1]]
    assert await counts(client, sort="-book_count,name") == [
        *(("three", 3), ("two", 2), ("one", 1), ("zero", 1))
    ]
    assert await counts(client, sort="book_count,-name") == [
        *(("zero", 1), ("one", 1), ("two", 2), ("three", 3))
    ]


async def test_ties_page_through_each_tag_exactly_once(client: AsyncClient) -> None:
    names = [f"t{number}" for number in range(7)]
    await tag_books(client, names)
    for sort in ("book_count", "-book_count"):
        seen = [
            (await list_tags(client, sort=sort, per_page=2, page=page))["items"]
            for page in range(1, 5)
        ]
        ids = [tag["id"] for page in seen for tag in page]
        assert [len(page) for page in seen] == [2, 2, 2, 1]
        assert ids == sorted(ids, key=uuid.UUID, reverse=sort.startswith("-"))


@pytest.mark.parametrize(
    ("page", "expected"), [(1, ["a", "b"]), (2, ["c", "d"]), (3, ["e"]), (4, [])]
)
async def test_pagination_meta(client: AsyncClient, page: int, expected: list[str]) -> None:
    await tag_books(client, ["e", "d", "c", "b", "a"])
    body = await list_tags(client, page=page, per_page=2)
    assert [tag["name"] for tag in body["items"]] == expected
    assert body["meta"] == {"page": page, "per_page": 2, "total": 5, "pages": 3}


async def test_link_header_keeps_filter_and_sort(client: AsyncClient) -> None:
    await tag_books(client, ["sf-a", "sf-b", "sf-c", "other"])
    response = await client.get("/tags", params={"q": "sf", "sort": "-name", "per_page": 1})
    seen = [tag["name"] for tag in response.json()["items"]]
    assert set(links(response)) == {"first", "last", "next"}
    while "next" in links(response):
        response = await client.get(links(response)["next"])
        seen += [tag["name"] for tag in response.json()["items"]]
    assert seen == ["sf-c", "sf-b", "sf-a"]
    assert links(response) == {
        "first": "/tags?q=sf&sort=-name&per_page=1&page=1",
        "last": "/tags?q=sf&sort=-name&per_page=1&page=3",
        "prev": "/tags?q=sf&sort=-name&per_page=1&page=2",
    }


@pytest.mark.parametrize("sort", ["count", "-id", "name,books", "", "created_at"])
async def test_unknown_sort_field_names_the_allowed_ones(client: AsyncClient, sort: str) -> None:
    response = await client.get("/tags", params={"sort": sort})
    body = assert_invalid(response, "/tags", ["query", "sort"], "value_error")
    assert "allowed: name, book_count" in body["errors"][0]["msg"]


@pytest.mark.parametrize(
    ("params", "loc", "type_"),
    [
        ({"per_page": 0}, ["query", "per_page"], "greater_than_equal"),
        ({"per_page": 101}, ["query", "per_page"], "less_than_equal"),
        ({"page": 0}, ["query", "page"], "greater_than_equal"),
        ({"page": "x"}, ["query", "page"], "int_parsing"),
        ({"page": 10**30}, ["query", "page"], "less_than_equal"),
        ({"q": ""}, ["query", "q"], "string_too_short"),
        ({"q": "x" * 51}, ["query", "q"], "string_too_long"),
        ({"name": "a"}, ["query", "name"], "extra_forbidden"),
    ],
)
async def test_invalid_query_parameters(
    client: AsyncClient, params: dict[str, Any], loc: list[str], type_: str
) -> None:
    assert_invalid(await client.get("/tags", params=params), "/tags", loc, type_)
