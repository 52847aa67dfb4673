"""`search` on /books and /authors: the same cases on SQLite and PostgreSQL."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import create_author, create_book


async def catalogue(client: AsyncClient) -> dict[str, str]:
    """A few books whose words test matching and ranking; returns their ids by title."""
    gabo = await create_author(client, "Gabriel García Márquez")
    rowling = await create_author(client, "J. K. Rowling")
    zola = (
        await client.post("/authors", json={"name": "E\u0301mile Zola", "bio": "Né à Paris."})
    ).json()
    ada = await create_author(client, "Ada Lovelace")
    books = [
        (gabo, "Cien años de soledad", ["realismo mágico"], "Macondo y los Buendía."),
        (gabo, "El amor en los tiempos del cólera", ["novela"], None),
        (rowling, "Harry Potter and the Philosopher's Stone", ["fantasy"], "A boy wizard."),
        (rowling, "Harry Potter and the Chamber of Secrets", ["fantasy"], None),
        (rowling, "The Casual Vacancy", ["drama"], "Harry is not here; a potter is."),
        (zola, "Germinal", ["naturalisme"], "Une grève des mineurs."),
        (ada, "Harrying the multi-agent systems", ["science"], None),
    ]
    ids = {}
    for author, title, tags, description in books:
        fields: dict[str, Any] = {"tags": tags}
        if description:
            fields["description"] = description
        ids[title] = (await create_book(client, author["id"], title, **fields))["id"]
    return ids


async def search(client: AsyncClient, path: str = "/books", **params: Any) -> dict[str, Any]:
    response = await client.get(path, params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def found(client: AsyncClient, text: str, **params: Any) -> list[str]:
    page = await search(client, search=text, **params)
    return [item["title"] for item in page["items"]]


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("garcia marquez", {"Cien años de soledad", "El amor en los tiempos del cólera"}),
        ("CIEN AÑOS", {"Cien años de soledad"}),
        (
            "harry pot",
            {
                "Harry Potter and the Philosopher's Stone",
                "Harry Potter and the Chamber of Secrets",
                "The Casual Vacancy",
            },
        ),
        (
            '"harry potter"',
            {
                "Harry Potter and the Philosopher's Stone",
                "Harry Potter and the Chamber of Secrets",
            },
        ),
        (
            "harry -secrets -vacancy",
            {
                "Harry Potter and the Philosopher's Stone",
                "Harrying the multi-agent systems",
            },
        ),
        ("emile", {"Germinal"}),
        ("E\u0301MILE naturalisme", {"Germinal"}),
        ("multi-agent", {"Harrying the multi-agent systems"}),
        ("realismo magico", {"Cien años de soledad"}),
        ("wizard", {"Harry Potter and the Philosopher's Stone"}),
        ("potter AND OR NEAR(x", set()),
        ("philosopher's", {"Harry Potter and the Philosopher's Stone"}),
        ("nothing-like-this", set()),
    ],
)
async def test_every_word_must_match(client: AsyncClient, text: str, titles: set[str]) -> None:
    await catalogue(client)
    assert set(await found(client, text)) == titles


async def test_a_title_match_ranks_first_and_exact_words_above_prefixes(
    client: AsyncClient,
) -> None:
    await catalogue(client)
    titles = await found(client, "harry")
    # "Harry" in the title beats "Harry" in the description; "Harrying" is only a prefix.
    assert titles.index("The Casual Vacancy") > 1
    assert titles.index("Harrying the multi-agent systems") > 1
    assert set(titles[:2]) == {
        "Harry Potter and the Philosopher's Stone",
        "Harry Potter and the Chamber of Secrets",
    }


async def test_search_combines_with_filters_sort_and_count(client: AsyncClient) -> None:
    await catalogue(client)
    page = await search(client, search="harry", tag="fantasy", sort="-title", per_page=1)
    assert [item["title"] for item in page["items"]] == ["Harry Potter and the Philosopher's Stone"]
    assert page["meta"]["total"] == 2
    page = await search(client, search="harry", count="none", per_page=2)
    assert page["meta"]["total"] is None
    assert len(page["items"]) == 2
    page = await search(client, search="harry", sort="relevance,-title", year_to=3000)
    assert page["meta"]["total"] == 0


async def test_a_cursor_walk_over_relevance_returns_each_match_once(client: AsyncClient) -> None:
    await catalogue(client)
    everything = await found(client, "a")
    walked: list[str] = []
    cursor = ""
    while cursor is not None:
        page = await search(client, search="a", per_page=2, cursor=cursor)
        walked += [item["title"] for item in page["items"]]
        cursor = page["meta"]["next_cursor"]
    assert walked == everything
    assert len(everything) >= 5


@pytest.mark.parametrize("path", ["/books", "/authors"])
async def test_pages_by_number_tile_the_ranked_list_however_it_is_read(
    client: AsyncClient, path: str
) -> None:
    # Relevance pages by number pick their matches before joining the rows; after a cursor
    # the statement joins every match first. Both must give one order.
    await catalogue(client)
    author = await create_author(client, "Nobody Known")
    for number in range(8):
        # Equal scores: the id decides.
        if path == "/authors":
            await create_author(client, f"Ana Tie {number}")
        else:
            await create_book(client, author["id"], f"Ana Tie {number}")
    expected: list[str] = []
    cursor = ""
    while cursor is not None:
        page = await search(client, path, search="a", per_page=3, cursor=cursor)
        expected += [item["id"] for item in page["items"]]
        cursor = page["meta"]["next_cursor"]
    assert len(expected) >= 9
    paged: list[str] = []
    for number in range(1, len(expected) // 2 + 2):
        page = await search(client, path, search="a", per_page=2, page=number)
        assert page["meta"]["total"] == len(expected)
        paged += [item["id"] for item in page["items"]]
    assert paged == expected


async def test_authors_are_searched_by_name_and_bio(client: AsyncClient) -> None:
    await catalogue(client)
    page = await search(client, "/authors", search="paris")
    assert [item["name"] for item in page["items"]] == ["E\u0301mile Zola"]
    page = await search(client, "/authors", search="rowl")
    assert [item["name"] for item in page["items"]] == ["J. K. Rowling"]
    assert "highlights" not in page["items"][0]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"search": ""}, ["query", "search"]),
        ({"search": " ,;!? "}, ["query", "search"]),
        ({"search": "-harry -potter"}, ["query", "search"]),
        ({"search": "x" * 201}, ["query", "search"]),
        ({"search": "a b c d e f g h i j k"}, ["query", "search"]),
        ({"search": 'a b c d e f g h "i j k"'}, ["query", "search"]),
        ({"search": "a b c d e f g h i j -k"}, ["query", "search"]),
        ({"sort": "relevance"}, ["query", "sort"]),
    ],
)
async def test_text_without_a_word_or_with_too_many_is_refused(
    client: AsyncClient, params: dict[str, str], loc: list[str]
) -> None:
    for path in ("/books", "/authors"):
        response = await client.get(path, params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert loc in [error["loc"] for error in response.json()["errors"]]


async def test_repeated_words_search_as_one_word(
    client: AsyncClient, statements: list[tuple[str, Any]]
) -> None:
    await catalogue(client)
    for path, word in (("/books", "harry"), ("/authors", "rowling")):
        answers, sent = [], []
        # Within the 200 characters, as many times as they fit.
        repeated = " ".join([word] * (200 // (len(word) + 1)))
        for text in (word, repeated, f"{word.title()} {word.upper()} {word}"):
            statements.clear()
            answers.append((await search(client, path, search=text))["items"])
            sent.append([parameters for _statement, parameters in statements])
        assert answers[0] == answers[1] == answers[2]
        assert answers[0]
        assert sent[0] == sent[1] == sent[2]


async def test_ten_distinct_words_are_allowed_however_often_repeated(client: AsyncClient) -> None:
    text = " ".join(["a b c d e f g h i j"] * 10)
    for path in ("/books", "/authors"):
        response = await client.get(path, params={"search": text[:200]})
        assert response.status_code == 200, response.text
