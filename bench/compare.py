"""Folio beside the apps a FastAPI user would write instead (`python -m bench --compare plain`
or `--compare alchemy`).

After the run's own workloads, Folio (with `AUTH_MODE=open`, no rate limit) and the other app
(the plain SQLModel app, `bench/plain_app.py`, or advanced-alchemy's repository services,
`bench/alchemy_app.py`) are served side by side on the run's database, with the same worker
count and uvicorn's same HTTP parser. Their answers are first compared field by field:
a page, a sample of books, and a book each creates, read back by the other. Then each round
drives the list page, the get and the create at one and then the other, the side that goes first
taking turns; a workload's ratio is the median of its rounds' Folio/other requests per second,
so that the machine's drift between rounds cancels out. The server's CPU time per answer is read
around each run, and the SQL each side runs per request is counted in process.
"""

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from statistics import median
from typing import Any

import httpx
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.dataset import isbn13
from bench.server import Server, app_command, free_port, served_env, uvicorn
from bench.statements import (
    PROBE_ISBN_BASE,
    Prober,
    count_statements,
    traced_asyncpg,
    traced_sqlite,
)
from bench.workloads import Ids, Workload, for_run

# The other apps, by the name `--compare` takes: their ASGI apps.
AGAINST = {"plain": "bench.plain_app:app", "alchemy": "bench.alchemy_app:app"}
COMPARED = ("list page 1", "get book", "create book")
# ISBNs of the books these runs write, clear of the other workloads'.
ISBN_BASE = 6 * 10**8
# Books whose answers are compared, of the run's random sample.
SAMPLE_BOOKS = 20

# (side, url, workload) -> the load's result
Drive = Callable[[str, str, Workload], dict[str, Any]]


def other_command(against: str, workers: int, port: int) -> list[str]:
    return [*uvicorn(port, workers), AGAINST[against]]


def http_parser() -> str:
    """The HTTP/1.1 parser uvicorn picks by default, for both sides: httptools if installed."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """The places where two JSON values differ, such as `items[3].authors[0].name`."""
    if isinstance(left, dict) and isinstance(right, dict):
        found: list[str] = []
        for key in [*left, *(key for key in right if key not in left)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in left or key not in right:
                found.append(where)
            else:
                found += differences(left[key], right[key], where)
        return found
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{path} (length {len(left)} against {len(right)})"]
        found = []
        for index, (one, other) in enumerate(zip(left, right, strict=True)):
            found += differences(one, other, f"{path}[{index}]")
        return found
    return [] if left == right and type(left) is type(right) else [path or "(the whole answer)"]


def parity_body(ids: Ids, number: int) -> dict[str, Any]:
    """A v1.2 body: two authors, not in the order of their ids; a tag in capitals and a new one."""
    return {
        "title": "Parity Book",
        "author_ids": [ids.authors[1], ids.authors[0]],
        "tags": ["Poetry", "parity"],
        "isbn": isbn13("979", ISBN_BASE - number),
        "published_year": 1999,
        "description": "Written by both sides.",
    }


async def parity(client: Mapping[str, httpx.AsyncClient], ids: Ids) -> dict[str, Any]:
    """Whether both sides (Folio first) answer alike: page 1 of the list, a sample of books, and
    a book each creates from the same body, read back by the other (which shows it stored the
    same rows). Each check lists the places where the answers differ; none means equal."""
    sides = tuple(client)
    pages = [(await client[side].get("/books")).json() for side in sides]
    found: dict[str, list[str]] = {"list": differences(*pages), "get": [], "create": []}
    books = ids.books[:SAMPLE_BOOKS]
    for book in books:
        answers = [(await client[side].get(f"/books/{book}")).json() for side in sides]
        found["get"] += [f"{book}: {where}" for where in differences(*answers)]
    made: dict[str, dict[str, Any]] = {}
    # The other app first: it creates the new tag, and Folio finds it.
    for number, side in enumerate(sides[::-1], start=1):
        answer = await client[side].post("/books", json=parity_body(ids, number))
        if answer.status_code != 201:
            found["create"].append(f"{side} answered {answer.status_code}: {answer.text}")
        else:
            made[side] = answer.json()
    for side, created in made.items():
        other = sides[1 - sides.index(side)]
        shown = (await client[other].get(f"/books/{created['id']}")).json()
        found["create"] += [
            f"made by {side}, read by {other}: {where}" for where in differences(created, shown)
        ]
    if len(made) == len(sides):
        # What must differ between two new books: their ids, times and ISBNs.
        own = {"id": None, "created_at": None, "updated_at": None, "isbn": None}
        answers = [{**made[side], **own} for side in sides]
        found["create"] += [f"answers: {where}" for where in differences(*answers)]
    return {
        "checked": {"list": 1, "get": len(books), "create": len(sides)},
        "differences": found,
    }


async def parity_over_http(urls: dict[str, str], ids: Ids) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        clients = {
            side: await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
            for side, url in urls.items()
        }
        return await parity(clients, ids)


def measure(
    workloads: list[Workload], rounds: int, urls: dict[str, str], drive: Drive
) -> list[dict[str, dict[str, Any]]]:
    """Each round drives every workload at both sides (the keys of `urls`, Folio first), one
    after the other, the side that goes first taking turns; each run writes ISBNs of its own.
    {workload: {side: load}} each."""
    sides = tuple(urls)
    results: list[dict[str, dict[str, Any]]] = []
    runs = 0
    for number in range(rounds):
        loads: dict[str, dict[str, Any]] = {}
        for workload in workloads:
            loads[workload.name] = {}
            for side in sides if number % 2 == 0 else sides[::-1]:
                runs += 1
                fresh = for_run(workload, ISBN_BASE, runs)
                loads[workload.name][side] = drive(side, urls[side], fresh)
        results.append(loads)
    return results


def middle(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(median(known), 3) if known else None


def latency(load: dict[str, Any], key: str) -> float | None:
    summary = load.get("latency_ms")
    return None if summary is None else float(summary[key])


def summary(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per workload and side, the medians of the rounds; and the median of the rounds' own
    Folio/other ratios of requests per second."""
    summarised: dict[str, dict[str, Any]] = {}
    for name in rounds[0] if rounds else []:
        other = next(side for side in rounds[0][name] if side != "folio")
        figures = {
            side: {
                "rps": middle([loads[name][side]["rps"] for loads in rounds]),
                "p50_ms": middle([latency(loads[name][side], "p50") for loads in rounds]),
                "p99_ms": middle([latency(loads[name][side], "p99") for loads in rounds]),
                "server_cpu_ms": middle(
                    [loads[name][side].get("server_cpu_ms") for loads in rounds]
                ),
                "non_2xx": sum(loads[name][side]["non_2xx"] for loads in rounds),
            }
            for side in ("folio", other)
        }
        ratios = [
            loads[name]["folio"]["rps"] / loads[name][other]["rps"]
            for loads in rounds
            if loads[name][other]["rps"]
        ]
        summarised[name] = {
            **figures,
            "ratios": [round(ratio, 4) for ratio in ratios],
            "ratio": round(median(ratios), 4) if ratios else None,
        }
    return summarised


