"""What the search index costs creates: `POST /books` with the index and without it, in turns.

`python -m bench.experiments.index_cost` (options as for `python -m bench`; SQLite only) copies the
run database, drops the search index's triggers from the copy (so its creates write no index entry),
serves Folio on each copy, and drives the create workload on both, taking turns for `--rounds`
rounds. The copy without triggers exists only for this measurement: its index goes stale as soon as
it is written to.
"""

import sqlite3
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from statistics import median
from typing import Any

from bench.dataset import copy_database, sqlite_url
from bench.driving import drive, say
from bench.report import cell, machine, rounds_heading, table_head, write_file
from bench.run import run_database, sqlite_args
from bench.server import folio_servers, make_key, served_env
from bench.workloads import Workload, for_run, sample_ids

SIDES = ("with the index", "without the index")
# ISBNs of the books these runs write, clear of the other benchmarks'.
ISBN_BASE = 7 * 10**8


def drop_triggers(path: Any) -> list[str]:
    """Drop every trigger of the database (all of them keep the search index); their names."""
    connection = sqlite3.connect(path)
    try:
        names = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        ]
        for name in names:
            connection.execute(f'DROP TRIGGER "{name}"')
        connection.commit()
    finally:
        connection.close()
    return names


def main(argv: list[str] | None = None) -> int:
    args = sqlite_args(argv, "bench.experiments.index_cost")
    started = datetime.now(UTC)
    with_index, _ = run_database(args.work_dir, args.scale)
    without_index = args.work_dir / f"run-scale{args.scale}-without-index.db"
    copy_database(with_index, without_index)
    dropped = drop_triggers(without_index)
    say(f"dropped {len(dropped)} triggers from the copy: {', '.join(dropped)}")
    paths = dict(zip(SIDES, (with_index, without_index), strict=True))
    keys = {side: make_key(sqlite_url(path)) for side, path in paths.items()}
    authors = sample_ids(with_index, seed=1).authors
    create = Workload("create book", [], 1.0, connections=16, authors=authors)
    rounds: list[dict[str, dict[str, Any]]] = []
    runs = 0
    envs = {side: served_env(sqlite_url(path)) for side, path in paths.items()}
    with ExitStack() as stack:
        servers = folio_servers(stack, envs, args.work_dir, "index-cost")
        for number in range(args.rounds):
            loads: dict[str, dict[str, Any]] = {}
            for side in SIDES if number % 2 == 0 else SIDES[::-1]:
                say(f"round {number + 1}: create book {side}")
                runs += 1
                args.key = keys[side]
                fresh = for_run(create, ISBN_BASE, runs)
                loads[side] = drive(args, servers[side].url, fresh)
            rounds.append(loads)

    ratios = [loads[SIDES[0]]["rps"] / loads[SIDES[1]]["rps"] for loads in rounds]
    setup = f"{args.scale:,} books, 1 worker each, 16 connections, {args.duration:g} s each"
    heading = rounds_heading(started, setup, args.rounds)
    lines = [heading, "", *table_head("create book", "books/s", "p50 ms", "p99 ms", "non-2xx")]
    for side in SIDES:
        rps = median(loads[side]["rps"] for loads in rounds)
        p50 = median(loads[side]["latency_ms"]["p50"] for loads in rounds)
        p99 = median(loads[side]["latency_ms"]["p99"] for loads in rounds)
        non_2xx = sum(loads[side]["non_2xx"] for loads in rounds)
        lines.append(f"| {side} | {cell(rps)} | {cell(p50)} | {cell(p99)} | {non_2xx} |")
    lines += ["", f"With the index: {median(ratios):.2f}× the creates per second without it."]
    sys.stdout.write("\n".join(lines) + "\n")
    settings = ("scale", "duration", "warmup", "rounds")
    results = {
        "machine": machine(started),
        "settings": {key: getattr(args, key) for key in settings},
        "dropped_triggers": dropped,
        "rounds": rounds,
        "median_ratio": round(median(ratios), 4),
    }
    name = f"{started:%Y-%m-%dT%H%M}-index-cost-scale{args.scale}-sqlite-1w.json"
    say(f"results written to {write_file(results, args.results_dir / name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
