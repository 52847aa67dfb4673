"""A book's publisher, language (BCP 47, canonical) and place in a series: written, filtered
on exactly in any case, and sorted by place with unplaced books last either way."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import create_author, create_book, get_book, list_books
from tests.helpers.problems import error_locs


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("ENG", "en"), ("ger", "de"), ("fre", "fr"), ("pt-br", "pt-BR"), ("zh-hant-tw", "zh-Hant-TW")],
)
async def test_a_language_is_stored_in_canonical_form(
    client: AsyncClient, sent: str, stored: str
) -> None:
    author = await create_author(client)
    book = await create_book(client, author["id"], "Tongues", language=sent)
    assert book["language"] == stored
    assert (await get_book(client, book["id"]))["language"] == stored


@pytest.mark.parametrize("language", ["xx", "english", "en_US", "x-private", "", "e" * 65])
async def test_a_language_that_is_not_a_registered_tag_is_a_422(
    client: AsyncClient, language: str
) -> None:
    author = await create_author(client)
    response = await client.post(
        "/books", json={"title": "Babel", "author_id": author["id"], "language": language}
    )
    assert error_locs(response) == [["body", "language"]]


async def test_new_fields_are_written_read_and_cleared(client: AsyncClient) -> None:
    author = await create_author(client)
    book = await create_book(
        client,
        author["id"],
        "The Farthest Shore",
        publisher=" Atheneum ",
        language="en",
        series="Earthsea",
        series_position=3,
    )
    assert (book["publisher"], book["series"], book["series_position"]) == (
        "Atheneum",
        "Earthsea",
        3,
    )
    response = await client.patch(f"/books/{book['id']}", json={"series_position": 2.5})
    assert response.json()["series_position"] == 2.5
    response = await client.patch(f"/books/{book['id']}", json={"series": None, "publisher": None})
    assert response.status_code == 200, response.text
    cleared = response.json()
    assert (cleared["series"], cleared["series_position"], cleared["publisher"]) == (
        None,
        None,
        None,
    )
    assert await get_book(client, book["id"]) == cleared


@pytest.mark.parametrize(
    "fields",
    [
        {"series_position": 1},
        {"series": "Earthsea", "series_position": -1},
        {"series": "Earthsea", "series_position": "2"},
        {"series": "Earthsea", "series_position": True},
        {"series": "x" * 201},
        {"publisher": ""},
    ],
)
async def test_a_place_without_a_series_or_a_bad_value_is_a_422(
    client: AsyncClient, fields: dict[str, Any]
) -> None:
    author = await create_author(client)
    response = await client.post(
        "/books", json={"title": "Nowhere", "author_id": author["id"], **fields}
    )
    locs = error_locs(response)
    assert len(locs) == 1
    assert locs[0][1] in fields


async def test_patching_a_place_needs_a_series_on_the_book_or_in_the_patch(
    client: AsyncClient,
) -> None:
    author = await create_author(client)
    book = await create_book(client, author["id"], "Standalone")
    response = await client.patch(f"/books/{book['id']}", json={"series_position": 1})
    assert error_locs(response) == [["body", "series_position"]]
    response = await client.patch(
        f"/books/{book['id']}", json={"series": None, "series_position": 1}
    )
    assert error_locs(response) == [["body", "series_position"]]
    assert await get_book(client, book["id"]) == book
    response = await client.patch(
        f"/books/{book['id']}", json={"series": "Now one", "series_position": 1}
    )
    assert response.json()["series_position"] == 1


async def test_publisher_language_and_series_filter_exactly_in_any_case(
    client: AsyncClient,
) -> None:
    author = await create_author(client)
    await create_book(client, author["id"], "A", publisher="Éditions Gallimard", language="fr")
    await create_book(client, author["id"], "B", publisher="Gallimard", language="fr-CA")
    await create_book(client, author["id"], "C", series="Les Rougon-Macquart", series_position=1)
    await create_book(client, author["id"], "D", series="Rougon", series_position=1)

    async def titles(**params: str) -> list[str]:
        return [book["title"] for book in (await list_books(client, **params))["items"]]

    assert await titles(publisher="éditions GALLIMARD") == ["A"]
    assert await titles(publisher="gallimard") == ["B"]
    assert await titles(language="FR") == ["A"]
    assert await titles(language="fr-ca") == ["B"]
    assert await titles(series="les rougon-macquart") == ["C"]
    assert await titles(series="rougon") == ["D"]
    response = await client.get("/books", params={"language": "klingon-ish"})
    assert error_locs(response) == [["query", "language"]]


async def test_series_position_sorts_placed_books_first_both_ways_ties_by_title(
    client: AsyncClient,
) -> None:
    author = await create_author(client)
    for title, position in [
        ("Beta", 2),
        ("Alpha", 2),
        ("One", 1),
        ("Half", 1.5),
        ("Unplaced B", None),
        ("Unplaced A", None),
    ]:
        fields = (
            {"series": "Saga"}
            if position is None
            else {"series": "Saga", "series_position": position}
        )
        await create_book(client, author["id"], title, **fields)
    ascending = ["One", "Half", "Alpha", "Beta", "Unplaced A", "Unplaced B"]
    descending = ["Alpha", "Beta", "Half", "One", "Unplaced A", "Unplaced B"]
    for sort, expected in (("series_position", ascending), ("-series_position", descending)):
        page = await list_books(client, sort=sort, series="saga")
        assert [book["title"] for book in page["items"]] == expected, sort
        # A cursor walk, one book a page, gives each book once, in the same order.
        walked: list[str] = []
        params: dict[str, Any] = {"sort": sort, "series": "saga", "per_page": 1, "cursor": ""}
        while True:
            response = await client.get("/books", params=params)
            assert response.status_code == 200, response.text
            walked += [book["title"] for book in response.json()["items"]]
            if (cursor := response.json()["meta"]["next_cursor"]) is None:
                break
            params["cursor"] = cursor
        assert walked == expected, sort
