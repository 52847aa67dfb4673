"""GET /books?facets=: counts over every matching book, with filters, search and cursors."""

from typing import Any

import pytest
from httpx import AsyncClient

from app.books.facets import FACET_NAMES
from app.main import create_app
from tests.helpers.catalogue import create_author, create_book, list_books
from tests.helpers.problems import assert_problem, error_locs


async def catalogue(client: AsyncClient) -> dict[str, Any]:
    """Three authors and six books; one book has no year, tags, publisher, language or series."""
    le_guin = await create_author(client, "Ursula K. Le Guin")
    banks = await create_author(client, "Iain M. Banks")
    anon = await create_author(client, "Anonymous")
    ace = {"publisher": "Ace", "language": "en"}
    books: list[tuple[str, list[str], dict[str, Any]]] = [
        (
            "The Dispossessed",
            [le_guin["id"]],
            {**ace, "published_year": 1974, "tags": ["sf", "utopia"]},
        ),
        (
            "The Left Hand of Darkness",
            [le_guin["id"]],
            {**ace, "published_year": 1969, "tags": ["sf"]},
        ),
        (
            "A Wizard of Earthsea",
            [le_guin["id"], anon["id"]],
            {**ace, "published_year": 1968, "tags": ["fantasy"], "series": "Earthsea"},
        ),
        (
            "Consider Phlebas",
            [banks["id"]],
            {"published_year": 1987, "tags": ["sf", "space opera"], "publisher": "Orbit"},
        ),
        ("Epic of Gilgamesh", [anon["id"]], {"published_year": -725, "language": "akk"}),
        ("Unpublished Notes", [banks["id"]], {}),
    ]
    for title, author_ids, fields in books:
        body = {"title": title, "author_ids": author_ids, **fields}
        response = await client.post("/books", json=body)
        assert response.status_code == 201, response.text
    return {"le_guin": le_guin, "banks": banks, "anon": anon}


def values(facet: list[dict[str, Any]]) -> list[tuple[Any, int]]:
    return [(entry["value"], entry["count"]) for entry in facet]


async def facets(client: AsyncClient, **params: Any) -> dict[str, Any]:
    page = await list_books(client, **params)
    found: dict[str, Any] = page["meta"]["facets"]
    return found


async def test_counts_every_matching_book_not_only_the_page(client: AsyncClient) -> None:
    await catalogue(client)
    page = await list_books(client, facets="tags,decade,publisher,language,series", per_page=1)
    assert len(page["items"]) == 1
    found = page["meta"]["facets"]
    assert set(found) == {"tags", "decade", "publisher", "language", "series"}
    assert values(found["tags"]) == [("sf", 3), ("fantasy", 1), ("space opera", 1), ("utopia", 1)]
    # Ties by value, ascending; books without a year are not counted.
    assert values(found["decade"]) == [(1960, 2), (-730, 1), (1970, 1), (1980, 1)]
    assert values(found["publisher"]) == [("Ace", 3), ("Orbit", 1)]
    assert values(found["language"]) == [("en", 3), ("akk", 1)]
    assert values(found["series"]) == [("Earthsea", 1)]


async def test_authors_are_id_and_name_tied_by_name(client: AsyncClient) -> None:
    people = await catalogue(client)
    found = await facets(client, facets="authors")
    shown = [(entry["value"], entry["count"]) for entry in found["authors"]]
    assert shown == [
        ({"id": people["le_guin"]["id"], "name": "Ursula K. Le Guin"}, 3),
        ({"id": people["anon"]["id"], "name": "Anonymous"}, 2),
        ({"id": people["banks"]["id"], "name": "Iain M. Banks"}, 2),
    ]
    # The last place goes to the first of the tied authors by name.
    found = await facets(client, facets="authors", facet_size=2)
    assert [entry["value"]["name"] for entry in found["authors"]] == [
        "Ursula K. Le Guin",
        "Anonymous",
    ]


async def test_authors_of_one_name_are_tied_by_id(client: AsyncClient) -> None:
    first = await create_author(client, "Jo Smith")
    second = await create_author(client, "Jo Smith")
    for author in (second, first):
        await create_book(client, author["id"], "A Book")
    found = await facets(client, facets="authors")
    assert [entry["value"]["id"] for entry in found["authors"]] == sorted(
        [first["id"], second["id"]]
    )


