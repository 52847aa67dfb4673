"""GET /metrics: requests by route template, the pools, waits, imports; off when disabled."""

import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlmodel import select

from app.config import Settings
from app.db.engine import create_engine, is_sqlite
from app.main import create_app
from app.models import Author
from app.observe.metrics import RequestMetrics
from tests.helpers.server import running_server
from tests.helpers.serving import serving

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: AsyncClient) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return parse(answer.text)


async def test_requests_are_counted_by_route_template_and_status(client: AsyncClient) -> None:
    created = await client.post("/authors", json={"name": "Italo Calvino"})
    author = created.json()["id"]
    before = await scrape(client)

    await client.get(f"/authors/{author}")
    await client.get(f"/authors/{author}")
    await client.get(f"/books/{uuid.uuid4()}")
    await client.get(f"/no/such/{uuid.uuid4()}")
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "GET", "route": "/authors/{author_id}", "status": "200"}
    assert grew("folio_http_requests_total", **route) == 2
    assert grew("folio_http_request_duration_seconds_count", **route) == 2
    assert grew("folio_http_request_duration_seconds_bucket", **route, le="+Inf") == 2
    missing = {"method": "GET", "route": "/books/{book_id}", "status": "404"}
    assert grew("folio_http_requests_total", **missing) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert grew("folio_http_requests_total", **unmatched) == 1
    routes = {dict(labels).get("route") for _, labels in after}
    assert author not in " ".join(str(route) for route in routes)
    assert not any(str(route).startswith("/no/") for route in routes)


async def test_an_unknown_method_is_one_label(client: AsyncClient) -> None:
    before = await scrape(client)

    await client.request("BREW", "/books")
    after = await scrape(client)

    labels = {"method": "other", "route": "/books", "status": "405"}
    assert (
        value(after, "folio_http_requests_total", **labels)
        - value(before, "folio_http_requests_total", **labels)
        == 1
    )


def test_invented_methods_keep_one_series() -> None:
    metrics = RequestMetrics()

    for number in range(50):
        metrics.observe(f"INVENTED{number}", "/books", 405, 0.001)

    assert list(metrics.series) == [("other", "/books", 405)]


async def test_metrics_are_not_in_the_openapi_document(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    assert "/metrics" not in document["paths"]


async def test_pool_use_and_waits_are_measured(fresh_database: Callable[[], Settings]) -> None:
    settings = fresh_database()
    pool = "reader" if is_sqlite(settings.database_url) else "shared"
    async with serving(settings) as (client, database):
        before = await scrape(client)
        await client.get("/authors")
        async with database.reads() as session:
            await session.exec(select(Author.id))
            during = await scrape(client)
        after = await scrape(client)

    assert value(after, "folio_db_pool_size", pool=pool) >= settings.pool_size
    checked_out = "folio_db_connections_checked_out"
    assert value(during, checked_out, pool=pool) == value(after, checked_out, pool=pool) + 1
    waits = "folio_db_connection_wait_seconds_count"
    assert value(after, waits, pool=pool) >= value(before, waits, pool=pool) + 2


async def test_imports_by_status_are_read_from_the_database(client: AsyncClient) -> None:
    before = await scrape(client)
    assert value(before, "folio_imports", status="queued") == 0
    for _ in range(2):
        upload = await client.post(
            "/imports", content=b"title,author\nA,B\n", headers={"Content-Type": "text/csv"}
        )
        assert upload.status_code == 202, upload.text
    after = await scrape(client)
    # No runner serves this test's app, so both wait in the queue.
    assert value(after, "folio_imports", status="queued") == 2
    assert value(after, "folio_imports", status="succeeded") == 0


async def test_metrics_can_be_switched_off(fresh_database: Callable[[], Settings]) -> None:
    settings = fresh_database().model_copy(update={"metrics_enabled": False})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get("/metrics")
            live = await client.get("/health/live", headers={"X-Request-ID": "still-here"})

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert live.headers["x-request-id"] == "still-here"
    engine = create_engine(settings)
    assert type(engine.pool) is AsyncAdaptedQueuePool
    await engine.dispose()


async def test_a_disabled_app_counts_nothing(
    fresh_database: Callable[[], Settings], client: AsyncClient
) -> None:
    settings = fresh_database().model_copy(update={"metrics_enabled": False})
    labels = {"method": "GET", "route": "/health/live", "status": "200"}
    before = value(await scrape(client), "folio_http_requests_total", **labels)

    async with serving(settings) as (quiet, _database):
        for _ in range(3):
            await quiet.get("/health/live")

    assert value(await scrape(client), "folio_http_requests_total", **labels) == before


def test_several_workers_report_every_request(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {"WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    settings = fresh_database()
    with running_server(settings.database_url, tmp_path / "server.log", **env) as server:
        # A connection each, so the kernel spreads them over both workers.
        for _ in range(40):
            httpx.get(f"{server.url}/health/live")
        scrapes = [parse(httpx.get(f"{server.url}/metrics").text) for _ in range(6)]
        server.terminate()

    # Whichever worker answered a scrape, it reports the requests both of them served.
    labels = {"method": "GET", "route": "/health/live", "status": "200"}
    assert {value(samples, "folio_http_requests_total", **labels) for samples in scrapes} == {40}
    # Both workers keep their values in the directory (each set its pool size at start).
    assert len(list(directory.glob("gauge_livesum_*.db"))) == 2


async def test_requests_no_route_served_are_labelled_by_the_route_they_name(
    fresh_database: Callable[[], Settings],
) -> None:
    """A HEAD, a request refused before routing, a CORS preflight and a method a path lacks
    carry their route's template, not `unmatched`."""
    settings = fresh_database().model_copy(update={"cors_origins": "https://app.example"})
    async with serving(settings) as (client, _database):
        author = (await client.post("/authors", json={"name": "Labelled"})).json()["id"]
        before = await scrape(client)
        await client.head(f"/authors/{author}")
        await client.post("/authors", json={"name": "No key"}, headers={"Authorization": ""})
        preflight = {
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
        }
        await client.options("/books", headers=preflight)
        await client.put(f"/authors/{author}", json={})
        after = await scrape(client)

    def grew(**labels: str) -> float:
        name = "folio_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(method="HEAD", route="/authors/{author_id}", status="200") == 1
    assert grew(method="POST", route="/authors", status="401") == 1
    assert grew(method="OPTIONS", route="/books", status="200") == 1
    assert grew(method="PUT", route="/authors/{author_id}", status="405") == 1
    assert grew(method="HEAD", route="unmatched", status="200") == 0
