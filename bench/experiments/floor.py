"""The floor under Folio's get-one: the app with its request session and no SQL.

`python -m bench.experiments.floor` (options as for `python -m bench`; SQLite only) serves the
baseline and then Folio with three more routes, and reports each against the baseline's get:

- `GET /floor/{id}` takes the request's `SessionDep`, checks out its connection, and answers a
  made-up book without running a statement. No get built on a per-request session can serve
  more than the floor does.
- `GET /on-loop/{id}` does the same, then runs the get's own statement on a stdlib `sqlite3`
  connection, on the event loop: what the get would serve without aiosqlite's thread.
- `GET /core/{id}` runs the get's statement on the session's connection through SQLAlchemy Core
  (aiosqlite's thread, not the ORM's execution): what the ORM layer costs.

The last two answer exactly what `GET /books/{id}` does; the run checks that first.

Creates have a floor and a variant of their own, against `POST /books`:

- `POST /floor/books` parses the new book, takes the request's write session and its one
  writer connection, and answers a made-up book without running a statement.
- `POST /on-loop/books` runs the create's own repository code on a synchronous SQLAlchemy
  session over a stdlib `sqlite3` connection, on the event loop: what creates would do
  without aiosqlite's thread. The run checks that each book it makes reads back as its answer.
"""

import random
import sqlite3
import sys
import uuid
from datetime import UTC, datetime
from statistics import median
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, event
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.books.repository import BOOK_BY_ID, BookRepository
from app.books.schemas import AuthorRef, BookCreate, BookRead
from app.config import Settings, get_settings
from app.db.session import SessionDep
from app.idempotency.guard import IdempotencyDep
from app.kit.errors import NotFound
from app.kit.etag import created_responses
from app.main import create_app
from bench.dataset import sqlite_url
from bench.driving import drive, say
from bench.report import cell, machine, rounds_heading, table_head, write_file
from bench.run import baseline_server, run_database, selected, sqlite_args
from bench.server import Server, free_port, make_key, served_env, uvicorn
from bench.workloads import Workload, for_run, new_book, sample_ids

MADE_UP_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def made_up(book_id: uuid.UUID) -> BookRead:
    return BookRead(
        id=book_id,
        title="Floor",
        isbn=None,
        published_year=None,
        description=None,
        authors=[AuthorRef(id=book_id, name="Floor", version=1)],
        tags=[],
        created_at=MADE_UP_TIME,
        updated_at=MADE_UP_TIME,
        version=1,
    )


async def floor(book_id: uuid.UUID, session: SessionDep) -> BookRead:
    """A book made up from its id, once the request's connection is checked out."""
    await session.connection()
    return made_up(book_id)


async def floor_create(
    data: BookCreate, session: SessionDep, idempotency: IdempotencyDep
) -> BookRead:
    """A made-up book, once the new one is parsed and the write connection checked out."""
    await session.connection()

    async def make() -> BookRead:
        return made_up(data.listed_authors[0])

    return await idempotency.create(make, "/books", BookRead)  # type: ignore[return-value]


