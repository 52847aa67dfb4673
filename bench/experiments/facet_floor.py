"""What SQLite alone needs to count the benchmark's facets, with no Folio around it.

`python -m bench.experiments.facet_floor [--scale N] [--repeat N]` opens the benchmark's database
of that scale (built as `python -m bench` builds it) with the stdlib `sqlite3` module and times
each facet statement of the facet workloads of `bench/workloads.py`, as Folio builds it (its
values written in), over every book and over the broad search's matches. Each figure is the
median of `--repeat` runs, in milliseconds, after one unmeasured run.

The figures are a floor for a request with facets: Folio adds its framework, its session, the
thread hop of each statement, and the page itself.
"""

import sqlite3
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.dialects import sqlite

from app.books.facet_repository import FACETS
from app.books.repository import book_filters
from app.books.schemas import BookQuery
from app.models import Book
from app.search.sql import book_match
from bench.dataset import ensure_database
from bench.experiments.sql_floor import arguments, timed, write_table
from bench.workloads import FACETED


def facet_sql(query: BookQuery) -> dict[str, str]:
    """Each facet statement of the query as SQLite receives it, its values written in."""
    filters: list[Any] = book_filters(query, "sqlite")
    if (parsed := query.parsed) is not None:
        # Without typo matches: the bench's facet searches are spelled right.
        filters.append(book_match(parsed, {}, Book.id).filter)
    dialect = sqlite.dialect()
    return {
        name: str(
            FACETS[name](filters, query.facet_size).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
        )
        for name in query.facet_names
    }


def measure(path: Path, repeat: int) -> list[tuple[str, str, int, float]]:
    """(workload, facet, values, median ms) for each facet of each facet workload."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    found: list[tuple[str, str, int, float]] = []
    try:
        for workload, request in FACETED.items():
            query = BookQuery.model_validate(dict(parse_qsl(urlsplit(request).query)))
            for facet, sql in facet_sql(query).items():
                rows = connection.execute(sql).fetchall()  # unmeasured: warms the cache
                ms = median(timed(connection, sql) for _ in range(repeat))
                found.append((workload, facet, len(rows), ms))
    finally:
        connection.close()
    return found


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m bench.experiments.facet_floor", __doc__, argv)
    path, _ = ensure_database(args.work_dir, args.scale)
    rows = [
        (workload, facet, str(values), f"{ms:.1f}")
        for workload, facet, values, ms in measure(path, args.repeat)
    ]
    write_table(args, ("workload", "facet", "values", "ms"), rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
