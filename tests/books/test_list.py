"""GET /books: filters, sorting, pagination and the Link header."""

import math
from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import (
    ISBNS,
    create_author,
    create_book,
    link_targets,
    list_books,
    titles,
)
from tests.helpers.problems import error_locs


async def catalogue(client: AsyncClient) -> dict[str, Any]:
    """Two authors and five books with a spread of years, tags and ISBNs."""
    le_guin = await create_author(client, "Ursula K. Le Guin")
    banks = await create_author(client, "Iain M. Banks")
    books = {
        "The Dispossessed": (le_guin, 1974, ["sf", "utopia"], ISBNS[1]),
        "The Left Hand of Darkness": (le_guin, 1969, ["sf"], ISBNS[0]),
        "A Wizard of Earthsea": (le_guin, 1968, ["fantasy"], None),
        "Consider Phlebas": (banks, 1987, ["SF", "space opera"], ISBNS[2]),
        "Unpublished Notes": (banks, None, [], None),
    }
    for title, (author, year, tags, isbn) in books.items():
        await create_book(client, author["id"], title, published_year=year, tags=tags, isbn=isbn)
    return {"le_guin": le_guin, "banks": banks}


async def test_items_carry_author_and_tags(client: AsyncClient) -> None:
    authors = await catalogue(client)
    page = await list_books(client, q="Phlebas")
    assert len(page["items"]) == 1
    book = page["items"][0]
    assert book["author"] == {"id": authors["banks"]["id"], "name": "Iain M. Banks"}
    assert book["tags"] == ["sf", "space opera"]
    assert book["isbn"] == ISBNS[2]


async def test_empty_list(client: AsyncClient) -> None:
    response = await client.get("/books")
    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "meta": {"page": 1, "per_page": 20, "total": 0, "pages": 0},
    }
    assert set(link_targets(response)) == {"first", "last"}


async def test_filter_by_author(client: AsyncClient) -> None:
    authors = await catalogue(client)
    assert await titles(client, author_id=authors["banks"]["id"]) == [
        "Consider Phlebas",
        "Unpublished Notes",
    ]
    other = await create_author(client, "Nobody Yet")
    assert await titles(client, author_id=other["id"]) == []


@pytest.mark.parametrize("tag", ["sf", "SF", " Sf "])
async def test_filter_by_tag_ignores_case(client: AsyncClient, tag: str) -> None:
    await catalogue(client)
    page = await list_books(client, tag=tag)
    assert [book["title"] for book in page["items"]] == [
        "Consider Phlebas",
        "The Dispossessed",
        "The Left Hand of Darkness",
    ]
    assert page["meta"]["total"] == 3


@pytest.mark.parametrize(("tag", "expected"), [("Space Opera", 1), ("utopia", 1), ("horror", 0)])
async def test_filter_by_other_tags(client: AsyncClient, tag: str, expected: int) -> None:
    await catalogue(client)
    assert (await list_books(client, tag=tag))["meta"]["total"] == expected


@pytest.mark.parametrize(
    "isbn", ["0-06-051275-X", "006051275x", "9780060512750", "978-0-06-051275-0", "978 0060512750"]
)
async def test_filter_by_isbn_in_any_spelling(client: AsyncClient, isbn: str) -> None:
    await catalogue(client)
    assert await titles(client, isbn=isbn) == ["The Dispossessed"]


@pytest.mark.parametrize("isbn", ["0-06-051275-3", "12345", "not an isbn", "0" * 33])
async def test_invalid_isbn_filter_is_a_422(client: AsyncClient, isbn: str) -> None:
    response = await client.get("/books", params={"isbn": isbn})
    assert error_locs(response) == [["query", "isbn"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"year_from": 1969},
            ["Consider Phlebas", "The Dispossessed", "The Left Hand of Darkness"],
        ),
        ({"year_from": 1974}, ["Consider Phlebas", "The Dispossessed"]),
        ({"year_to": 1969}, ["A Wizard of Earthsea", "The Left Hand of Darkness"]),
        ({"year_to": 1967}, []),
        ({"year_from": 1969, "year_to": 1974}, ["The Dispossessed", "The Left Hand of Darkness"]),
        ({"year_from": 1974, "year_to": 1974}, ["The Dispossessed"]),
        ({"year_from": 1975, "year_to": 1974}, []),
        (
            {"year_from": -3000},
            [
                "A Wizard of Earthsea",
                "Consider Phlebas",
                "The Dispossessed",
                "The Left Hand of Darkness",
            ],
        ),
    ],
)
async def test_year_bounds_are_inclusive_and_skip_books_without_a_year(
    client: AsyncClient, params: dict[str, int], expected: list[str]
) -> None:
    await catalogue(client)
    assert await titles(client, **params) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("the", ["The Dispossessed", "The Left Hand of Darkness"]),
        ("DISPOSS", ["The Dispossessed"]),
        ("hand of", ["The Left Hand of Darkness"]),
        ("%", ["100% Pure"]),
        ("0%", ["100% Pure"]),
        ("_", ["snake_case"]),
        ("e_c", ["snake_case"]),
        ("%_", []),
        ("xyz", []),
    ],
)
async def test_q_is_a_case_insensitive_literal_substring(
    client: AsyncClient, q: str, expected: list[str]
) -> None:
    await catalogue(client)
    author = await create_author(client, "Typist")
    for title in ("100% Pure", "1000 Pure", "snake_case", "snakeXcase"):
        await create_book(client, author["id"], title)
    assert await titles(client, q=q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("émile", ["ÉMILE"]),
        ("ÄRGER", ["ärger im paradies"]),
        ("STRASSE", ["Die Straße"]),
        ("ss" * 3, ["ß" * 500]),
    ],
)
async def test_q_ignores_case_beyond_ascii(
    client: AsyncClient, q: str, expected: list[str]
) -> None:
    author = await create_author(client)
    # "ß" * 500 is a title at its limit whose folded form ("ss" * 500) is twice as long.
    for title in ("ÉMILE", "Emile", "ärger im paradies", "Die Straße", "ß" * 500):
        await create_book(client, author["id"], title)
    assert await titles(client, q=q) == expected