@contextmanager
def other_app_on(against: str, engine: AsyncEngine) -> Iterator[FastAPI]:
    """The other app with its sessions on `engine`: the plain app's dependency overridden as
    FastAPI's documentation teaches for tests, advanced-alchemy's configuration given the
    engine instead of its URL. Each module builds its app from DATABASE_URL as it is imported,
    hence the imports here."""
    if against == "plain":
        from bench import plain_app

        async def session() -> AsyncIterator[AsyncSession]:
            async with AsyncSession(engine, expire_on_commit=False) as opened:
                yield opened

        plain_app.app.dependency_overrides[plain_app.get_session] = session
        try:
            yield plain_app.app
        finally:
            plain_app.app.dependency_overrides.clear()
    else:
        from bench import alchemy_app

        config = alchemy_app.alchemy.get_config()
        before = config.engine_instance, config.session_maker
        config.engine_instance, config.session_maker = engine, None
        try:
            yield alchemy_app.app
        finally:
            config.engine_instance, config.session_maker = before


async def count_other_statements(
    against: str, database_url: str, workloads: list[Workload]
) -> dict[str, Any]:
    """The SQL the other app runs per request, counted in process as Folio's is
    (bench/statements.py)."""
    sqlite = database_url.startswith("sqlite")
    with traced_sqlite() if sqlite else traced_asyncpg() as sent:
        # Made inside the block, so that its connections are traced.
        engine = create_async_engine(database_url)
        try:
            with other_app_on(against, engine) as app:
                transport = ASGITransport(app=app)
                async with AsyncClient(transport=transport, base_url="http://p") as client:
                    prober = Prober(client, sent, key="", isbn_base=PROBE_ISBN_BASE + 20_000)
                    return {w.name: await prober.workload(w) for w in workloads}
        finally:
            await engine.dispose()


async def count_both(
    against: str, database_url: str, workloads: list[Workload]
) -> dict[str, dict[str, Any]]:
    """{side: {workload: its SQL per request}}, Folio's with `AUTH_MODE=open` as it was served."""
    folio = await count_statements(
        database_url, workloads, PROBE_ISBN_BASE + 10_000, auth_mode="open"
    )
    other = await count_other_statements(against, database_url, workloads)
    return {"folio": folio, against: other}


def serve_and_measure(
    against: str,
    database_url: str,
    workers: int,
    ids: Ids,
    workloads: list[Workload],
    rounds: int,
    drive: Drive,
    logs: Any,
) -> dict[str, Any]:
    """Serve Folio and the other app on the database, check their answers alike, then drive
    them in rounds."""
    folio_env = {**served_env(database_url, workers), "AUTH_MODE": "open"}
    folio_port, other_port = free_port(), free_port()
    with (
        # Folio first: its connections put a SQLite file in WAL mode, which the other app keeps.
        Server(app_command(), folio_port, folio_env, logs / "compare-folio.log") as folio,
        Server(
            other_command(against, workers, other_port),
            other_port,
            {"DATABASE_URL": database_url},
            logs / f"compare-{against}.log",
        ) as other,
    ):
        servers = {"folio": folio, against: other}
        urls = {side: server.url for side, server in servers.items()}
        checked = asyncio.run(parity_over_http(urls, ids))

        def drive_priced(side: str, url: str, workload: Workload) -> dict[str, Any]:
            before = servers[side].cpu_seconds()
            load = drive(side, url, workload)
            after = servers[side].cpu_seconds()
            if before is not None and after is not None and load.get("answered_all"):
                load["server_cpu_ms"] = round((after - before) * 1000 / load["answered_all"], 4)
            return load

        measured = measure(workloads, rounds, urls, drive_priced)
    return {
        "against": against,
        "folio_environment": {"AUTH_MODE": "open", "RATE_LIMIT_PER_MINUTE": "0"},
        "http": http_parser(),
        "workers": workers,
        "parity": checked,
        "rounds": measured,
        "workloads": summary(measured),
    }
