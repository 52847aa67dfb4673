"""Every list filter and sort is served by an index: the database's own plan for each list
query (the page and its count) shows no full scan of a large table and no sort of its own.

The test tables are tiny, so PostgreSQL would rightly prefer sequential scans and sorts;
with those switched off, a plan that still has one shows that no index could serve it.
A `q` of three characters or more is found through a trigram index (FTS5's `trigram`
tokenizer on SQLite, pg_trgm on PostgreSQL), then sorted, as books with a tag are.
The tag names of a page's books are sorted by the database, one book's at a time, in a
correlated subquery: a sort there orders the rows of one outer row (a book's few tags, its
authors), however large the catalogue, so it is not counted. Books with a tag, and books by
an author (any of a book's authors), are found through an index on the link table, then
sorted: no index on `book_tag` or `book_author` can hold the books' sort keys. A page past the first
picks its rows' keys in a subquery (which must be served by an index like a first page), then
sorts the few rows it kept.
"""

from typing import Any, NamedTuple

from httpx import AsyncClient

from app.db.engine import Database
from tests.test_queries import Sent

LARGE_TABLES = ("book", "author", "book_tag", "book_author")
ISBN = "9780060512750"
# Filters whose matching rows the database sorts itself (see above).
SORTED_AFTER_FILTER = ("tag", "q", "author_id")


class Step(NamedTuple):
    detail: str
    in_correlated_subquery: bool
    top_level: bool = False  # a step of the statement's own rows, not of a subquery's


async def sqlite_steps(database: Database, statement: str, parameters: Any) -> list[Step]:
    """Each step of SQLite's plan, and whether it runs inside a correlated subquery."""
    async with database.reads() as session:
        connection = await session.connection()
        plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        correlated: set[int] = set()
        steps = []
        for row in plan:
            step_id, parent, _, detail = tuple(row)
            inside = parent in correlated
            if inside or str(detail).startswith("CORRELATED "):
                correlated.add(step_id)
            steps.append(Step(str(detail), inside, parent == 0))
        return steps


def postgres_steps(lines: list[str]) -> list[Step]:
    """Each line of PostgreSQL's plan, and whether it runs inside a subplan (a correlated
    subquery): the lines indented deeper than a `SubPlan` line that follow it."""
    steps: list[Step] = []
    subplan_indent: int | None = None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if subplan_indent is not None and indent <= subplan_indent:
            subplan_indent = None
        if line.strip().startswith("SubPlan"):
            subplan_indent = indent
        steps.append(Step(line, subplan_indent is not None, not steps))
    return steps


def is_problem(step: Step) -> bool:
    """A full scan of a large table anywhere, or a sort that is not one row's subquery."""
    detail = step.detail.strip().removeprefix("->").strip()
    scans = any(
        detail == f"SCAN {table}" or detail.startswith(f"Seq Scan on {table} ")
        for table in LARGE_TABLES
    )
    return scans or (is_sort(detail) and not step.in_correlated_subquery)


async def plan_problems(
    database: Database, statement: str, parameters: Any, *, kept_rows_sorted: bool = False
) -> list[str]:
    """What in the statement's plan reads a large table whole or sorts rows itself.

    `kept_rows_sorted`: the statement's own rows are the few a subquery with a LIMIT picked (a
    page past the first), so a sort of them at the top is allowed; the subquery's is not.
    """
    if database.read_engine.dialect.name == "sqlite":
        steps = await sqlite_steps(database, statement, parameters)
    else:
        async with database.reads() as session:
            connection = await session.connection()
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            await connection.exec_driver_sql("SET LOCAL enable_sort = off")
            plan = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            steps = postgres_steps([str(row[0]) for row in plan])
    return [
        step.detail
        for step in steps
        if is_problem(step) and not (kept_rows_sorted and step.top_level and is_sort(step.detail))
    ]


def is_sort(detail: str) -> bool:
    return "TEMP B-TREE" in detail or detail.startswith("Sort ") or " Sort " in detail