async def test_filters_combine(client: AsyncClient) -> None:
    authors = await catalogue(client)
    le_guin = authors["le_guin"]["id"]
    assert await titles(client, author_id=le_guin, tag="SF") == [
        "The Dispossessed",
        "The Left Hand of Darkness",
    ]
    assert await titles(client, author_id=le_guin, tag="sf", year_from=1970) == ["The Dispossessed"]
    assert await titles(client, tag="sf", q="the", year_to=1970) == ["The Left Hand of Darkness"]
    assert await titles(client, author_id=authors["banks"]["id"], q="the") == []
    page = await list_books(client, tag="sf", year_to=1980, per_page=1)
    assert page["meta"] == {"page": 1, "per_page": 1, "total": 2, "pages": 2}


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"author_id": "not-a-uuid"}, ["query", "author_id"]),
        ({"year_from": "soon"}, ["query", "year_from"]),
        ({"year_to": "1.5"}, ["query", "year_to"]),
        ({"q": ""}, ["query", "q"]),
        ({"q": "nul\x00"}, ["query", "q"]),
        ({"tag": "t" * 51}, ["query", "tag"]),
    ],
)
async def test_invalid_filters_are_a_422(
    client: AsyncClient, params: dict[str, str], loc: list[str]
) -> None:
    response = await client.get("/books", params=params)
    assert loc in error_locs(response)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (
            None,
            ["A Wizard", "Consider Phlebas", "The Dispossessed", "The Left Hand", "Unpublished"],
        ),
        (
            "title",
            ["A Wizard", "Consider Phlebas", "The Dispossessed", "The Left Hand", "Unpublished"],
        ),
        (
            "-title",
            ["Unpublished", "The Left Hand", "The Dispossessed", "Consider Phlebas", "A Wizard"],
        ),
        (
            "published_year",
            ["A Wizard", "The Left Hand", "The Dispossessed", "Consider Phlebas", "Unpublished"],
        ),
        (
            "-published_year",
            ["Unpublished", "Consider Phlebas", "The Dispossessed", "The Left Hand", "A Wizard"],
        ),
        (
            "created_at",
            ["The Dispossessed", "The Left Hand", "A Wizard", "Consider Phlebas", "Unpublished"],
        ),
        (
            "-created_at",
            ["Unpublished", "Consider Phlebas", "A Wizard", "The Left Hand", "The Dispossessed"],
        ),
    ],
)
async def test_sort(client: AsyncClient, sort: str | None, expected: list[str]) -> None:
    author = await create_author(client)
    # Created in an order that matches none of the sorts' orders.
    for title, year in [
        ("The Dispossessed", 1974),
        ("The Left Hand", 1969),
        ("A Wizard", 1968),
        ("Consider Phlebas", 1987),
        ("Unpublished", None),
    ]:
        await create_book(client, author["id"], title, published_year=year)
    params = {} if sort is None else {"sort": sort}
    assert await titles(client, **params) == expected


async def test_sort_by_updated_at(client: AsyncClient) -> None:
    author = await create_author(client)
    first = await create_book(client, author["id"], "First")
    await create_book(client, author["id"], "Second")
    await create_book(client, author["id"], "Third")
    response = await client.patch(f"/books/{first['id']}", json={"description": "Revised."})
    assert response.status_code == 200
    assert await titles(client, sort="updated_at") == ["Second", "Third", "First"]
    assert await titles(client, sort="-updated_at") == ["First", "Third", "Second"]


async def test_sort_by_several_fields(client: AsyncClient) -> None:
    author = await create_author(client)
    for title, year in [("B", 2000), ("A", 2000), ("C", 1990), ("D", None), ("E", None)]:
        await create_book(client, author["id"], title, published_year=year)
    assert await titles(client, sort="-published_year,title") == ["D", "E", "A", "B", "C"]
    assert await titles(client, sort="published_year,-title") == ["C", "B", "A", "E", "D"]
    assert await titles(client, sort=" published_year , title ") == ["C", "A", "B", "D", "E"]


