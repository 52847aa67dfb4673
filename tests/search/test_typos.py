"""Typos and the six ranking rules of `search` (contract v1.2), on either database."""

from random import Random
from typing import Any

import pytest
from httpx import AsyncClient

from app.search.typos import allowed_typos, distance, in_reach, variants
from tests.helpers.catalogue import create_author, create_book


async def titles(client: AsyncClient, text: str, path: str = "/books", **params: Any) -> list[str]:
    response = await client.get(path, params={"search": text, "per_page": 100, **params})
    assert response.status_code == 200, response.text
    key = "title" if path == "/books" else "name"
    return [item[key] for item in response.json()["items"]]


async def shelf(client: AsyncClient) -> None:
    tolkien = await create_author(client, "J. R. R. Tolkien")
    rowling = await create_author(client, "J. K. Rowling")
    orwell = await create_author(client, "George Orwell")
    await create_book(client, tolkien["id"], "The Hobbit")
    await create_book(client, rowling["id"], "Harry Potter and the Chamber of Secrets")
    await create_book(client, orwell["id"], "Nineteen Eighty-Four", description="Written 1984.")
    await create_book(client, orwell["id"], "Animal Farm", tags=["satire"])
    await create_book(client, orwell["id"], "Down and Out in Paris and London")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tolkein", ["The Hobbit"]),  # two neighbours swapped: one edit
        ("hary poter", ["Harry Potter and the Chamber of Secrets"]),
        ("hary pot", ["Harry Potter and the Chamber of Secrets"]),
        ("chamger", ["Harry Potter and the Chamber of Secrets"]),  # 7 letters, one edit
        ("chambre", ["Harry Potter and the Chamber of Secrets"]),
        ("animla frm", []),  # "frm" has three letters: no typo
        ("hobit", ["The Hobbit"]),  # five letters, one edit
        ("hbit", []),  # four letters, two edits
        ("nineten", ["Nineteen Eighty-Four"]),  # seven letters, one edit
        ("ninteen eigty", ["Nineteen Eighty-Four"]),
        ("nienetn", []),  # seven letters, three edits
        ("1985", []),  # digits: no typos
        ("198", ["Nineteen Eighty-Four"]),  # digits: a prefix still
        ("satyre", ["Animal Farm"]),
        ('"tolkein"', []),  # quoted words match exactly
        ('"hary potter"', []),
    ],
)
async def test_words_one_or_two_edits_away_match_by_length(
    client: AsyncClient, text: str, expected: list[str]
) -> None:
    await shelf(client)
    assert await titles(client, text) == expected


async def test_typos_can_be_turned_off_and_exclusions_are_exact(client: AsyncClient) -> None:
    await shelf(client)
    assert await titles(client, "tolkein", typos="false") == []
    assert await titles(client, "tolkien", typos="false") == ["The Hobbit"]
    # An excluded typo excludes nothing: "orwel" is no word of any book.
    assert len(await titles(client, "orwell -orwel")) == 3
    assert await titles(client, "orwell -animal -paris") == ["Nineteen Eighty-Four"]
    assert await titles(client, "rowlnig", "/authors") == ["J. K. Rowling"]


async def test_typo_matches_are_highlighted(client: AsyncClient) -> None:
    await shelf(client)
    response = await client.get("/books", params={"search": "hary pot", "highlight": "true"})
    item = response.json()["items"][0]
    assert item["highlights"]["title"] == [[0, 5], [6, 12]]
    response = await client.get("/authors", params={"search": "tolkein", "highlight": "true"})
    assert response.json()["items"][0]["highlights"] == {"name": [[9, 16]]}


async def test_exact_words_rank_above_prefixes_then_shorter_titles_first(
    client: AsyncClient,
) -> None:
    author = await create_author(client, "Anonymous")
    for title in ("Yankee kwxq one", "Alpha kwxqzz one", "Bravo kwxqyy one", "Zulu kwxq one"):
        await create_book(client, author["id"], title)
    assert await titles(client, "kwxq") == [
        "Zulu kwxq one",
        "Yankee kwxq one",
        "Alpha kwxqzz one",
        "Bravo kwxqyy one",
    ]
    # Fields sorted after rule 5: equal titles lengths, then -title, then id.
    assert await titles(client, "kwxq", sort="relevance,-title") == [
        "Zulu kwxq one",
        "Yankee kwxq one",
        "Bravo kwxqyy one",
        "Alpha kwxqzz one",
    ]