async def catalogue(client: AsyncClient) -> dict[str, str]:
    """Two authors with books, tags and an ISBN: enough rows that every list is paged."""
    ids: dict[str, str] = {}
    for n in range(2):
        author = (await client.post("/authors", json={"name": f"Author {n}"})).json()
        co_author = ids.get("author_id", author["id"])
        ids["author_id"] = author["id"]
        for m in range(3):
            book = {
                "title": f"Book {n}-{m}",
                "author_ids": list(dict.fromkeys([author["id"], co_author])),
                "published_year": 1950 + m,
                "tags": ["poetry", f"tag{m}"],
                "isbn": ISBN if (n, m) == (0, 0) else None,
                "publisher": f"Press {m}",
                "language": "en" if m else "fr",
                "series": "Cycle" if m else None,
                "series_position": m if m else None,
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
        {"publisher": "press 1"},
        {"language": "EN"},
        {"series": "cycle"},
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
    # Page 2 too: a page past the first picks its rows' keys in a subquery first.
    for url, params in [(u, {**p, "page": n}) for u, p in lists for n in (1, 2)]:
        statements.clear()
        # One row a page, so that the page is full and its total is counted too.
        response = await client.get(url, params={**params, "per_page": 1})
        assert response.status_code == 200, response.text
        selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) >= 2, (url, params)  # the page and its count, at least
        for statement, parameters in selects:
            found = await plan_problems(
                database, statement, parameters, kept_rows_sorted=params["page"] > 1
            )
            if any(name in params for name in SORTED_AFTER_FILTER):
                found = [problem for problem in found if not is_sort(problem)]
            if found:
                problems[f"{url} {params}: {statement[:80]}"] = found
    assert problems == {}


async def test_the_plan_check_sees_a_full_scan_and_a_sort(database: Database) -> None:
    """The check itself: a query no index can serve is caught."""
    unindexed = "SELECT book.id FROM book WHERE book.description = 'x' ORDER BY book.description"
    assert await plan_problems(database, unindexed, ()) != []
    # A page past the first may sort the rows it kept, not the rows its subquery picks from.
    picked = (
        "SELECT book.id FROM book WHERE book.id IN"
        " (SELECT b.id FROM book AS b ORDER BY b.description LIMIT 2 OFFSET 2)"
        " ORDER BY book.title"
    )
    problems = await plan_problems(database, picked, (), kept_rows_sorted=True)
    assert any(is_sort(problem) for problem in problems), problems


async def test_a_page_past_the_first_reads_the_tags_of_its_own_rows_only(
    client: AsyncClient, database: Database, statements: Sent
) -> None:
    """PostgreSQL computes a column's subquery for every row an OFFSET skips; a page past the
    first picks its keys first, so the tags are read for the rows it shows, and the pages
    still tile the list."""
    author = (await client.post("/authors", json={"name": "Deep"})).json()["id"]
    for n in range(12):
        book = {"title": f"Deep {n:02}", "author_id": author, "tags": ["deep", f"t{n % 3}"]}
        assert (await client.post("/books", json=book)).status_code == 201
    whole = (await client.get("/books", params={"per_page": 12, "sort": "-title"})).json()
    statements.clear()
    third = await client.get("/books", params={"page": 3, "per_page": 2, "sort": "-title"})
    assert third.json()["items"] == whole["items"][4:6]
    [(page, parameters)] = [(s, p) for s, p in statements if "json" in s and "tag" in s]
    if database.read_engine.dialect.name != "postgresql":
        return
    async with database.reads() as session:
        connection = await session.connection()
        plan = await connection.exec_driver_sql(f"EXPLAIN ANALYZE {page}", parameters)
        lines = [str(row[0]) for row in plan]
    subplan = next(n for n, line in enumerate(lines) if line.strip().startswith("SubPlan"))
    loops = int(lines[subplan + 1].rsplit("loops=", 1)[1].rstrip(")"))
    assert loops <= 2, lines
