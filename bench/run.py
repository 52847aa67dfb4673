"""The benchmark run: build or reuse the database (and its PostgreSQL copy with --postgres),
serve the baseline then Folio, drive each workload from a separate process, count SQL
in-process, and report."""

import argparse
import asyncio
import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench import compare, postgres, wrk
from bench.dataset import DatasetInfo, copy_database, ensure_database, sqlite_url
from bench.driving import drive, run_workloads, say
from bench.experiments import metrics_cost
from bench.experiments.soak import soak
from bench.report import machine, ratios, table, write_json
from bench.server import (
    Server,
    app_command,
    baseline_command,
    folio_servers,
    free_port,
    make_key,
    served_env,
)
from bench.statements import count_baseline_statements, count_statements
from bench.workloads import (
    MIXED,
    Ids,
    Workload,
    app_workloads,
    baseline_workloads,
    for_run,
    sample_ids,
)

BENCH_DIR = Path(__file__).resolve().parent
# ISBNs of the books the soak writes, clear of those the workloads write.
SOAK_ISBN_BASE = 3 * 10**8


def experiment_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """A parser with `--scale`, `--work-dir` and `--results-dir`, as the experiments that write
    on a copy of the benchmark database take them."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--scale", type=int, default=30_000, help="books (authors: a third)")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", type=int, default=30_000, help="books (authors: a third)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per workload")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--tool",
        choices=("asyncio", "wrk"),
        default="asyncio",
        help="load tool: the bundled asyncio+httpx client (default) or wrk if installed",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="serve Folio from PostgreSQL: a server URL such as"
        " postgresql+asyncpg://postgres@127.0.0.1:5432/postgres, on which the run creates"
        " folio_bench_<scale> (kept for reuse) and folio_bench_<scale>_run (dropped)",
    )
    parser.add_argument("--only", help="comma-separated workload names to run (default: all)")
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="N",
        help="then send N requests of the mixed load and compare the server's memory after"
        " the first tenth of them with the end (the target uses 100000)",
    )
    parser.add_argument(
        "--metrics-cost",
        action="store_true",
        help="then serve Folio twice more, with and without metrics, and drive both at once"
        " with each workload for --rounds rounds to price the metrics",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="with --metrics-cost (and in bench.experiments.floor and bench.experiments.cpu): how"
        " many rounds, each driving every side",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="with --metrics-cost: serve both sides without metrics, to price the method's own"
        " error (an A/A run: its cost should be zero)",
    )
    parser.add_argument(
        "--compare",
        choices=compare.AGAINST,
        help="then serve Folio (AUTH_MODE=open) beside the plain SQLModel app"
        " (bench/plain_app.py) or advanced-alchemy's services (bench/alchemy_app.py) and"
        " drive list page 1, get book and create book at both in --rounds alternating rounds"
        " (at least 3)",
    )
    parser.add_argument(
        "--open-rate",
        type=float,
        metavar="R",
        help="requests per second of the open-loop mix (default: half the closed-loop"
        " mix's throughput in the same run, which then runs first)",
    )
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.set_defaults(key="")  # the write key, made once Folio's database is ready
    args = parser.parse_args(argv)
    if min(args.scale, args.connections, args.workers, args.rounds) < 1 or args.duration <= 0:
        parser.error("--scale, --connections, --workers, --rounds and --duration must be positive")
    if args.compare and args.rounds < 3:
        parser.error("--compare needs at least 3 rounds: its ratios are medians of rounds")
    if args.open_rate is not None and args.open_rate <= 0:
        parser.error("--open-rate must be positive")
    if args.tool == "wrk" and not wrk.available():
        say("wrk is not on PATH (apt-get install wrk); using the asyncio client instead.")
        args.tool = "asyncio"
    return args


def sqlite_args(argv: list[str] | None, program: str) -> argparse.Namespace:
    """`python -m bench`'s options, for a program that measures SQLite only."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.postgres is not None:
        raise SystemExit(f"{program} measures SQLite only")
    return args


def sample(url: str, ids: Ids) -> dict[str, Any]:
    """The answers to the baseline's two requests, to check that both servers do the same work."""
    with httpx.Client(base_url=url, timeout=30) as client:
        page = client.get("/books").json()
        book = client.get(f"/books/{ids.books[0]}").json()
    return {"list": {"items": page["items"], "meta": page["meta"]}, "get": book}