@pytest.mark.parametrize(("sort", "reverse"), [("title", False), ("-title", True)])
async def test_id_breaks_ties_so_paging_sees_each_book_once(
    client: AsyncClient, sort: str, reverse: bool
) -> None:
    author = await create_author(client)
    ids = [(await create_book(client, author["id"], "Same Title"))["id"] for _ in range(5)]
    seen: list[str] = []
    for page_number in range(1, 6):
        page = await list_books(client, sort=sort, per_page=1, page=page_number)
        assert page["meta"] == {"page": page_number, "per_page": 1, "total": 5, "pages": 5}
        seen.extend(book["id"] for book in page["items"])
    assert seen == sorted(ids, reverse=reverse)
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize(
    "sort", ["rating", "-rating", "title,rating", "", "--title", "author_id", "title,"]
)
async def test_unknown_sort_field_is_a_422_naming_the_allowed_ones(
    client: AsyncClient, sort: str
) -> None:
    response = await client.get("/books", params={"sort": sort})
    assert error_locs(response) == [["query", "sort"]]
    message = response.json()["errors"][0]["msg"]
    for field in ("title", "published_year", "created_at", "updated_at"):
        assert field in message


@pytest.mark.parametrize(("per_page", "pages"), [(1, 7), (2, 4), (3, 3), (7, 1), (100, 1)])
async def test_meta_counts_every_match(client: AsyncClient, per_page: int, pages: int) -> None:
    author = await create_author(client)
    for number in range(7):
        await create_book(client, author["id"], f"Book {number}")
    page = await list_books(client, per_page=per_page)
    assert page["meta"] == {"page": 1, "per_page": per_page, "total": 7, "pages": pages}
    assert pages == math.ceil(7 / per_page)
    assert len(page["items"]) == min(per_page, 7)
    last = await list_books(client, per_page=per_page, page=pages)
    assert len(last["items"]) == 7 - per_page * (pages - 1)


async def test_page_past_the_end_is_empty_with_the_true_meta(client: AsyncClient) -> None:
    author = await create_author(client)
    for number in range(3):
        await create_book(client, author["id"], f"Book {number}")
    response = await client.get("/books", params={"per_page": 2, "page": 5})
    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "meta": {"page": 5, "per_page": 2, "total": 3, "pages": 2},
    }
    rels = link_targets(response)
    assert rels["prev"][1]["page"] == ["2"]
    assert "next" not in rels


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"per_page": 0}, ["query", "per_page"]),
        ({"per_page": 101}, ["query", "per_page"]),
        ({"per_page": -1}, ["query", "per_page"]),
        ({"per_page": "ten"}, ["query", "per_page"]),
        ({"page": 0}, ["query", "page"]),
        ({"page": -1}, ["query", "page"]),
        ({"page": "1.5"}, ["query", "page"]),
    ],
)
async def test_page_parameters_out_of_bounds_are_a_422(
    client: AsyncClient, params: dict[str, Any], loc: list[str]
) -> None:
    response = await client.get("/books", params=params)
    assert error_locs(response) == [loc]


async def test_link_header_keeps_filters_and_sort(client: AsyncClient) -> None:
    author = await create_author(client)
    for year in (2001, 2002, 2003):
        await create_book(client, author["id"], f"Book {year}", published_year=year, tags=["sf"])
    await create_book(client, author["id"], "Untagged", published_year=2002)
    params = {
        "author_id": author["id"],
        "tag": "SF",
        "year_from": "2000",
        "sort": "-published_year,title",
        "per_page": "1",
        "page": "2",
    }
    response = await client.get("/books", params=params)
    assert response.status_code == 200
    assert [book["title"] for book in response.json()["items"]] == ["Book 2002"]
    rels = link_targets(response)
    assert {rel: query["page"] for rel, (_, query) in rels.items()} == {
        "first": ["1"],
        "prev": ["1"],
        "next": ["3"],
        "last": ["3"],
    }
    for path, query in rels.values():
        assert path == "/books"
        assert {key: value for key, value in query.items() if key != "page"} == {
            key: [value] for key, value in params.items() if key != "page"
        }
    # Following the links gives the neighbouring pages.
    next_path, next_query = rels["next"]
    following = await client.get(next_path, params={k: v[0] for k, v in next_query.items()})
    assert [book["title"] for book in following.json()["items"]] == ["Book 2001"]


async def test_link_header_on_the_first_and_last_page(client: AsyncClient) -> None:
    author = await create_author(client)
    for number in range(3):
        await create_book(client, author["id"], f"Book {number}")
    first = await client.get("/books", params={"per_page": 2})
    assert {rel: query["page"] for rel, (_, query) in link_targets(first).items()} == {
        "first": ["1"],
        "next": ["2"],
        "last": ["2"],
    }
    last = await client.get("/books", params={"per_page": 2, "page": 2})
    assert {rel: query["page"] for rel, (_, query) in link_targets(last).items()} == {
        "first": ["1"],
        "prev": ["1"],
        "last": ["2"],
    }