async def test_each_rule_breaks_the_ties_of_the_one_before(client: AsyncClient) -> None:
    author = await create_author(client, "Vwxy Qzt")
    books = [
        # (1) fewer typos first: "drgaon" is one typo from "dragon".
        ("Drgaon Rider", {}),
        # (2) both words in a row in one value before words apart.
        ("Dragon Rider", {}),
        ("Dragon Rider Returns", {}),
        ("Rider of the Dragon", {}),
        ("Dragon", {"description": "A rider came."}),
        # (3) title before series before description.
        ("Something Else", {"series": "Dragon Rider"}),
        # (4) the title is the query, then starts with it, then whole words, then prefixes.
        ("Dragon Riders of Pern", {}),
        ("The Dragon Rider", {}),
        ("Dragons Riders", {}),
    ]
    for title, fields in books:
        await create_book(client, author["id"], title, **fields)
    assert await titles(client, "dragon rider") == [
        "Dragon Rider",  # rule 4: the whole title
        "Dragon Rider Returns",  # rule 4: starts with the query, though longer
        "The Dragon Rider",  # rule 4: whole words
        "Dragons Riders",  # rule 4: prefixes, shorter (rule 5) than the next
        "Dragon Riders of Pern",
        "Something Else",  # rule 3: in a row in the series, not the title
        "Dragon",  # rule 2: the words apart; shorter than the next
        "Rider of the Dragon",
        "Drgaon Rider",  # rule 1: one typo
    ]


def test_the_deletion_neighbourhood_finds_every_word_in_reach() -> None:
    assert distance("tolkein", "tolkien") == 1
    assert distance("abcdef", "badcfe") == 3
    vocabulary = ["tolkien", "token", "tolkiens", "stolkien", "xolkienx", "talkien", "tolk"]
    assert in_reach("tolkein", vocabulary) == {
        "tolkien": 1,
        "token": 2,
        "tolkiens": 2,
        "stolkien": 2,
        "talkien": 2,
    }
    # A word that starts with the typed word matches as a prefix, not as a typo.
    assert in_reach("harr", ["harry", "hair"]) == {"hair": 1}
    # Every word within reach shares a string of the two neighbourhoods, even with edits
    # past the first seven characters.
    random = Random(26)
    for _ in range(2000):
        word = "".join(random.choice("abcde") for _ in range(random.randint(4, 12)))
        typo = list(word)
        for _ in range(random.randint(1, 2)):
            at = random.randrange(len(typo))
            edit = random.choice(("insert", "delete", "replace", "swap"))
            if edit == "insert":
                typo.insert(at, random.choice("abcde"))
            elif edit == "delete" and len(typo) > 4:
                del typo[at]
            elif edit == "replace":
                typo[at] = random.choice("abcde")
            elif at + 1 < len(typo):
                typo[at], typo[at + 1] = typo[at + 1], typo[at]
        typed = "".join(typo)
        typos = allowed_typos(typed)
        if typed != word and distance(typed, word) <= typos:
            assert variants(typed, typos) & variants(word, 2), (typed, word)


async def test_a_cursor_walk_over_typos_and_ranks_returns_each_match_once(
    client: AsyncClient,
) -> None:
    author = await create_author(client, "Anonymous Writer")
    for title in ("Hairy Tales", "Harry", "Harry Again", "Hurry Home", "Harrowing", "Marry Me"):
        await create_book(client, author["id"], title)
    everything = await titles(client, "harry")
    # Exact before typos, then the shorter title; "harrowing" is four edits away.
    assert everything == ["Harry", "Harry Again", "Marry Me", "Hurry Home", "Hairy Tales"]
    walked: list[str] = []
    cursor = ""
    while cursor is not None:
        response = await client.get(
            "/books", params={"search": "harry", "per_page": 2, "cursor": cursor}
        )
        page = response.json()
        walked += [item["title"] for item in page["items"]]
        cursor = page["meta"]["next_cursor"]
    assert walked == everything
