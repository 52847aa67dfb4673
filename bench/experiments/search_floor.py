"""What SQLite's own index needs to answer the benchmark's searches, with no Folio around it.

`python -m bench.experiments.search_floor [--scale N] [--repeat N]` opens the benchmark's database
of that scale (built as `python -m bench` builds it) with the stdlib `sqlite3` module and times, for
each search of `bench/workloads.py`, the statements below; each figure is the median of `--repeat`
runs, in milliseconds, after one unmeasured run.

- `typos`: the look-up of the words one or two edits from the search's words in the deletion
  neighbourhood (`search_deletion`).
- `match`: Folio's own statement that finds every match in `search_word` (each word exactly,
  as the start of a longer word, or as a typo), counted.
- `best 21`: Folio's ranking statement (the six rules), the best 21 kept: the least a first
  page sorted by relevance asks of SQLite. Every match is ranked to find the best ones.
- For the `q` substring: `match` and `first 21` are the trigram table's GLOB, counted and cut
  at 21 rows.

The figures are a floor: a Folio request adds its framework, its session, the join to the
rows and their tags, and the answer.
"""

import sqlite3
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.models.base import fold
from app.search.sql import BOOK, Statement
from app.search.text import parse
from app.search.typos import allowed_typos, in_reach, variants
from bench.dataset import ensure_database
from bench.experiments.sql_floor import arguments, timed, write_table
from bench.workloads import SEARCHES

BEST = 21  # a page of 20 and the one that tells whether another follows


Parameters = dict[str, str] | tuple[str, ...]


def typos(connection: sqlite3.Connection, words: list[str]) -> tuple[str, Parameters, Any]:
    """The deletion neighbourhood's look-up for the words, and what it finds for each."""
    wanted = {word: variants(word, allowed_typos(word)) for word in words if allowed_typos(word)}
    every = sorted(set().union(*wanted.values())) if wanted else []
    marks = ", ".join("?" for _ in every) or "NULL"
    sql = f"SELECT DISTINCT word FROM search_deletion WHERE variant IN ({marks})"
    candidates = [row[0] for row in connection.execute(sql, every)]
    return sql, tuple(every), {word: in_reach(word, candidates) for word in wanted}


def statements(
    connection: sqlite3.Connection, text: str, substring: bool
) -> dict[str, tuple[str, Parameters]]:
    """The statements to time for one search, by their name in the table."""
    if substring:
        pattern = f"*{fold(text)}*"
        glob = "FROM book_title_trigram WHERE title GLOB ?"
        return {
            "match": (f"SELECT count(*) {glob}", (pattern,)),
            f"first {BEST}": (f"SELECT rowid {glob} LIMIT {BEST}", (pattern,)),
        }
    query = parse(text)
    lookup, every, found = typos(connection, query.typo_words)
    matching, ranking = Statement(query, found, "f"), Statement(query, found, "r")
    best = f"SELECT key FROM ({ranking.scored(BOOK, 'book', 'title')}) ORDER BY score, key"
    return {
        "typos": (lookup, every),
        "match": (f"SELECT count(DISTINCT key) FROM ({matching.filter(BOOK)})", matching.params),
        f"best {BEST}": (f"{best} LIMIT {BEST}", ranking.params),
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
            for label, (sql, values) in statements(connection, text, substring).items():
                rows = connection.execute(sql, values).fetchall()  # unmeasured: warms the cache
                count = rows[0][0] if label == "match" else len(rows)
                ms = median(timed(connection, sql, values) for _ in range(repeat))
                found.append((name, text, label, count, ms))
    finally:
        connection.close()
    return found


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m bench.experiments.search_floor", __doc__, argv)
    path, _ = ensure_database(args.work_dir, args.scale)
    rows = [
        (f"{name} (`{text}`)", label, f"{count:,}", f"{ms:.1f}")
        for name, text, label, count, ms in measure(path, args.repeat)
    ]
    write_table(args, ("search", "statement", "rows", "ms"), rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
