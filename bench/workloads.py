"""What each workload sends: read paths drawn at random, and the body of a new book."""

import math
import random
import sqlite3
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from app.books.schemas import BookQuery
from bench.dataset import TAGS, isbn13

Baseline = Literal["list", "get"]
# Pre-fetched ids per workload: enough that repeats stay rare within a run.
SAMPLE = 2000
PER_PAGE = 20  # the lists' default page size


@dataclass(frozen=True)
class Workload:
    """One load: GETs of `paths` at random, POSTs of new books for `write_share` of requests."""

    name: str
    paths: list[str]
    write_share: float = 0.0
    connections: int | None = None  # None: the run's --connections
    baseline: Baseline | None = None  # which baseline workload its requests/s is compared to
    gzip: bool = False  # send Accept-Encoding: gzip, as browsers and most HTTP clients do
    # Author ids that new books are written for, and where their ISBN numbers start.
    authors: list[str] = field(default_factory=list)
    isbn_base: int = 0
    write_path: str = "/books"  # where new books are POSTed
    # Sent at a fixed rate (bench/open_loop.py) rather than by connections in a closed loop.
    open_loop: bool = False

    @property
    def sample_path(self) -> str | None:
        """The read whose SQL statements are counted in-process, if it reads."""
        return self.paths[0] if self.paths else None


@dataclass(frozen=True)
class Ids:
    books: list[str]
    authors: list[str]
    total_books: int
    last_page_cursor: str  # `cursor` of the last page of GET /books in its default sort


def dashed(hex_id: str) -> str:
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def sample_ids(path: Path, seed: int) -> Ids:
    """Random book and author ids of the database, in the dashed form the API uses."""
    rng = random.Random(seed)
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        total = int(connection.execute("SELECT count(*) FROM book").fetchone()[0])
        books = [row[0] for row in connection.execute("SELECT id FROM book")]
        authors = [row[0] for row in connection.execute("SELECT id FROM author")]
        # The row just before the last page, in the default sort (title, then id).
        before_last = connection.execute(
            "SELECT title, id FROM book ORDER BY title DESC, id DESC LIMIT 1 OFFSET ?",
            (PER_PAGE,),
        ).fetchone()
    finally:
        connection.close()
    pick_books = rng.sample(books, min(SAMPLE, len(books)))
    pick_authors = rng.sample(authors, min(SAMPLE, len(authors)))
    return Ids(
        [dashed(i) for i in pick_books],
        [dashed(i) for i in pick_authors],
        total,
        cursor_after(before_last[0], before_last[1]) if before_last else "",
    )


def cursor_after(title: str, hex_id: str) -> str:
    """The cursor the app gives for the page after this book, made by the app's own code."""
    return BookQuery(cursor="").cursor_after([title, uuid.UUID(hex_id)])


MIXED = "mixed 90/10"
OPEN_MIXED = "mixed 90/10 open loop"
FILTERED = "/books?year_from=1950&sort=-published_year"
# Searches over the generated words (bench/dataset.py): two words that few titles share, one
# that most books have, a prefix, the two words with a typo each, and a `q` substring that few
# titles contain.
SEARCHES = {
    "search selective": "/books?search=frozen+orchard",
    "search broad": "/books?search=the",
    "search prefix": "/books?search=harb",
    "search typo": "/books?search=forzen+orchrad",
    "q substring": "/books?q=rden%2C+volume+1",
}


# Three facets over every matching book: on the whole list, and on the broad search.
FACETS = "tags,authors,decade"
FACETED = {
    "facet page without search": f"/books?facets={FACETS}",
    "search with facets": f"{SEARCHES['search broad']}&facets={FACETS}",
}


def search_workloads() -> list[Workload]:
    """Each search with the default count and with `count=none`."""
    return [
        workload
        for name, path in SEARCHES.items()
        for workload in (
            Workload(name, [path], baseline="list"),
            Workload(f"{name} no count", [f"{path}&count=none"], baseline="list"),
        )
    ]


def app_workloads(ids: Ids) -> list[Workload]:
    """Folio's workloads, in the order they run (reads first, so writes do not shift them)."""
    middle = max(1, math.ceil(ids.total_books / PER_PAGE) // 2)
    books = [f"/books/{book}" for book in ids.books]
    last = quote(ids.last_page_cursor)
    return [
        Workload("list page 1", ["/books"], baseline="list"),
        Workload("list page 1 gzip", ["/books"], baseline="list", gzip=True),
        Workload(f"list page {middle}", [f"/books?page={middle}"], baseline="list"),
        Workload("list first page by cursor", ["/books?cursor="], baseline="list"),
        Workload("list last page by cursor", [f"/books?cursor={last}"], baseline="list"),
        Workload("list filtered+sorted", [FILTERED], baseline="list"),
        Workload("list filtered+sorted no count", [f"{FILTERED}&count=none"], baseline="list"),
        *search_workloads(),
        *(Workload(name, [path], baseline="list") for name, path in FACETED.items()),
        Workload("get book", books, baseline="get"),
        Workload(
            "get author+books", [f"/authors/{author}" for author in ids.authors], baseline="get"
        ),
        Workload("create book", [], 1.0, connections=16, authors=ids.authors, isbn_base=10**8),
        Workload(MIXED, books, 0.1, authors=ids.authors, isbn_base=2 * 10**8),
        # At half the closed mix's throughput, so it runs after it (see bench/open_loop.py).
        Workload(OPEN_MIXED, books, 0.1, authors=ids.authors, isbn_base=8 * 10**8, open_loop=True),
    ]


def baseline_workloads(ids: Ids) -> list[Workload]:
    """The hand-written sqlite3 app's two workloads, the yardsticks of the ratios."""
    return [
        Workload("baseline list page 1", ["/books"]),
        Workload("baseline get book", [f"/books/{book}" for book in ids.books]),
    ]


# Each load process numbers its new books from 1, so each run of a workload takes ISBNs of
# its own: this many after the run before it.
ISBNS_PER_RUN = 10**6


def for_run(workload: Workload, base: int, run: int) -> Workload:
    """The workload, writing its new books with the ISBNs of the `run`th run from `base`."""
    return replace(workload, isbn_base=base + run * ISBNS_PER_RUN)


def new_book(
    rng: random.Random, authors: list[str], number: int, tag_count: int | None = None
) -> dict[str, Any]:
    """A POST /books body whose ISBN is unique to `number` (the seeded books use 978)."""
    return {
        "title": f"Benchmark Book {number}",
        "isbn": isbn13("979", number),
        "published_year": rng.randint(1900, 2025),
        "description": "Written by the load generator.",
        "author_id": rng.choice(authors),
        "tags": rng.sample(TAGS, rng.randint(0, 4) if tag_count is None else tag_count),
    }
