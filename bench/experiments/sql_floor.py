"""What the floor experiments over SQL share: their options, timing a statement alone on the
stdlib driver, and the table they print."""

import argparse
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.run import BENCH_DIR


def arguments(prog: str, description: str | None, argv: list[str] | None) -> argparse.Namespace:
    """`--scale`, `--repeat` and `--work-dir`, as every floor experiment takes them."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--scale", type=int, default=30_000, help="books (authors: a third)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each statement")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    return parser.parse_args(sys.argv[1:] if argv is None else argv)


def timed(connection: sqlite3.Connection, sql: str, parameters: Any = ()) -> float:
    """Milliseconds to run `sql` and fetch all its rows."""
    started = time.perf_counter()
    connection.execute(sql, parameters).fetchall()
    return (time.perf_counter() - started) * 1000


def write_table(
    args: argparse.Namespace, head: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    """Print the figures as a Markdown table under a line naming SQLite and the scale; the
    last columns (`rows`, `ms` and the like) are right-aligned."""
    lines = [
        f"SQLite {sqlite3.sqlite_version}, {args.scale:,} books, medians of {args.repeat} runs",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" if n < len(head) - 2 else "---:" for n in range(len(head))) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    sys.stdout.write("\n".join(lines) + "\n")
