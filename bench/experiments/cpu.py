"""What a request costs in CPU, in process: no server, no network, no load tool.

`python -m bench.experiments.cpu` (options as for `python -m bench`; SQLite only) builds
`bench.experiments.floor`'s app on the benchmark database and calls it as an ASGI app, one request
at a time, timing the process's CPU (its event loop's thread and aiosqlite's threads alike) per
request. The same app without Folio's middlewares (request ids and metrics, HEAD, gzip, framing, the
access check, body limits) is measured beside it, so the table prices them. Rounds take turns, as in
`bench.experiments.floor`; each figure is the median of the rounds. Logging is left unconfigured, so
no access line is written.
"""

import asyncio
import sys
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from fastapi import FastAPI
from starlette.types import Message, Scope

from app.config import Settings
from bench.dataset import sqlite_url
from bench.driving import say
from bench.experiments.floor import BASELINE, VARIANTS, floor_app
from bench.report import cell, machine, rounds_heading, table_head, write_file
from bench.run import run_database, sqlite_args
from bench.workloads import sample_ids

REQUESTS_PER_ROUND = 1000
# What each workload asks for, `{book}` standing for a book's id: bench.experiments.floor's gets
# (its baseline aside) and the first list page.
PATHS = {name: f"/{route}/{{book}}" for name, route in VARIANTS.items() if name != BASELINE}
PATHS["list page 1"] = "/books"
WITHOUT_MIDDLEWARES = ("session floor", "get book", "list page 1")


def timed_settings(database: Path) -> Settings:
    """Folio's settings for the timed app: no rate limit, as for the benchmark's servers, and
    no import runner, whose polling would add CPU time of its own to the process timed."""
    return Settings(database_url=sqlite_url(database), rate_limit_per_minute=0, import_runner=False)


def without_middlewares(app: FastAPI) -> FastAPI:
    """The app with none of Folio's middlewares: Starlette builds its stack at the first call."""
    app.user_middleware = []
    return app


def get_scope(path: str, query: bytes = b"") -> Scope:
    """The ASGI scope of a plain `GET path?query` from a local client."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"folio")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def get(app: FastAPI, path: str) -> None:
    """Send one GET through the app's whole ASGI stack; refuse anything but a 200."""
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(get_scope(path), receive, send)
    if statuses != [200]:
        raise SystemExit(f"GET {path} answered {statuses}")


async def cpu_ms(app: FastAPI, paths: list[str], requests: int) -> float:
    """The process's CPU milliseconds per request over `requests` GETs of `paths`, in turn."""
    started = time.process_time()
    for n in range(requests):
        await get(app, paths[n % len(paths)])
    return (time.process_time() - started) * 1000 / requests


async def measure(settings: Settings, books: list[str], rounds: int) -> dict[str, list[float]]:
    apps = {"with": floor_app(settings), "without": without_middlewares(floor_app(settings))}
    sides = [(name, "with") for name in PATHS]
    sides += [(name, "without") for name in WITHOUT_MIDDLEWARES]
    figures: dict[str, list[float]] = {f"{name} ({side})": [] for name, side in sides}
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        for name, side in sides:  # warm up: connections, caches, the middleware stack
            await cpu_ms(apps[side], [PATHS[name].format(book=book) for book in books], 200)
        for number in range(rounds):
            say(f"round {number + 1} of {rounds}")
            for name, side in sides if number % 2 == 0 else sides[::-1]:
                paths = [PATHS[name].format(book=book) for book in books]
                spent = await cpu_ms(apps[side], paths, REQUESTS_PER_ROUND)
                figures[f"{name} ({side})"].append(spent)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = sqlite_args(argv, "bench.experiments.cpu")
    started = datetime.now(UTC)
    database, _ = run_database(args.work_dir, args.scale)
    books = sample_ids(database, seed=1).books
    figures = asyncio.run(measure(timed_settings(database), books, args.rounds))
    heading = rounds_heading(
        started, f"{REQUESTS_PER_ROUND} requests each, in process", args.rounds
    )
    lines = [heading, "", *table_head("workload (Folio's middlewares)", "CPU ms per request")]
    lines += [f"| {name} | {cell(median(spent), 3)} |" for name, spent in figures.items()]
    sys.stdout.write("\n".join(lines) + "\n")
    results = {
        "machine": machine(started),
        "settings": {"scale": args.scale, "requests_per_round": REQUESTS_PER_ROUND},
        "cpu_ms_per_request": figures,
    }
    name = f"{started:%Y-%m-%dT%H%M}-cpu-scale{args.scale}-sqlite-in-process.json"
    say(f"results written to {write_file(results, args.results_dir / name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