async def test_filters_narrow_the_counts(client: AsyncClient) -> None:
    people = await catalogue(client)
    found = await facets(client, facets="tags,authors", tag="sf", year_from=1970)
    assert values(found["tags"]) == [("sf", 2), ("space opera", 1), ("utopia", 1)]
    assert [(entry["value"]["name"], entry["count"]) for entry in found["authors"]] == [
        ("Iain M. Banks", 1),
        ("Ursula K. Le Guin", 1),
    ]
    found = await facets(client, facets="decade", author_id=people["anon"]["id"])
    assert values(found["decade"]) == [(-730, 1), (1960, 1)]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"q": "the"}, [("sf", 2), ("utopia", 1)]),
        ({"publisher": "ace", "language": "EN"}, [("sf", 2), ("fantasy", 1), ("utopia", 1)]),
        ({"series": "earthsea"}, [("fantasy", 1)]),
        ({"isbn": "978-0-00-000000-2"}, []),
    ],
)
async def test_every_filter_narrows_the_counts(
    client: AsyncClient, filters: dict[str, str], expected: list[tuple[str, int]]
) -> None:
    await catalogue(client)
    found = await facets(client, facets="tags", **filters)
    assert values(found["tags"]) == expected


async def test_search_narrows_the_counts(client: AsyncClient) -> None:
    await catalogue(client)
    page = await list_books(client, search="the", facets="tags,decade", per_page=1)
    assert page["meta"]["total"] == 2
    found = page["meta"]["facets"]
    assert values(found["tags"]) == [("sf", 2), ("utopia", 1)]
    assert values(found["decade"]) == [(1960, 1), (1970, 1)]


async def test_facet_size_keeps_the_values_with_most_books(client: AsyncClient) -> None:
    await catalogue(client)
    found = await facets(client, facets="tags", facet_size=2)
    assert values(found["tags"]) == [("sf", 3), ("fantasy", 1)]


@pytest.mark.parametrize("size", [0, 101, "ten"])
async def test_facet_size_out_of_bounds_is_a_422(client: AsyncClient, size: Any) -> None:
    response = await client.get("/books", params={"facets": "tags", "facet_size": size})
    assert error_locs(response) == [["query", "facet_size"]]


@pytest.mark.parametrize(
    ("asked", "named"),
    [("colour", "'colour'"), ("tags, colour", "'colour'"), ("tags,", "''"), ("Tags", "'Tags'")],
)
async def test_unknown_facet_is_a_422(client: AsyncClient, asked: str, named: str) -> None:
    response = await client.get("/books", params={"facets": asked})
    body = assert_problem(response, 422)
    [error] = body["errors"]
    assert error["loc"] == ["query", "facets"]
    assert error["type"] == "unknown_facet"
    allowed = "allowed: tags, authors, publisher, language, series, decade"
    assert error["msg"] == f"unknown facet {named}; {allowed}"


async def test_no_match_gives_empty_lists(client: AsyncClient) -> None:
    await catalogue(client)
    page = await list_books(client, facets="tags,authors,decade", tag="horror")
    assert page["items"] == []
    assert page["meta"]["facets"] == {"tags": [], "authors": [], "decade": []}


async def test_without_facets_meta_has_no_facets(client: AsyncClient) -> None:
    await catalogue(client)
    page = await list_books(client)
    assert "facets" not in page["meta"]


async def test_with_count_none_and_by_cursor(client: AsyncClient) -> None:
    await catalogue(client)
    first = await list_books(client, facets="tags,tags", count="none", cursor="", per_page=2)
    assert first["meta"]["total"] is None
    assert values(first["meta"]["facets"]["tags"])[0] == ("sf", 3)
    # The facets belong to the whole list: a cursor made with them continues it without them.
    cursor = first["meta"]["next_cursor"]
    second = await list_books(client, cursor=cursor, per_page=2)
    assert "facets" not in second["meta"]
    third = await list_books(client, cursor=cursor, per_page=2, facets="language")
    assert second["items"] == third["items"]
    assert values(third["meta"]["facets"]["language"]) == [("en", 3), ("akk", 1)]


async def test_publisher_spellings_count_as_one(client: AsyncClient) -> None:
    author = await create_author(client)
    for publisher in ("orbit", "Orbit", "ORBIT", "Ace"):
        await create_book(client, author["id"], publisher=publisher)
    found = await facets(client, facets="publisher")
    assert values(found["publisher"]) == [("ORBIT", 3), ("Ace", 1)]


def test_openapi_documents_the_parameters_and_the_counts() -> None:
    document = create_app().openapi()
    parameters = document["paths"]["/books"]["get"]["parameters"]
    [asked] = [p for p in parameters if p["name"] == "facets"]
    assert asked["schema"]["items"]["enum"] == list(FACET_NAMES)
    assert (asked["style"], asked["explode"]) == ("form", False)
    schemas = document["components"]["schemas"]
    assert schemas["BookPage"]["properties"]["meta"] == {
        "$ref": "#/components/schemas/BookPageMeta"
    }
    facets = schemas["BookPageMeta"]["properties"]["facets"]
    assert facets["$ref"] == "#/components/schemas/BookFacets"
    assert set(schemas["BookFacets"]["properties"]) == set(FACET_NAMES)
    assert "facets" not in schemas["BookPageMeta"]["required"]