def parity(app: dict[str, Any], baseline: dict[str, Any]) -> dict[str, bool]:
    """Whether the baseline's answers equal the app's on every field the baseline writes."""
    app_meta = {key: app["list"]["meta"].get(key) for key in baseline["list"]["meta"]}
    return {
        "list": app["list"]["items"] == baseline["list"]["items"]
        and app_meta == baseline["list"]["meta"],
        "get": app["get"] == baseline["get"],
    }


def soak_server(args: argparse.Namespace, server: Server, ids: Ids) -> dict[str, Any]:
    say(f"folio: memory over {args.soak:,} requests of the mixed load")
    mixed = next(w for w in app_workloads(ids) if w.name == "mixed 90/10")
    runs = 0

    def drive_once(workload: Workload, seconds: float) -> dict[str, Any]:
        nonlocal runs
        runs += 1
        fresh = for_run(workload, SOAK_ISBN_BASE, runs)
        return drive(args, server.url, fresh, duration=seconds, warmup=0)

    result = soak(server, mixed, args.soak, drive_once)
    first, last = result["readings"]
    say(f"  RSS {first['rss_mib']} MiB after {first['requests']:,} requests,")
    say(f"  {last['rss_mib']} MiB after {last['requests']:,}; non-2xx {result['non_2xx']}")
    return result


def metrics_cost_runs(
    args: argparse.Namespace, folio_url: str, workloads: list[Workload]
) -> list[dict[str, Any]]:
    """Serve Folio with and without metrics side by side, on the same database, and drive both
    at once with each workload (see bench/experiments/metrics_cost.py). Each round starts both
    servers afresh, in the order its sides take turns in, so neither is always the older
    process."""
    env = served_env(folio_url, args.workers)

    def drive_both(fresh: dict[str, Workload]) -> dict[str, dict[str, Any]]:
        with ExitStack() as stack:
            envs = {
                side: {**env, "METRICS_ENABLED": str(side == "on" and not args.control).lower()}
                for side in fresh
            }
            servers = folio_servers(stack, envs, args.work_dir, "server-metrics")
            cpu_before = {side: server.cpu_seconds() for side, server in servers.items()}
            with ThreadPoolExecutor(len(servers)) as pool:
                # In the order of `fresh`: the side listed first starts first.
                running = {
                    side: pool.submit(drive, args, servers[side].url, workload)
                    for side, workload in fresh.items()
                }
                loads = {side: future.result() for side, future in running.items()}
            for side, load in loads.items():
                before, after = cpu_before[side], servers[side].cpu_seconds()
                answered = load.get("answered_all")
                if before is not None and after is not None and answered:
                    load["server_cpu_ms"] = round((after - before) * 1000 / answered, 4)
        say(
            "  "
            + "; ".join(
                f"metrics {side}: {load['rps']} req/s,"
                f" {load.get('server_cpu_ms', '?')} ms of CPU each"
                for side, load in loads.items()
            )
        )
        return loads

    results = []
    for workload in workloads:
        control = " (control: metrics off on both sides)" if args.control else ""
        say(
            f"metrics cost{control}: {workload.name},"
            f" {args.rounds} rounds of {args.duration:g} s each"
        )
        result = {
            **metrics_cost.measure(workload, args.rounds, drive_both),
            "control": args.control,
        }
        say(metrics_cost.describe(result))
        if workload.paths and not workload.write_share and not args.control:
            priced = asyncio.run(metrics_cost.in_process(folio_url, workload.paths))
            result["in_process"] = priced
            say(metrics_cost.describe_in_process(workload.name, priced))
        results.append(result)
    return results


def compare_runs(args: argparse.Namespace, folio_url: str, ids: Ids) -> dict[str, Any]:
    """Folio beside the other app (bench/compare.py), on Folio's database; neither needs a key."""
    workloads = [w for w in app_workloads(ids) if w.name in compare.COMPARED]
    say(
        f"compare: Folio and the {args.compare} app, {args.rounds} rounds of"
        f" {', '.join(w.name for w in workloads)}, {args.duration:g} s each"
    )

    def drive_side(side: str, url: str, workload: Workload) -> dict[str, Any]:
        load = drive(args, url, workload, key="")
        say(f"  {side}: {workload.name}, {load['rps']} req/s, non-2xx {load['non_2xx']}")
        return load

    result = compare.serve_and_measure(
        args.compare,
        folio_url,
        args.workers,
        ids,
        workloads,
        args.rounds,
        drive_side,
        args.work_dir,
    )
    say("compare: counting SQL statements per request in-process")
    result["sql"] = asyncio.run(compare.count_both(args.compare, folio_url, workloads))
    return result


