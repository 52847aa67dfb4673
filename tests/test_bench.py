"""The benchmark's bulk loader writes rows the app reads, its baseline and the plain app answer
like the app, and its open loop keeps to its schedule."""

import argparse
import asyncio
import itertools
import json
import sqlite3
import statistics
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.db.migrations import schema_head
from app.main import create_app
from app.search.schema import INDEX_TABLES, KEY_TABLES
from app.search.text import search_text
from app.state import state_of
from bench import baseline, compare, imports
from bench.dataset import DatasetInfo, copy_database, ensure_database, revision_of, sqlite_url
from bench.driving import open_rate
from bench.experiments import (
    cpu,
    create_sql,
    facet_floor,
    index_cost,
    metrics_cost,
    search_floor,
    write_hold,
)
from bench.experiments.floor import floor_app
from bench.experiments.soak import LONGEST_RUN_S, soak
from bench.load import LoadSpec
from bench.open_loop import OpenLoop, OpenSpec, schedule
from bench.report import changed_settings, compare_table, machine
from bench.run import selected
from bench.server import make_key
from bench.statements import KEPT_STATEMENTS, listed, traced_sqlite
from bench.workloads import (
    FACETED,
    MIXED,
    OPEN_MIXED,
    SEARCHES,
    Ids,
    Workload,
    app_workloads,
    sample_ids,
)

pytestmark = pytest.mark.sqlite

BOOKS = 30


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, DatasetInfo]:
    """A benchmark database of a few books (the migrations run their own event loop)."""
    return ensure_database(tmp_path, BOOKS)


