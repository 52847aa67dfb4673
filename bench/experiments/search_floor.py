"""What SQLite's own index needs to answer the benchmark's searches, with no Folio around it.

`python -m bench.experiments.search_floor [--scale N] [--repeat N]` opens the benchmark's database
of that scale (built as `python -m bench` builds it) with the stdlib `sqlite3` module and times, for
each search of `bench/workloads.py`, the statements below; each figure is the median of `--repeat`
runs, in milliseconds, after one unmeasured run.

- `match`: FTS5 finds every match of the search's own expression (the contract's "each word,
  exactly or as the start of a longer word", as Folio writes it) and counts them.
- `best 21`: the same matches scored by bm25 with Folio's column weights, the best 21 kept:
  the least a first page sorted by relevance asks of SQLite. FTS5 scores every match to
  find the best ones.
- `exact best 21`: as `best 21`, with each word matched exactly only (no prefixes), to show
  what the prefix half of the expression costs.
- For the `q` substring: `match` and `first 21` are the trigram table's GLOB, counted and cut
  at 21 rows.

The figures are a floor: a Folio request adds its framework, its session, the join to the
rows and their tags, and the answer.
"""

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from statistics import median
from urllib.parse import parse_qs, urlsplit

from app.models.base import fold
from app.search.sql import BOOK_WEIGHTS, fts5_query
from app.search.text import parse
from bench.dataset import ensure_database
from bench.run import BENCH_DIR
from bench.workloads import SEARCHES

BEST = 21  # a page of 20 and the one that tells whether another follows


def timed(connection: sqlite3.Connection, sql: str, parameters: tuple[str, ...]) -> float:
    """Milliseconds to run `sql` and fetch all its rows."""
    started = time.perf_counter()
    connection.execute(sql, parameters).fetchall()
    return (time.perf_counter() - started) * 1000


def statements(text: str, substring: bool) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The statements to time for one search, by their name in the table."""
    if substring:
        pattern = f"*{fold(text)}*"
        glob = "FROM book_title_trigram WHERE title GLOB ?"
        return {
            "match": (f"SELECT count(*) {glob}", (pattern,)),
            f"first {BEST}": (f"SELECT rowid {glob} LIMIT {BEST}", (pattern,)),
        }
    query = parse(text)
    exact = " AND ".join('"' + " ".join(words) + '"' for words in query.terms)
    weights = ", ".join(str(weight) for weight in BOOK_WEIGHTS)
    match = "FROM book_search WHERE book_search MATCH ?"
    best = f"SELECT rowid {match} ORDER BY bm25(book_search, {weights}) LIMIT {BEST}"
    return {
        "match": (f"SELECT count(*) {match}", (fts5_query(query),)),
        f"best {BEST}": (best, (fts5_query(query),)),
        f"exact best {BEST}": (best, (exact,)),
    }


def measure(path: Path, repeat: int) -> list[tuple[str, str, str, int, float]]:
    """(search, its text, statement, rows, median ms) for each statement of each search."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    found: list[tuple[str, str, str, int, float]] = []
    try:
        for name, path_and_query in SEARCHES.items():
            parameters = parse_qs(urlsplit(path_and_query).query)
            substring = "q" in parameters
            text = parameters["q" if substring else "search"][0]
            for label, (sql, values) in statements(text, substring).items():
                rows = connection.execute(sql, values).fetchall()  # unmeasured: warms the cache
                count = rows[0][0] if label == "match" else len(rows)
                ms = median(timed(connection, sql, values) for _ in range(repeat))
                found.append((name, text, label, count, ms))
    finally:
        connection.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.experiments.search_floor", description=__doc__
    )
    parser.add_argument("--scale", type=int, default=30_000, help="books (authors: a third)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each statement")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    path, _ = ensure_database(args.work_dir, args.scale)
    lines = [
        f"SQLite {sqlite3.sqlite_version}, {args.scale:,} books, medians of {args.repeat} runs",
        "",
        "| search | statement | rows | ms |",
        "|---|---|---:|---:|",
    ]
    for name, text, label, count, ms in measure(path, args.repeat):
        lines.append(f"| {name} (`{text}`) | {label} | {count:,} | {ms:.1f} |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
