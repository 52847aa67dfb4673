"""What holds a PostgreSQL import back: `python -m bench.experiments.import_floor --postgres URL`.

The benchmark's NDJSON file of new books is imported into a fresh, migrated database with the
search index's triggers and into one without them, taking turns for `--rounds` rounds, each by
a Folio of `--workers` processes. Around each import the machine's CPU time is read from
`/proc`: the server's processes (checking, planning and sending the rows) apart from the rest
of the machine (on a quiet machine, PostgreSQL), per row; and how many cores were busy on
average. A database without the triggers exists only for this measurement: its search index
stays empty. Each import's database is dropped after it.
"""

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

from bench import postgres
from bench.driving import say
from bench.imports import books, import_file, postgres_database, write_ndjson
from bench.report import cell, machine, rounds_heading, table_head, write_file
from bench.run import experiment_parser
from bench.server import Server, app_command, free_port, make_key, served_env

SIDES = ("with the index", "without the index")
DATABASE = "folio_bench_import_floor"
# The search index's insert triggers (migration 309d8e61f2e1): a new book's words, its authors'
# and tags' words, a new author's words, and a new word's typo variants.
INDEX_TRIGGERS = (
    ("book", "book_words_insert"),
    ("book_author", "book_author_words_insert"),
    ("book_tag", "book_tag_words_insert"),
    ("author", "author_words_insert"),
    ("search_vocabulary", "search_vocabulary_insert"),
)


def machine_cpu() -> tuple[float, float]:
    """The machine's busy CPU seconds so far, over all cores, and its cores' seconds in all."""
    with open("/proc/stat") as stat:
        user, nice, system, idle, iowait, irq, softirq, steal = map(
            int, stat.readline().split()[1:9]
        )
    busy = user + nice + system + irq + softirq + steal
    tick = os.sysconf("SC_CLK_TCK")
    return busy / tick, (busy + idle + iowait) / tick


def timed_import(server: Server, path: Path, key: str, rows: int) -> dict[str, Any]:
    """Import the file; its rate, and the CPU it took the server and the rest, per row."""
    busy, total = machine_cpu()
    served = server.cpu_seconds() or 0.0
    run = import_file(server, path, "ndjson", key)
    served = (server.cpu_seconds() or 0.0) - served
    busy, total = (now - before for now, before in zip(machine_cpu(), (busy, total), strict=True))
    return {
        **run,
        "server_cpu_us_per_row": round(served * 1e6 / rows, 1),
        "rest_cpu_us_per_row": round((busy - served) * 1e6 / rows, 1),
        "cores_busy": round(busy / total * (os.cpu_count() or 1), 2),
    }


def import_once(args: argparse.Namespace, side: str, path: Path) -> dict[str, Any]:
    """One import into a database of its own, dropped afterwards."""
    url = postgres_database(args.postgres, DATABASE)
    try:
        if side == SIDES[1]:
            disable = (
                f"ALTER TABLE {table} DISABLE TRIGGER {name}" for table, name in INDEX_TRIGGERS
            )
            postgres.run_sql(url, *disable)
        key = make_key(url)
        log = args.work_dir / "import-floor.log"
        with Server(app_command(), free_port(), served_env(url, args.workers), log) as server:
            return timed_import(server, path, key, args.scale)
    finally:
        postgres.run_sql(args.postgres, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = experiment_parser("python -m bench.experiments.import_floor", __doc__)
    parser.set_defaults(scale=100_000)
    parser.add_argument("--postgres", metavar="URL", required=True, help="a PostgreSQL server")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    path = args.work_dir / f"import-floor-{args.scale}.ndjson"
    write_ndjson(path, books(args.scale))
    rounds: list[dict[str, dict[str, Any]]] = []
    for number in range(args.rounds):
        runs: dict[str, dict[str, Any]] = {}
        for side in SIDES if number % 2 == 0 else SIDES[::-1]:
            say(f"round {number + 1}: import {side}")
            runs[side] = import_once(args, side, path)
            say(f"  {runs[side]}")
        rounds.append(runs)

    setup = f"{args.scale:,} new books in NDJSON, {args.workers} worker(s), PostgreSQL"
    columns = ("rows/s", "server CPU µs/row", "rest CPU µs/row", "cores busy")
    lines = [rounds_heading(started, setup, args.rounds), "", *table_head("import", *columns)]
    for side in SIDES:
        keys = ("rows_per_s", "server_cpu_us_per_row", "rest_cpu_us_per_row", "cores_busy")
        figures = [cell(median(runs[side][key] for runs in rounds)) for key in keys]
        lines.append(f"| {side} | {' | '.join(figures)} |")
    sys.stdout.write("\n".join(lines) + "\n")
    settings = ("scale", "workers", "rounds")
    results = {
        "machine": machine(started),
        "settings": {key: getattr(args, key) for key in settings},
        "disabled_triggers": [name for _table, name in INDEX_TRIGGERS],
        "rounds": rounds,
    }
    name = f"{started:%Y-%m-%dT%H%M}-import-floor-scale{args.scale}-postgresql-{args.workers}w.json"
    say(f"results written to {write_file(results, args.results_dir / name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
