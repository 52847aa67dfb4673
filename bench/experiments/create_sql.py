"""What a create's write transaction costs SQLite by itself, at the newest migration and at an
earlier one: `python -m bench.experiments.create_sql --against REVISION` (SQLite only).

Two copies of the benchmark database, the second migrated down to REVISION, each run the
statements a create sends (its book, its author link, its tag links, between `BEGIN IMMEDIATE`
and `COMMIT`) through the stdlib `sqlite3` driver with the server's pragmas, for books with 0, 2
and 4 tags; the copies take turns, round by round. Each figure is the median over the rounds of
the process's CPU time per create. No server, event loop or ORM takes part, so what it prices is
SQLite's side alone, the search index's triggers included. Two copies at the same revision have
differed by up to 9% per tag count, so a smaller difference says nothing.
"""

import argparse
import random
import sqlite3
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

from alembic import command

from app.db.migrations import alembic_config, schema_head
from app.models import derived_columns
from bench.dataset import copy_database, sqlite_url
from bench.driving import say
from bench.report import cell, machine, rounds_heading, table_head, write_file
from bench.run import experiment_parser, run_database

TAG_COUNTS = (0, 2, 4)


def connect(path: Path) -> sqlite3.Connection:
    """A connection set as the server sets its own (app/db/engine.py), in autocommit mode."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def book_row(number: int) -> dict[str, Any]:
    """The row of a new book, with the columns Folio derives from its fields."""
    title = f"Benchmark Book {number}"
    description = "Written by the load generator."
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    return {
        "id": uuid.uuid4().hex,
        "title": title,
        "published_year": 1990,
        "description": description,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        **derived_columns(title, description, None, None),
    }


BOOK_COLUMNS = tuple(book_row(0))
BOOK_INSERT = (
    f"INSERT INTO book ({', '.join(BOOK_COLUMNS)})"
    f" VALUES ({', '.join(f':{name}' for name in BOOK_COLUMNS)})"
)
AUTHOR_LINK = "INSERT INTO book_author (book_id, author_id, position) VALUES (?, ?, 0)"
TAG_LINK = "INSERT INTO book_tag (book_id, tag_id) VALUES (?, ?)"


class Creates:
    """Books written into one database the way `POST /books` writes them."""

    def __init__(self, path: Path) -> None:
        self.connection = connect(path)
        self.authors = [row[0] for row in self.connection.execute("SELECT id FROM author")]
        self.tags = [row[0] for row in self.connection.execute("SELECT id FROM tag")]
        self.rng = random.Random(1)

    def planned(self, number: int, tag_count: int) -> tuple[dict[str, Any], str, list[Any]]:
        """A create's book row, its author and its tag links, made before any timing."""
        row = book_row(number)
        links = [(row["id"], tag) for tag in self.rng.sample(self.tags, tag_count)]
        return row, self.rng.choice(self.authors), links

    def create(self, row: dict[str, Any], author: str, links: list[Any]) -> None:
        """One create's statements, in one transaction."""
        execute = self.connection.execute
        execute("BEGIN IMMEDIATE")
        execute(BOOK_INSERT, row)
        execute(AUTHOR_LINK, (row["id"], author))
        self.connection.executemany(TAG_LINK, links)
        execute("COMMIT")

    def cpu_ms(self, first: int, count: int, tag_count: int) -> float:
        """CPU time per create, in ms, over `count` creates whose rows are made beforehand."""
        creates = [self.planned(number, tag_count) for number in range(first, first + count)]
        started = time.process_time()
        for create in creates:
            self.create(*create)
        return (time.process_time() - started) * 1000 / count


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = experiment_parser("python -m bench.experiments.create_sql", __doc__)
    parser.add_argument("--against", required=True, help="the earlier revision to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--creates", type=int, default=2000, help="creates per side, count, round")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    newest, _ = run_database(args.work_dir, args.scale)
    earlier = args.work_dir / f"run-scale{args.scale}-at-{args.against}.db"
    copy_database(newest, earlier)
    command.downgrade(alembic_config(sqlite_url(earlier)), args.against)
    sides = {schema_head(): Creates(newest), args.against: Creates(earlier)}
    times: dict[str, dict[int, list[float]]] = {
        side: {count: [] for count in TAG_COUNTS} for side in sides
    }
    number = 0
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
        say(f"round {round_ + 1}: {', '.join(order)}")
        for side in order:
            for count in TAG_COUNTS:
                times[side][count].append(sides[side].cpu_ms(number, args.creates, count))
                number += args.creates
    medians = {
        side: {count: median(found) for count, found in by_count.items()}
        for side, by_count in times.items()
    }
    newest_side, earlier_side = sides
    setup = f"{args.scale:,} books, {args.creates:,} creates a side and tag count a round"
    lines = [rounds_heading(started, setup, args.rounds), ""]
    lines += table_head("tags", f"ms at {newest_side}", f"ms at {earlier_side}", "ratio")
    for count in TAG_COUNTS:
        now, before = medians[newest_side][count], medians[earlier_side][count]
        lines.append(f"| {count} | {cell(now, 3)} | {cell(before, 3)} | {now / before:.2f} |")
    sys.stdout.write("\n".join(lines) + "\n")
    results = {
        "machine": machine(started),
        "settings": {"scale": args.scale, "rounds": args.rounds, "creates": args.creates},
        "cpu_ms_per_create": {
            side: {str(count): found for count, found in by_count.items()}
            for side, by_count in times.items()
        },
        "median_cpu_ms": {
            side: {str(count): round(ms, 4) for count, ms in by_count.items()}
            for side, by_count in medians.items()
        },
    }
    name = f"{started:%Y-%m-%dT%H%M}-create-sql-scale{args.scale}-sqlite.json"
    say(f"results written to {write_file(results, args.results_dir / name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
