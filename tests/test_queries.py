"""No endpoint does N+1: the statements a request sends do not grow with the data."""

from typing import Any

import pytest
from httpx import AsyncClient

ROWS = 30


Sent = list[tuple[str, Any]]


def queries(statements: Sent) -> list[str]:
    """The statements that read or write data, without transaction control."""
    control = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")
    return [s for s, _ in statements if not s.lstrip().upper().startswith(control)]


async def count_queries(client: AsyncClient, statements: Sent, url: str, **params: Any) -> int:
    statements.clear()
    answer = await client.get(url, params=params)
    assert answer.status_code == 200, answer.text
    return len(queries(statements))


async def make_catalogue(client: AsyncClient, tags_per_book: int) -> tuple[str, str]:
    """An author with ROWS books, each with `tags_per_book` tags; returns the author and a book."""
    author = (await client.post("/authors", json={"name": f"Author {tags_per_book}"})).json()
    book_id = ""
    for n in range(ROWS):
        tags = [f"tag{t}" for t in range(tags_per_book)]
        book = {"title": f"Book {n}", "author_id": author["id"], "tags": tags}
        book_id = (await client.post("/books", json=book)).json()["id"]
    for n in range(ROWS):
        await client.post("/authors", json={"name": f"Other {tags_per_book}-{n}"})
    return author["id"], book_id


@pytest.mark.parametrize(("url", "expected"), [("/books", 2), ("/authors", 2), ("/tags", 2)])
async def test_lists_send_the_same_statements_for_any_page_size(
    client: AsyncClient, statements: Sent, url: str, expected: int
) -> None:
    await make_catalogue(client, tags_per_book=3)
    small = await count_queries(client, statements, url, per_page=1)
    large = await count_queries(client, statements, url, per_page=100)
    assert small == expected
    # A page that is not full tells the total itself, so it even saves the count.
    assert large == expected - 1


async def test_book_lists_and_details_do_not_grow_with_tags(
    client: AsyncClient, statements: Sent
) -> None:
    few_author, few_book = await make_catalogue(client, tags_per_book=1)
    few_list = await count_queries(client, statements, "/books", author_id=few_author)
    few_detail = await count_queries(client, statements, f"/books/{few_book}")
    many_author, many_book = await make_catalogue(client, tags_per_book=10)
    many_list = await count_queries(client, statements, "/books", author_id=many_author)
    many_detail = await count_queries(client, statements, f"/books/{many_book}")
    assert few_list == many_list == 2
    assert few_detail == many_detail == 1


async def test_author_detail_does_not_grow_with_books(
    client: AsyncClient, statements: Sent
) -> None:
    lonely = (await client.post("/authors", json={"name": "Lonely"})).json()["id"]
    busy, _ = await make_catalogue(client, tags_per_book=2)
    assert await count_queries(client, statements, f"/authors/{lonely}") == 1
    assert await count_queries(client, statements, f"/authors/{busy}") == 1


async def test_a_new_book_inserts_only_the_tags_that_are_new(
    client: AsyncClient, statements: Sent
) -> None:
    author = (await client.post("/authors", json={"name": "Tagger"})).json()["id"]
    sent: dict[str, Sent] = {}
    for title, tags in [("First", ["a", "b"]), ("Second", ["b", "a"]), ("Third", ["a", "c"])]:
        statements.clear()
        book = {"title": title, "author_id": author, "tags": tags}
        response = await client.post("/books", json=book)
        assert response.status_code == 201, response.text
        assert response.json()["tags"] == sorted(tags)
        kept = set(queries(statements))
        sent[title] = [(s, p) for s, p in statements if s in kept]

    def inserted_tags(title: str) -> list[list[str]]:
        """The names each tag insert of the create sent (`name` is its first column)."""
        inserts = [p for s, p in sent[title] if s.startswith("INSERT INTO tag (name,")]
        # A single row goes as parameters, several as a list of them (executemany).
        return [[row[0] for row in (p if isinstance(p, list) else [p])] for p in inserts]

    assert inserted_tags("First") == [["a", "b"]]
    # Tags that exist are only read: no insert, and no second read after it.
    assert inserted_tags("Second") == []
    assert len(sent["Second"]) == len(sent["First"]) - 2
    assert inserted_tags("Third") == [["c"]]


@pytest.mark.parametrize("authors", [1, 3])
async def test_a_new_book_is_four_statements_and_answers_as_its_get_does(
    client: AsyncClient, statements: Sent, authors: int
) -> None:
    names = [f"Écrivaine {n}" for n in range(authors)]
    ids = [(await client.post("/authors", json={"name": name})).json()["id"] for name in names]
    tags = ["zèbre", "Apple", "éclair", "banana"]
    first = {"title": "First", "author_ids": ids, "tags": tags}
    assert (await client.post("/books", json=first)).status_code == 201
    statements.clear()
    second = {"title": "Second", "author_ids": ids, "tags": list(reversed(tags))}
    created = await client.post("/books", json=second)
    assert created.status_code == 201, created.text
    sent = queries(statements)
    # The authors (their names and versions for the answer) with the tags (all there
    # already) in one statement, the book, its author links and its tag links: as many
    # whatever the number of each.
    authors_and_tags = " ".join(sent[0].split())
    assert "FROM author WHERE" in authors_and_tags, sent
    assert " UNION ALL " in authors_and_tags, sent
    assert "FROM tag WHERE" in authors_and_tags, sent
    assert [" ".join(s.split()[:4]) for s in sent[1:]] == [
        "INSERT INTO book (title,",
        "INSERT INTO book_author (book_id,",
        "INSERT INTO book_tag (book_id,",
    ], sent
    shown = await client.get(created.headers["Location"])
    assert created.json() == shown.json()
    assert created.headers["ETag"] == shown.headers["ETag"]
    assert [author["name"] for author in created.json()["authors"]] == names
    assert created.json()["author"]["name"] == names[0]


async def test_book_lists_and_details_do_not_grow_with_authors(
    client: AsyncClient, statements: Sent
) -> None:
    """A page of books with many co-authors sends what a page of single-author books does."""
    ids = [(await client.post("/authors", json={"name": f"Co {n}"})).json()["id"] for n in range(5)]
    counts = []
    for width in (1, 5):
        for n in range(ROWS):
            book = {"title": f"Shared {width}-{n}", "author_ids": ids[:width], "tags": ["co"]}
            book_id = (await client.post("/books", json=book)).json()["id"]
        listed = await count_queries(client, statements, "/books", author_id=ids[0], per_page=100)
        detail = await count_queries(client, statements, f"/books/{book_id}")
        counts.append((listed, detail))
    assert counts[0] == counts[1] == (1, 1)