def selected(
    workloads: list[Workload], only: str | None, open_rate: float | None = None
) -> list[Workload]:
    """The workloads `--only` names (all without it); the closed-loop mix comes along with the
    open-loop one, whose rate it gives unless `--open-rate` does."""
    if not only:
        return workloads
    names = {name.strip() for name in only.split(",")}
    if open_rate is None and any(w.open_loop and w.name in names for w in workloads):
        names.add(MIXED)
    return [workload for workload in workloads if workload.name in names]


def folio_database(args: argparse.Namespace, database: Path, dataset: DatasetInfo) -> str:
    """The URL Folio is served from: the SQLite run copy, or a fresh PostgreSQL copy of it."""
    if args.postgres is None:
        return sqlite_url(database)
    name = postgres.pristine_name(args.scale)
    if postgres.ensure_pristine(args.postgres, database, dataset):
        say(f"PostgreSQL database {name} built from {database.name}")
    else:
        say(f"PostgreSQL database {name} reused")
    return postgres.fresh_run_database(args.postgres, args.scale)


def database_facts(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """Which database Folio ran on, without the password."""
    if args.postgres is None:
        return {"kind": "sqlite", "version": sqlite3.sqlite_version}
    return {
        "kind": "postgresql",
        "version": postgres.server_version(args.postgres),
        "url": make_url(url).render_as_string(hide_password=True),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return bench(args)
    finally:
        if args.postgres is not None:
            postgres.drop_run_database(args.postgres, args.scale)


def run_database(work: Path, scale: int) -> tuple[Path, DatasetInfo]:
    """A fresh copy of the pristine database, so that writes from one run never leak into the
    next; built first if this scale has none yet."""
    pristine, dataset = ensure_database(work, scale)
    database = work / f"run-scale{scale}.db"
    copy_database(pristine, database)
    return database, dataset


def baseline_server(args: argparse.Namespace, database: Path) -> Server:
    """The baseline, served on `database` with the run's worker count; use as a context manager."""
    port = free_port()
    env = {"BENCH_DATABASE": str(database)}
    return Server(baseline_command(args.workers, port), port, env, args.work_dir / "baseline.log")


def bench(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    work: Path = args.work_dir
    clock = time.perf_counter()
    say(f"preparing the database with {args.scale:,} books in {work}")
    database, dataset = run_database(work, args.scale)
    folio_url = folio_database(args, database, dataset)
    say(f"database ready in {time.perf_counter() - clock:.1f} s")
    ids = sample_ids(database, seed=1)
    workloads = selected(app_workloads(ids), args.only, args.open_rate)
    baselines = baseline_workloads(ids)

    with baseline_server(args, database) as server:
        baseline_answers = sample(server.url, ids)
        baseline_rows = run_workloads(args, server, baselines, "baseline")

    port = free_port()
    args.key = make_key(folio_url)
    with Server(
        app_command(), port, served_env(folio_url, args.workers), work / "server.log"
    ) as server:
        rss_at_start = server.rss_mib()
        app_answers = sample(server.url, ids)
        rows = run_workloads(args, server, workloads, "folio")
        soaked = soak_server(args, server, ids) if args.soak else None
    closed = [workload for workload in workloads if not workload.open_loop]
    priced = metrics_cost_runs(args, folio_url, closed) if args.metrics_cost else None
    compared = compare_runs(args, folio_url, ids) if args.compare else None

    say("counting SQL statements per request in-process")
    statements = asyncio.run(count_statements(folio_url, workloads))
    statements |= count_baseline_statements(database, baselines)
    for row in [*baseline_rows, *rows]:
        counted = statements[row["name"]]
        row["sql_per_request"] = counted["per_request"]
        row["sql"] = counted
    by_kind = {"list": baseline_rows[0], "get": baseline_rows[1]}
    ratios(rows, by_kind)
    results = {
        "machine": machine(started),
        "settings": {
            key: getattr(args, key)
            for key in (
                "scale",
                "connections",
                "duration",
                "warmup",
                "workers",
                "tool",
                "metrics_cost",
                "rounds",
                "compare",
                "open_rate",
            )
        },
        "database": database_facts(args, folio_url),
        "dataset": asdict(dataset),
        "parity": parity(app_answers, baseline_answers),
        "rss_mib_at_start": rss_at_start,
        "baselines": by_kind,
        "workloads": rows,
        "soak": soaked,
        "metrics_cost": priced,
        "compare": compared,
    }
    path = write_json(results, args.results_dir, started)
    sys.stdout.write(table(results) + "\n")
    say(f"results written to {path}")
    return 0
