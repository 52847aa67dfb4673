"""Text is compared in NFC: a decomposed "É" is the same letter as a composed one."""

import unicodedata

from httpx import AsyncClient

from tests.helpers.catalogue import create_author, create_book, list_books

COMPOSED = unicodedata.normalize("NFC", "Émile Zola")
DECOMPOSED = unicodedata.normalize("NFD", "Émile Zola")


async def test_a_decomposed_name_finds_a_composed_one(client: AsyncClient) -> None:
    author = await create_author(client, COMPOSED)
    for params in ({"name": DECOMPOSED}, {"q": DECOMPOSED[:4]}, {"name": DECOMPOSED.upper()}):
        page = (await client.get("/authors", params=params)).json()
        assert [item["id"] for item in page["items"]] == [author["id"]], params
    # Stored as sent.
    assert author["name"] == COMPOSED


async def test_a_decomposed_title_finds_a_composed_one(client: AsyncClient) -> None:
    author = await create_author(client)
    book = await create_book(client, author["id"], title=DECOMPOSED)
    page = await list_books(client, q=COMPOSED[:3])
    assert [item["id"] for item in page["items"]] == [book["id"]]
    assert page["items"][0]["title"] == DECOMPOSED


async def test_a_tag_spelt_two_ways_is_one_tag(client: AsyncClient) -> None:
    author = await create_author(client)
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    first = await create_book(client, author["id"], title="One", tags=[composed, decomposed])
    second = await create_book(client, author["id"], title="Two", tags=[decomposed.upper()])
    assert first["tags"] == [composed]
    assert second["tags"] == [composed]
    tags = (await client.get("/tags", params={"q": decomposed})).json()["items"]
    assert [(tag["name"], tag["book_count"]) for tag in tags] == [(composed, 2)]
    page = await list_books(client, tag=decomposed)
    assert {item["id"] for item in page["items"]} == {first["id"], second["id"]}