class OnLoopSession:
    """A synchronous session, with the awaitable `exec` the repositories call."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def exec(self, statement: Any, **options: Any) -> Any:
        return self.session.exec(statement, **options)

    def get_bind(self) -> Any:
        return self.session.get_bind()


def on_loop_create_route(database_path: str, busy_timeout_ms: int) -> Any:
    """`POST /on-loop/books`: the create's repository code on a stdlib connection, on the loop."""
    engine = create_engine(f"sqlite:///{database_path}", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN, as the app's does
        # The pragmas of the app's own write connection (app/db.py), so both sync alike.
        pragmas = (f"busy_timeout = {busy_timeout_ms}", "synchronous = NORMAL", "foreign_keys = ON")
        for pragma in pragmas:
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    async def on_loop_create(
        data: BookCreate, session: SessionDep, idempotency: IdempotencyDep
    ) -> BookRead:
        await session.connection()  # as the floor: the request's session is still checked out
        # Nothing below awaits anything that waits: the transaction runs whole, on the loop.
        with Session(engine) as on_loop, on_loop.begin():
            books = BookRepository(OnLoopSession(on_loop))  # type: ignore[arg-type]
            return await idempotency.create(  # type: ignore[return-value]
                lambda: books.create(data), "/books", BookRead
            )

    return on_loop_create


async def core(book_id: uuid.UUID, session: SessionDep) -> BookRead:
    """The get's statement on the session's connection, through SQLAlchemy Core."""
    connection = await session.connection()
    found = await connection.execute(BOOK_BY_ID["sqlite"], {"book_id": book_id})
    row = found.one_or_none()
    if row is None:
        raise NotFound("No book has this id.")
    return BookRead.model_validate(row._mapping)


def on_loop_route(database_path: str) -> Any:
    """`GET /on-loop/{id}`: the get's statement on one stdlib connection, on the event loop."""
    statement = BOOK_BY_ID["sqlite"]
    dialect = sqlite_dialect.dialect()
    sql = statement.compile(dialect=dialect).string
    columns: list[tuple[str, Any]] = [
        (str(column.key), column.type.dialect_impl(dialect).result_processor(dialect, None))
        for column in statement.selected_columns
    ]
    # In autocommit mode each SELECT reads one snapshot of its own, as the real get's does.
    connection = sqlite3.connect(database_path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA query_only = ON")

    async def on_loop(book_id: uuid.UUID, session: SessionDep) -> BookRead:
        await session.connection()  # as the floor: the request's session is still checked out
        values = connection.execute(sql, (book_id.hex,)).fetchone()
        if values is None:
            raise NotFound("No book has this id.")
        row = {
            key: value if convert is None else convert(value)
            for (key, convert), value in zip(columns, values, strict=True)
        }
        return BookRead.model_validate(row)

    return on_loop


def floor_app(settings: Settings | None = None) -> FastAPI:
    """Folio's app, configured as `python -m app` is unless told otherwise, plus the floor
    and the get's two variants."""
    settings = settings or get_settings()
    app = create_app(settings)
    database_path = make_url(settings.database_url).database or ""
    variants = {"floor": floor, "on-loop": on_loop_route(database_path), "core": core}
    for name, endpoint in variants.items():
        app.add_api_route(
            f"/{name}/{{book_id}}", endpoint, methods=["GET"], response_model=BookRead
        )
    creates = {
        "floor": floor_create,
        "on-loop": on_loop_create_route(database_path, settings.busy_timeout_ms),
    }
    for name, endpoint in creates.items():
        app.add_api_route(
            f"/{name}/books",
            endpoint,
            methods=["POST"],
            status_code=201,
            response_model=BookRead,
            responses=created_responses("/books"),
        )
    return app


BASELINE = "baseline get book"
# What each workload drives, by its name in the table.
VARIANTS = {
    BASELINE: "books",
    "session floor": "floor",
    "get's statement on the event loop (stdlib sqlite3)": "on-loop",
    "get's statement through SQLAlchemy Core (aiosqlite)": "core",
    "get book": "books",
}
# Where each create workload POSTs; their requests/s are books per second, no baseline.
CREATES = {
    "create floor": "/floor/books",
    "create on the event loop (stdlib sqlite3)": "/on-loop/books",
    "create book": "/books",
}
# ISBNs of the books these runs write, clear of the other benchmarks'.
ISBN_BASE = 5 * 10**8


def same_answers(url: str, books: list[str], authors: list[str], key: str) -> None:
    """Refuse to measure a variant that answers differently from the route it stands for."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        for book in books:
            real = client.get(f"/books/{book}").json()
            for route in ("on-loop", "core"):
                if (answer := client.get(f"/{route}/{book}").json()) != real:
                    raise SystemExit(f"/{route}/{book} answered {answer}, not {real}")
        rng = random.Random(1)
        for number in range(1, 21):
            body = new_book(rng, authors, ISBN_BASE - number, tag_count=number % 5)
            made = client.post("/on-loop/books", json=body)
            if made.status_code != 201:
                raise SystemExit(f"/on-loop/books answered {made.status_code}: {made.text}")
            shown = client.get(made.headers["Location"])
            if made.json() != shown.json():
                raise SystemExit(f"/on-loop/books answered {made.text}, read back {shown.text}")


def main(argv: list[str] | None = None) -> int:
    args = sqlite_args(argv, "bench.experiments.floor")
    started = datetime.now(UTC)
    database, _ = run_database(args.work_dir, args.scale)
    args.key = make_key(sqlite_url(database))
    ids = sample_ids(database, seed=1)
    workloads = {
        name: Workload(name, [f"/{route}/{book}" for book in ids.books])
        for name, route in VARIANTS.items()
    }
    for name, path in CREATES.items():
        workloads[name] = Workload(
            name, [], 1.0, connections=16, authors=ids.authors, write_path=path
        )
    workloads = {
        workload.name: workload for workload in selected(list(workloads.values()), args.only)
    }
    rounds: list[dict[str, dict[str, Any]]] = []
    runs = 0

    port = free_port()
    command = [*uvicorn(port, args.workers), "bench.experiments.floor:floor_app", "--factory"]
    env = served_env(sqlite_url(database), args.workers)
    with (
        baseline_server(args, database) as baseline,
        Server(command, port, env, args.work_dir / "floor.log") as server,
    ):
        same_answers(server.url, ids.books[:20], ids.authors, args.key)
        # The machine's speed drifts: each round drives every workload, in turns.
        for number in range(args.rounds):
            loads: dict[str, dict[str, Any]] = {}
            order = list(workloads.values())
            for workload in order if number % 2 == 0 else order[::-1]:
                say(f"round {number + 1}: {workload.name}")
                url = baseline.url if workload.name == BASELINE else server.url
                runs += 1
                fresh = for_run(workload, ISBN_BASE, runs)
                loads[workload.name] = drive(args, url, fresh)
            rounds.append(loads)

    setup = f"{args.workers} worker(s), {args.connections} connections, {args.duration:g} s each"
    heading = rounds_heading(started, setup, args.rounds)
    lines = [heading, "", *table_head("workload", "req/s", "vs baseline get", "non-2xx")]
    for name in workloads:
        rps = median(loads[name]["rps"] for loads in rounds)
        compared = name != BASELINE and name not in CREATES and BASELINE in workloads
        ratios = [loads[name]["rps"] / loads[BASELINE]["rps"] for loads in rounds if compared]
        ratio = f"{median(ratios):.2f}×" if compared else "–"
        non_2xx = sum(loads[name]["non_2xx"] for loads in rounds)
        lines.append(f"| {name} | {cell(rps)} | {ratio} | {non_2xx} |")
    sys.stdout.write("\n".join(lines) + "\n")
    settings = ("scale", "connections", "duration", "warmup", "workers", "tool")
    results = {
        "machine": machine(started),
        "settings": {key: getattr(args, key) for key in settings},
        "rounds": rounds,
    }
    name = f"{started:%Y-%m-%dT%H%M}-floor-scale{args.scale}-sqlite-{args.workers}w.json"
    say(f"results written to {write_file(results, args.results_dir / name)}")
    # A refused request is answered faster than a served one: its figure would flatter.
    return 1 if any(load["non_2xx"] for loads in rounds for load in loads.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
