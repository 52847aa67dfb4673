"""Every list filter and sort is served by an index: the database's own plan for each list
query (the page and its count) shows no full scan of a large table and no sort of its own.

The test tables are tiny, so PostgreSQL would rightly prefer sequential scans and sorts;
with those switched off, a plan that still has one shows that no index could serve it.
A `q` of three characters or more is found through a trigram index (FTS5's `trigram`
tokenizer on SQLite, pg_trgm on PostgreSQL), then sorted, as books with a tag are.
The tag names of a page's books are sorted by the database, but only those: at most
`per_page` books' tags, however large the catalogue. Books with a tag are found through
an index, then sorted: no index on `book_tag` can hold the books' sort keys.
"""

from typing import Any

from httpx import AsyncClient

from app.db import Database
from tests.test_queries import Sent

LARGE_TABLES = ("book", "author", "book_tag")
ISBN = "9780060512750"
# How the tag names of one page's books are asked for; its sort is bounded by the page.
TAGS_OF_PAGE = "WHERE book_tag.book_id IN ("
# Filters whose matching rows the database sorts itself (see above).
SORTED_AFTER_FILTER = ("tag", "q")


async def sqlite_plan(database: Database, statement: str, parameters: Any) -> list[str]:
    """The detail of each step of SQLite's plan for the statement."""
    async with database.reads() as session:
        connection = await session.connection()
        plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return [str(row[-1]) for row in plan]


async def plan_problems(database: Database, statement: str, parameters: Any) -> list[str]:
    """What in the statement's plan reads a large table whole or sorts rows itself."""
    if database.read_engine.dialect.name == "sqlite":
        return [
            detail
            for detail in await sqlite_plan(database, statement, parameters)
            if "TEMP B-TREE" in detail or any(detail == f"SCAN {table}" for table in LARGE_TABLES)
        ]
    async with database.reads() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        await connection.exec_driver_sql("SET LOCAL enable_sort = off")
        plan = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        lines = [str(row[0]) for row in plan]
        return [
            line
            for line in lines
            if " Sort " in f" {line.strip().removeprefix('->').strip()} "
            or any(f"Seq Scan on {table} " in line for table in LARGE_TABLES)
        ]


def is_sort(problem: str) -> bool:
    return "TEMP B-TREE" in problem or "Sort" in problem


async def catalogue(client: AsyncClient) -> dict[str, str]:
    """Two authors with books, tags and an ISBN: enough rows that every list is paged."""
    ids: dict[str, str] = {}
    for n in range(2):
        author = (await client.post("/authors", json={"name": f"Author {n}"})).json()
        ids["author_id"] = author["id"]
        for m in range(3):
            book = {
                "title": f"Book {n}-{m}",
                "author_id": author["id"],
                "published_year": 1950 + m,
                "tags": ["poetry", f"tag{m}"],
                "isbn": ISBN if (n, m) == (0, 0) else None,
            }
            response = await client.post("/books", json=book)
            assert response.status_code == 201, response.text
    return ids


def book_lists(author_id: str) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [
        {},
        {"author_id": author_id},
        {"tag": "poetry"},
        {"isbn": ISBN},
        {"year_from": 1951},
        {"year_to": 1951},
        {"q": "ook 0"},
    ]
    sorts = [{"sort": field} for field in ("published_year", "created_at", "updated_at")]
    descending = [{"sort": "-title"}, {"sort": "-published_year"}]
    return filters + sorts + descending


def other_lists() -> list[tuple[str, dict[str, Any]]]:
    authors: list[dict[str, Any]] = [
        {},
        {"name": "Author 1"},
        {"q": "hor 1"},
        {"sort": "created_at"},
        {"sort": "-updated_at"},
    ]
    return [("/authors", params) for params in authors] + [("/tags", {})]


async def test_every_list_query_is_served_by_an_index(
    client: AsyncClient, database: Database, statements: Sent
) -> None:
    ids = await catalogue(client)
    lists = [("/books", params) for params in book_lists(ids["author_id"])] + other_lists()
    problems: dict[str, list[str]] = {}
    for url, params in lists:
        statements.clear()
        # One row a page, so that the page is full and its total is counted too.
        response = await client.get(url, params={**params, "per_page": 1})
        assert response.status_code == 200, response.text
        selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) >= 2, (url, params)  # the page and its count, at least
        for statement, parameters in selects:
            if TAGS_OF_PAGE in statement:
                continue
            found = await plan_problems(database, statement, parameters)
            if any(name in params for name in SORTED_AFTER_FILTER):
                found = [problem for problem in found if not is_sort(problem)]
            if found:
                problems[f"{url} {params}: {statement[:80]}"] = found
    assert problems == {}


async def test_the_plan_check_sees_a_full_scan_and_a_sort(database: Database) -> None:
    """The check itself: a query no index can serve is caught."""
    unindexed = "SELECT book.id FROM book WHERE book.description = 'x' ORDER BY book.description"
    assert await plan_problems(database, unindexed, ()) != []