async def test_bulk_loaded_rows_are_served_by_the_app_and_the_baseline(
    loaded: tuple[Path, DatasetInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, info = loaded
    assert (info.books, info.authors) == (BOOKS, BOOKS // 3)
    ids = sample_ids(path, seed=1)
    app = create_app(Settings(database_url=sqlite_url(path)))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/health/ready")).status_code == 200
            page = (await client.get("/books", params={"per_page": 100})).json()
            book = (await client.get(f"/books/{ids.books[0]}")).json()
            author = await client.get(f"/authors/{ids.authors[0]}")
            word = page["items"][0]["title"].split()[-1].upper()
            found = (await client.get("/books", params={"q": word})).json()
            last = (await client.get("/books", params={"cursor": ids.last_page_cursor})).json()

    assert page["meta"]["total"] == BOOKS
    assert all(item["author"]["name"] for item in page["items"])
    assert sum(len(item["tags"]) for item in page["items"]) == info.book_tags
    assert book["id"] == ids.books[0]
    assert author.status_code == 200
    assert found["meta"]["total"] >= 1  # the migrations backfilled what matching reads
    # The last-page workload's cursor leads to the last 20 books, with nothing after them.
    assert last["items"] == page["items"][-20:]
    assert last["meta"]["next_cursor"] is None

    monkeypatch.setenv("BENCH_DATABASE", str(path))
    try:
        list_status, _, list_body = baseline.route("GET", "/books", "per_page=100")
        get_status, _, get_body = baseline.route("GET", f"/books/{ids.books[0]}", "")
    finally:
        baseline.close()
    assert (list_status, get_status) == (200, 200)
    baseline_page = json.loads(list_body)
    assert baseline_page["items"] == page["items"]
    assert baseline_page["meta"] == {key: page["meta"][key] for key in baseline_page["meta"]}
    assert json.loads(get_body) == book


class FakeServer:
    """Memory that grows by 1 MiB for every 1,000 requests answered."""

    def __init__(self) -> None:
        self.answered = 0

    def rss_mib(self) -> float:
        return 100 + self.answered / 1000


def test_soak_reads_memory_at_a_tenth_and_at_the_end() -> None:
    server = FakeServer()
    lengths: list[float] = []

    def drive(_workload: Workload, seconds: float) -> dict[str, Any]:
        lengths.append(seconds)
        answered = round(seconds * 500)
        server.answered += answered
        return {"requests": answered, "rps": 500.0, "non_2xx": 0, "transport_errors": 1}

    result = soak(server, Workload("mixed", ["/books"]), 20_000, drive)  # type: ignore[arg-type]

    first, last = result["readings"]
    assert 2_000 <= first["requests"] < 20_000 <= last["requests"] == result["requests"]
    assert first["rss_mib"] == 100 + first["requests"] / 1000
    assert result["growth"] == round(last["rss_mib"] / first["rss_mib"] - 1, 4) > 0
    assert result["non_2xx"] == len(lengths)
    assert max(lengths) <= LONGEST_RUN_S


async def test_the_floor_checks_out_a_connection_and_sends_no_statement(
    loaded: tuple[Path, DatasetInfo],
) -> None:
    path, _ = loaded
    book = sample_ids(path, seed=1).books[0]
    checkouts: list[object] = []
    with traced_sqlite() as sent:
        # No import runner: its polling would open connections of its own meanwhile.
        app = floor_app(Settings(database_url=sqlite_url(path), import_runner=False))
        async with app.router.lifespan_context(app):
            pool = state_of(app).database.read_engine.sync_engine.pool
            event.listen(pool, "checkout", lambda *args: checkouts.append(args))
            transport = ASGITransport(app=app)
            async with AsyncClient(transport=transport, base_url="http://test") as client:
                # The first request opens the connection, which runs its pragmas.
                assert (await client.get(f"/floor/{book}")).status_code == 200
                sent.clear()
                checkouts.clear()
                response = await client.get(f"/floor/{book}")
                during = list(sent)  # before shutdown checkpoints the database
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["title"]) == (book, "Floor")
    assert len(checkouts) == 1
    assert during == []


async def test_the_gets_variants_answer_as_the_get_does(loaded: tuple[Path, DatasetInfo]) -> None:
    path, _ = loaded
    books = sample_ids(path, seed=1).books[:10]
    tagged: list[bool] = []
    app = floor_app(Settings(database_url=sqlite_url(path), import_runner=False))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            for book in books:
                real = await client.get(f"/books/{book}")
                assert real.status_code == 200, real.text
                tagged.append(bool(real.json()["tags"]))
                for route in ("on-loop", "core"):
                    assert (await client.get(f"/{route}/{book}")).json() == real.json()
            missing = await client.get("/on-loop/016f5e67-0000-7000-8000-000000000000")
            assert missing.status_code == 404
    assert any(tagged), "no sampled book has tags, so their conversion went untried"


async def test_the_creates_variant_makes_books_that_read_back_as_it_answered(
    loaded: tuple[Path, DatasetInfo],
) -> None:
    path, _ = loaded
    authors = sample_ids(path, seed=1).authors
    key = make_key(sqlite_url(path))
    app = floor_app(Settings(database_url=sqlite_url(path), import_runner=False))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            body = {"title": "Écrit sur la boucle", "author_id": authors[0]}
            tags = ["fantasy", "made on the loop"]  # one the dataset has, one it has not
            made = await client.post("/on-loop/books", json={**body, "tags": tags})
            assert made.status_code == 201, made.text
            shown = await client.get(made.headers["Location"])
            assert made.json() == shown.json()
            assert made.headers["ETag"] == shown.headers["ETag"]
            assert shown.json()["tags"] == sorted(tags)
            stranger = {**body, "author_id": "016f5e67-0000-7000-8000-000000000000"}
            refused = await client.post("/on-loop/books", json=stranger)
            assert refused.status_code == 422, refused.text
            floor = await client.post("/floor/books", json=body)
            assert (floor.status_code, floor.json()["title"]) == (201, "Floor")
            listed = await client.get("/books", params={"q": "sur la boucle"})
    assert listed.json()["meta"]["total"] == 1


@pytest.fixture
def searchable(tmp_path: Path) -> Path:
    """A benchmark database big enough for each of the benchmark's searches to match."""
    path, _ = ensure_database(tmp_path, 1_000)
    return path


async def test_the_search_floor_finds_the_matches_folio_counts(searchable: Path) -> None:
    path = searchable
    floor = {(name, label): rows for name, _, label, rows, _ in search_floor.measure(path, 1)}
    app = create_app(Settings(database_url=sqlite_url(path), import_runner=False))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            for name, search in SEARCHES.items():
                answer = await client.get(search)
                assert answer.status_code == 200, answer.text
                assert floor[name, "match"] == answer.json()["meta"]["total"], name
    assert all(floor[name, "match"] > 0 for name in SEARCHES), floor


async def test_the_facet_floor_times_the_statements_folio_answers_with(searchable: Path) -> None:
    floor = {(name, facet): values for name, facet, values, _ in facet_floor.measure(searchable, 1)}
    app = create_app(Settings(database_url=sqlite_url(searchable), import_runner=False))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            for name, request in FACETED.items():
                answer = await client.get(request)
                assert answer.status_code == 200, answer.text
                for facet, counts in answer.json()["meta"]["facets"].items():
                    assert counts, (name, facet)
                    assert floor.pop((name, facet)) == len(counts), (name, facet)
    assert floor == {}


def test_the_index_cost_drops_the_search_index_triggers_and_only_them(
    loaded: tuple[Path, DatasetInfo], tmp_path: Path
) -> None:
    path, _ = loaded
    copy = tmp_path / "without-index.db"
    copy_database(path, copy)
    with closing(sqlite3.connect(copy)) as connection:
        triggers = connection.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'")
        kept = dict(triggers)
    index_objects = (*INDEX_TABLES, *KEY_TABLES)
    assert kept
    assert all(any(table in sql for table in index_objects) for sql in kept.values())
    assert sorted(index_cost.drop_triggers(copy)) == sorted(kept)
    with closing(sqlite3.connect(copy)) as connection:
        left = connection.execute("SELECT count(*) FROM sqlite_master WHERE type='trigger'")
        assert left.fetchone() == (0,)


async def test_create_sql_writes_a_book_as_the_api_creates_one(
    loaded: tuple[Path, DatasetInfo],
) -> None:
    path, _ = loaded
    creates = create_sql.Creates(path)
    creates.create(*creates.planned(7, tag_count=2))
    app = create_app(Settings(database_url=sqlite_url(path)))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            found = await client.get("/books", params={"search": "benchmark book 7"})
    assert found.status_code == 200, found.text
    [book] = found.json()["items"]
    assert book["title"] == "Benchmark Book 7"
    assert len(book["authors"]) == 1
    assert len(book["tags"]) == 2


def test_create_sql_times_both_revisions_in_every_round(tmp_path: Path) -> None:
    earlier = "b7e2d94c05a3"
    args = ["--against", earlier, "--scale", str(BOOKS), "--rounds", "2", "--creates", "3"]
    args += ["--work-dir", str(tmp_path), "--results-dir", str(tmp_path / "results")]
    assert create_sql.main(args) == 0
    assert revision_of(tmp_path / f"run-scale{BOOKS}-at-{earlier}.db") == earlier
    [written] = (tmp_path / "results").iterdir()
    times = json.loads(written.read_text())["cpu_ms_per_create"]
    assert set(times) == {schema_head(), earlier}
    for by_count in times.values():
        assert set(by_count) == {str(count) for count in create_sql.TAG_COUNTS}
        assert all(len(found) == 2 and min(found) > 0 for found in by_count.values())


def test_write_hold_stages_each_create_s_hold_of_the_writer(tmp_path: Path) -> None:
    args = ["--scale", str(BOOKS), "--rounds", "2", "--creates", "20"]
    args += ["--work-dir", str(tmp_path), "--results-dir", str(tmp_path / "results")]
    assert write_hold.main(args) == 0
    [written] = (tmp_path / "results").iterdir()
    rounds = json.loads(written.read_text())["rounds"]
    assert set(rounds) == {str(clients) for clients in write_hold.CLIENTS}
    for found in [figures for by_clients in rounds.values() for figures in by_clients]:
        assert 0 < found["held_share"] <= 1
        assert all(found[stage] >= 0 for stage in write_hold.STAGES)
        assert found["holds"] == 20  # each create's hold found, and nothing else
    # Every create counted: 2 rounds of 20 by each client count, all in the new books.
    with sqlite3.connect(tmp_path / f"run-scale{BOOKS}.db") as connection:
        made = connection.execute("SELECT count(*) FROM book WHERE title LIKE 'Benchmark Book %'")
        assert made.fetchone() == (2 * 20 * len(write_hold.CLIENTS),)


def test_metrics_cost_drives_both_sides_at_once_and_takes_the_median_of_the_rounds() -> None:
    # The machine's speed swings from round to round; within a round it is the same for both.
    speeds = iter([500.0, 300.0, 450.0, 350.0, 520.0])
    calls: list[dict[str, Workload]] = []

    def drive_both(fresh: dict[str, Workload]) -> dict[str, dict[str, Any]]:
        calls.append(fresh)
        speed = next(speeds)
        return {
            "on": {"rps": speed * 0.96, "server_cpu_ms": 2.06, "non_2xx": 0},
            "off": {"rps": speed, "server_cpu_ms": 2.0, "non_2xx": 1},
        }

    result = metrics_cost.measure(Workload("get book", ["/books/1"], 0.0), 5, drive_both)

    assert [list(fresh) for fresh in calls] == [["on", "off"], ["off", "on"]] * 2 + [["on", "off"]]
    isbns = [workload.isbn_base for fresh in calls for workload in fresh.values()]
    assert len(set(isbns)) == len(isbns)  # each run writes ISBNs of its own
    assert [r["cost"] for r in result["rounds"]] == [pytest.approx(0.04)] * 5
    assert result["median_cost"] == pytest.approx(0.04)
    assert result["pooled_cost"] == pytest.approx(0.04)
    assert result["median_cpu_cost"] == pytest.approx(0.03)
    assert result["non_2xx"] == 5
    line = metrics_cost.describe(result)
    assert "+4.0% of throughput" in line
    assert "CPU per request +3.0%" in line
    assert "control" not in line
    assert "get book: control (metrics off on both sides), cost +4.0%" in metrics_cost.describe(
        {**result, "control": True}
    )


async def test_metrics_cost_in_process_pairs_blocks_of_the_two_apps(
    loaded: tuple[Path, DatasetInfo],
) -> None:
    path, _ = loaded
    paths = [f"/books/{book}" for book in sample_ids(path, seed=1).books[:5]]
    result = await metrics_cost.in_process(sqlite_url(path), paths, blocks=3, per_block=4)
    assert len(result["costs"]) == 3
    assert result["cpu_ms"]["on"] > 0
    assert result["cpu_ms"]["off"] > 0
    line = metrics_cost.describe_in_process("get book", result)
    assert line.startswith("- get book, in process: metrics cost ")
    assert "3 paired blocks of 4 requests" in line
    with pytest.raises(httpx.HTTPStatusError):  # a request that fails is not priced
        await metrics_cost.in_process(sqlite_url(path), ["/books/nothing"], blocks=1, per_block=1)


def test_a_results_file_lists_the_first_statements_and_counts_them_all() -> None:
    statements = [f"SELECT {n}" for n in range(KEPT_STATEMENTS + 5)]
    listed_ = listed(statements)
    assert listed_["count"] == KEPT_STATEMENTS + 5
    assert listed_["sql"] == statements[:KEPT_STATEMENTS]
    assert listed_["sql_left_out"] == 5
    assert listed(["SELECT 1"]) == {"count": 1, "sql": ["SELECT 1"], "sql_left_out": 0}


def test_a_results_file_names_the_settings_the_environment_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("POOL_PRE_PING", "false")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://folio:secret@db/folio")
    monkeypatch.setenv("PGPASSWORD", "not a setting of Folio's")
    facts = machine(datetime.now(UTC))
    assert facts["folio_environment"] == {"POOL_PRE_PING": "false"}
    assert changed_settings(facts) == ", with POOL_PRE_PING=false"
    monkeypatch.delenv("POOL_PRE_PING")
    assert changed_settings(machine(datetime.now(UTC))) == ""


async def test_the_cpu_bench_times_every_workload_with_and_without_the_middlewares(
    loaded: tuple[Path, DatasetInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = loaded
    settings = cpu.timed_settings(path)
    for app, has_id in (
        (floor_app(settings), True),
        (cpu.without_middlewares(floor_app(settings)), False),
    ):
        async with app.router.lifespan_context(app):
            transport = ASGITransport(app=app)
            async with AsyncClient(transport=transport, base_url="http://t") as client:
                answer = await client.get("/books")
        assert answer.status_code == 200
        # The header of the outermost middleware.
        assert ("x-request-id" in answer.headers) == has_id

    monkeypatch.setattr(cpu, "REQUESTS_PER_ROUND", 20)
    figures = await cpu.measure(settings, sample_ids(path, seed=1).books, rounds=2)
    expected = [f"{name} (with)" for name in cpu.PATHS]
    expected += [f"{name} (without)" for name in cpu.WITHOUT_MIDDLEWARES]
    assert sorted(figures) == sorted(expected)
    assert all(len(spent) == 2 and min(spent) > 0 for spent in figures.values())


@pytest.mark.parametrize("against", list(compare.AGAINST))
async def test_the_other_apps_answer_as_folio_does(
    loaded: tuple[Path, DatasetInfo], against: str
) -> None:
    path, _ = loaded
    ids = sample_ids(path, seed=1)
    folio = create_app(
        Settings(database_url=sqlite_url(path), auth_mode="open", import_runner=False)
    )
    engine = create_async_engine(sqlite_url(path))
    try:
        async with (
            folio.router.lifespan_context(folio),
            AsyncClient(transport=ASGITransport(app=folio), base_url="http://f") as folio_client,
        ):
            with compare.other_app_on(against, engine) as other:
                transport = ASGITransport(app=other)
                async with AsyncClient(transport=transport, base_url="http://o") as client:
                    checked = await compare.parity({"folio": folio_client, against: client}, ids)
                    page = (await client.get("/books", params={"per_page": 100})).json()
    finally:
        await engine.dispose()
    assert checked["differences"] == {"list": [], "get": [], "create": []}
    assert checked["checked"] == {"list": 1, "get": compare.SAMPLE_BOOKS, "create": 2}
    # The page and the books held what the check is about: authors, tags, a total.
    assert page["meta"]["total"] == BOOKS + 2  # the two books the check created
    assert any(item["tags"] for item in page["items"])


def test_the_parity_check_names_each_place_the_answers_differ() -> None:
    ada, alan = {"id": "a", "name": "Ada"}, {"id": "b", "name": "Alan"}
    folio = {"authors": [ada, alan], "tags": ["x"], "year": 1999, "series_position": 1.0}
    plain = {"authors": [alan, ada], "tags": ["x", "y"], "series_position": 1, "extra": None}
    assert compare.differences(folio, plain) == [
        "authors[0].id",
        "authors[0].name",
        "authors[1].id",
        "authors[1].name",
        "tags (length 1 against 2)",
        "year",
        "series_position",  # 1.0 and 1 are different JSON
        "extra",
    ]
    assert compare.differences(folio, dict(folio)) == []


@pytest.mark.parametrize("against", list(compare.AGAINST))
def test_the_comparison_alternates_the_sides_and_takes_the_median_of_round_ratios(
    against: str,
) -> None:
    # The machine's speed swings from round to round; within a round it is the same for both.
    speeds = iter([400.0, 400.0, 100.0, 100.0, 300.0, 300.0])
    calls: list[tuple[str, Workload]] = []

    def drive(side: str, _url: str, workload: Workload) -> dict[str, Any]:
        calls.append((side, workload))
        speed = next(speeds) * (1.5 if side == "folio" else 1.0)
        latency = {"p50": 1000 / speed, "p99": 3000 / speed}
        return {"rps": speed, "latency_ms": latency, "non_2xx": 0, "server_cpu_ms": 2.0}

    create = Workload("create book", [], 1.0, connections=16, authors=["a"])
    rounds = compare.measure([create], 3, {"folio": "f", against: "p"}, drive)

    assert [side for side, _ in calls] == ["folio", against, against, "folio", "folio", against]
    isbns = [workload.isbn_base for _, workload in calls]
    assert len(set(isbns)) == len(isbns)  # each run writes ISBNs of its own
    figures = compare.summary(rounds)["create book"]
    assert figures["ratios"] == [1.5, 1.5, 1.5]
    assert figures["ratio"] == 1.5
    assert figures["folio"]["rps"] == 450.0  # the median round's
    assert figures[against]["rps"] == 300.0
    assert figures[against]["p50_ms"] == pytest.approx(1000 / 300, abs=0.001)
    compared = {
        "against": against,
        "http": "httptools",
        "workers": 1,
        "rounds": rounds,
        "workloads": {"create book": figures},
        "parity": {
            "checked": {"list": 1, "get": 20, "create": 2},
            "differences": {"list": [], "get": ["x: title"], "create": []},
        },
    }
    table = "\n".join(compare_table(compared, {"duration": 2.0}))
    assert f"| workload | Folio req/s | {against} req/s | Folio/{against} |" in table
    assert "| create book | 450.0 | 300.0 | 1.50× |" in table
    assert f"- create book: Folio/{against} by round 1.50×, 1.50×, 1.50×" in table
    equal = "Answers equal field by field: list (1), create (2); DIFFERENT: get at x: title."
    assert equal in table


class HttpStub:
    """An HTTP/1.1 server on a loopback port that answers every request with `{}` after
    `service_s`, one request at a time across all its connections, and notes when each came."""

    def __init__(self, service_s: float) -> None:
        self.service_s = service_s
        self.turn = asyncio.Lock()
        self.arrivals: list[float] = []
        self.connections = 0

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *_exc: object) -> None:
        self.server.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).lower()
                length = head.partition(b"content-length:")[2].split(b"\r\n")[0]
                await reader.readexactly(int(length or 0))
                self.arrivals.append(time.perf_counter())
                async with self.turn:
                    await asyncio.sleep(self.service_s)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


MIX = Workload("mix", ["/books/1", "/books/2"], 0.1, authors=["a"])


def test_open_loop_arrivals_come_at_the_rate_asked() -> None:
    sent = schedule(rate=200, seed=3, start=0.0, stop=100.0)
    assert len(sent) == pytest.approx(20_000, rel=0.03)
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    # Exponential gaps: their standard deviation is their mean.
    assert statistics.stdev(gaps) == pytest.approx(statistics.mean(gaps), rel=0.05)
    assert sent == schedule(rate=200, seed=3, start=0.0, stop=100.0)


async def test_the_open_loop_sends_on_schedule_to_a_server_that_keeps_up() -> None:
    stub = HttpStub(service_s=0.0)
    async with stub as url:
        spec = OpenSpec(LoadSpec(url, MIX, 1, duration=1.0, warmup=0.0, seed=5), rate=150)
        result = await OpenLoop(spec).run()
    expected = len(schedule(150, 5, 0.0, 1.0))
    assert result["scheduled"] == result["requests"] == len(stub.arrivals) == expected
    assert result["sent_rps"] == pytest.approx(150, rel=0.25)
    assert result["reads"] + result["writes"] == expected
    assert result["writes"] > 0
    assert result["non_2xx"] == result["unanswered"] == 0
    # Each request went out close to its time (a shared machine's event loop may lag a little).
    assert result["send_lag_ms"]["p90"] < 20
    assert result["latency_ms"]["p50"] < 20


async def test_the_open_loop_counts_the_wait_for_a_busy_server_from_the_schedule() -> None:
    # Capacity 25 a second, asked for 60: every request waits for those before it.
    stub = HttpStub(service_s=0.04)
    async with stub as url:
        load = LoadSpec(url, MIX, 1, duration=0.5, warmup=0.0, seed=5)
        result = await OpenLoop(OpenSpec(load, rate=60, max_connections=1)).run()
    assert result["scheduled"] == result["requests"] == len(schedule(60, 5, 0.0, 0.5))
    assert stub.connections == result["connections_opened"] == 1
    served = result["latency_from_send_ms"]
    waited = result["latency_ms"]
    # Measured from its answer's send, a request takes the server's 40 ms; from its schedule
    # it takes the queue before it too, as a client that sent at that time would see.
    assert served["p50"] == pytest.approx(40, abs=25)
    assert waited["p50"] > 3 * served["p50"]
    assert waited["max"] > 200
    assert result["send_lag_ms"]["max"] > 150
    assert waited["max"] >= result["send_lag_ms"]["max"] + served["p50"] * 0.5


def test_the_open_loop_mix_runs_after_the_closed_one_at_half_its_rate() -> None:
    workloads = app_workloads(Ids(["b"], ["a"], 1, ""))
    assert [w.name for w in selected(workloads, OPEN_MIXED)] == [MIXED, OPEN_MIXED]
    assert [w.name for w in selected(workloads, OPEN_MIXED, open_rate=50)] == [OPEN_MIXED]
    args = argparse.Namespace(open_rate=None)
    rows = [{"name": MIXED, "load": {"rps": 329.0}}]
    assert open_rate(args, rows) == 164.5
    assert open_rate(argparse.Namespace(open_rate=50.0), rows) == 50.0


def test_the_import_limit_writes_the_columns_the_search_index_reads(tmp_path: Path) -> None:
    # The limit's triggers must index the words an import's do, or the limit is too easy.
    path = imports.fresh_database(tmp_path, "limit")
    imports.executemany_limit(path, 40)
    with closing(sqlite3.connect(path)) as connection:
        books = connection.execute("SELECT title, title_search FROM book").fetchall()
        authors = connection.execute("SELECT name, name_search FROM author").fetchall()
        tags = connection.execute("SELECT name, name_search FROM tag").fetchall()
        fields = connection.execute(
            "SELECT DISTINCT kind, field FROM search_word WHERE kind = 0 ORDER BY field"
        ).fetchall()
    assert len(books) == 40
    for name, words in [*books, *authors, *tags]:
        assert words == search_text(name)
    # Titles, authors, tags and descriptions (bench.imports writes no series).
    assert fields == [(0, 0), (0, 1), (0, 3), (0, 4)]
