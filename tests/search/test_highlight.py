"""`highlight=true`: offsets in code points into each field's value as the item shows it."""

from typing import Any

from httpx import AsyncClient

from app.search.highlight import offsets
from app.search.text import parse
from tests.helpers.catalogue import create_author, create_book


def marked(value: str, spans: list[list[int]]) -> list[str]:
    return [value[start:end] for start, end in spans]


async def test_offsets_are_code_points_into_each_shown_field(client: AsyncClient) -> None:
    author = await create_author(client, "E\u0301mile Zola")
    title = "😀 Émile et le café de 北京大学"
    await create_book(
        client,
        author["id"],
        title,
        tags=["cafe\u0301s", "zola", "emile"],
        description="Zola, ﬁn de siècle: CAFÉ-théâtre.",
    )
    response = await client.get(
        "/books", params={"search": "emile caf 北京 -nothing", "highlight": "true"}
    )
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["items"][0]
    shown = item["highlights"]
    assert marked(item["title"], shown["title"]) == ["Émile", "café", "北京大学"]
    assert shown["title"][0] == [2, 7]
    assert marked(item["author"]["name"], shown["author"]) == ["E\u0301mile"]
    assert shown["author"] == [[0, 6]]
    tags = ", ".join(item["tags"])
    assert marked(tags, shown["tags"]) == ["cafés", "emile"]
    assert marked(item["description"], shown["description"]) == ["CAFÉ"]


async def test_highlights_only_when_asked_and_only_for_fields_that_matched(
    client: AsyncClient,
) -> None:
    author = await create_author(client, "Ursula K. Le Guin")
    await create_book(client, author["id"], "The Dispossessed", tags=["anarchism"])
    page = (await client.get("/books", params={"search": "dispos"})).json()
    assert "highlights" not in page["items"][0]
    page = (await client.get("/books", params={"search": "dispos", "highlight": "true"})).json()
    assert page["items"][0]["highlights"] == {"title": [[4, 16]]}
    page = (await client.get("/authors", params={"search": "ursula", "highlight": "true"})).json()
    assert page["items"][0]["highlights"] == {"name": [[0, 6]]}


def test_a_folded_word_that_splits_is_marked_whole() -> None:
    # "½" folds to "1⁄2", two words; "ﬁ" to "fi".
    assert offsets("a ½ cup, ﬁne", parse("1 fin")) == [(2, 3), (9, 12)]
