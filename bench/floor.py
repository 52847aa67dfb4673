"""The floor under Folio's get-one: the app with its request session and no SQL.

`python -m bench.floor` (options as for `python -m bench`; SQLite only) serves the baseline and
then Folio with one more route, `GET /floor/{id}`. That route takes the request's `SessionDep`,
checks out its connection, and answers a made-up book without running a statement. On the same
server it drives the floor and the real `GET /books/{id}`, and it reports both against the
baseline's get. No get built on a per-request session can serve more than the floor does.
"""

import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from app.books.schemas import BookAuthor, BookRead
from app.config import Settings
from app.db import SessionDep
from app.main import create_app
from bench.dataset import sqlite_url
from bench.report import cell, machine
from bench.run import baseline_server, drive, parse_args, run_database, say
from bench.server import Server, free_port, uvicorn
from bench.workloads import Workload, sample_ids

MADE_UP_TIME = datetime(2026, 1, 1, tzinfo=UTC)


async def floor(book_id: uuid.UUID, session: SessionDep) -> BookRead:
    """A book made up from its id, once the request's connection is checked out."""
    await session.connection()
    return BookRead(
        id=book_id,
        title="Floor",
        isbn=None,
        published_year=None,
        description=None,
        author_id=book_id,
        author=BookAuthor(id=book_id, name="Floor", version=1),
        tags=[],
        created_at=MADE_UP_TIME,
        updated_at=MADE_UP_TIME,
        version=1,
    )


def floor_app(settings: Settings | None = None) -> FastAPI:
    """Folio's app, configured as `python -m app` is unless told otherwise, plus the floor."""
    app = create_app(settings)
    app.add_api_route("/floor/{book_id}", floor, methods=["GET"], response_model=BookRead)
    return app


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.postgres is not None:
        raise SystemExit("bench.floor measures SQLite only")
    started = datetime.now(UTC)
    database, _ = run_database(args.work_dir, args.scale)
    ids = sample_ids(database, seed=1)
    gets = [f"/books/{book}" for book in ids.books]
    loads: dict[str, dict[str, Any]] = {}

    with baseline_server(args, database) as server:
        say("baseline get book")
        loads["baseline get book"] = drive(args, server.url, Workload("baseline get book", gets))

    port = free_port()
    command = [*uvicorn(port, args.workers), "bench.floor:floor_app", "--factory"]
    env = {"DATABASE_URL": sqlite_url(database), "RATE_LIMIT_PER_MINUTE": "0"}
    with Server(command, port, env, args.work_dir / "floor.log") as server:
        floors = [f"/floor/{book}" for book in ids.books]
        for workload in (Workload("session floor", floors), Workload("get book", gets)):
            say(workload.name)
            loads[workload.name] = drive(args, server.url, workload)

    baseline_rps = loads["baseline get book"]["rps"]
    lines = [
        f"{started:%Y-%m-%d %H:%M} UTC, commit {machine(started)['git_commit']},"
        f" {args.workers} worker(s), {args.connections} connections, {args.duration:g} s each.",
        "",
        "| workload | req/s | vs baseline get | non-2xx |",
        "|---|---:|---:|---:|",
    ]
    for name, load in loads.items():
        ratio = "–" if name.startswith("baseline") else f"{load['rps'] / baseline_rps:.2f}×"
        lines.append(f"| {name} | {cell(load['rps'])} | {ratio} | {load['non_2xx']} |")
    sys.stdout.write("\n".join(lines) + "\n")
    settings = ("scale", "connections", "duration", "warmup", "workers", "tool")
    results = {
        "machine": machine(started),
        "settings": {key: getattr(args, key) for key in settings},
        "loads": loads,
    }
    name = f"{started:%Y-%m-%dT%H%M}-floor-scale{args.scale}-sqlite-{args.workers}w.json"
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / name).write_text(json.dumps(results, indent=2) + "\n")
    say(f"results written to {args.results_dir / name}")
    # A refused request is answered faster than a served one: its figure would flatter.
    return 1 if any(load["non_2xx"] for load in loads.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
