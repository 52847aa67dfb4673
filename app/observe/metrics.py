"""Prometheus metrics: requests, the database pools, slow statements and imports; `GET /metrics`.

The metrics live in prometheus-client's default registry. With several worker processes, set
`PROMETHEUS_MULTIPROC_DIR` to an empty directory before the server starts: every process then
writes its values there and a scrape of any worker reads all of them (the client's multiprocess
mode); without it, each process reports its own.
"""

import os
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
# From half a millisecond (a get in process) to the pool's 30 s time-out.
WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter(
    "folio_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "folio_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method, route and status.",
    ["method", "route", "status"],
)
POOL_SIZE = Gauge(
    "folio_db_pool_size",
    "Connections each database pool keeps (reader and writer on SQLite, shared on PostgreSQL).",
    ["pool"],
    multiprocess_mode="livesum",
)
CHECKED_OUT = Gauge(
    "folio_db_connections_checked_out",
    "Connections of each pool in use right now.",
    ["pool"],
    multiprocess_mode="livesum",
)
CONNECTION_WAIT = Histogram(
    "folio_db_connection_wait_seconds",
    "Time from asking a pool for a connection to holding one (SQLite's writes queue here).",
    ["pool"],
    buckets=WAIT_BUCKETS,
)
SLOW_STATEMENTS = Counter(
    "folio_db_slow_statements",
    "Statements that ran longer than SLOW_QUERY_MS.",
    ["pool"],
)
IMPORTS = Gauge(
    "folio_imports",
    "Imports by status, read from the database at each scrape.",
    ["status"],
    multiprocess_mode="mostrecent",
)

# Refreshers of values read at scrape time, such as IMPORTS from the imports table.
ScrapeHook = Callable[[Request], Awaitable[None]]
scrape_hooks: list[ScrapeHook] = []


def on_scrape(hook: ScrapeHook) -> ScrapeHook:
    """Run `hook` before each scrape; it sets gauges such as `IMPORTS` from the database."""
    scrape_hooks.append(hook)
    return hook


class RequestMetrics:
    """Counts answered requests; keeps each label set's series so a request costs no lookup."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # Any method a client invents is one label, and one entry here.
        key = (method if method in METHODS else "other", route, status)
        series = self.series.get(key)
        if series is None:
            labels = (key[0], route, str(status))
            series = (REQUESTS.labels(*labels), REQUEST_SECONDS.labels(*labels))
            self.series[key] = series
        series[0].inc()
        series[1].observe(seconds)


def scrape_registry() -> CollectorRegistry:
    """Every process's values in multiprocess mode, else this process's registry."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Serve every metric in Prometheus's text format."""
    for hook in scrape_hooks:
        await hook(request)
    return Response(generate_latest(scrape_registry()), media_type=CONTENT_TYPE_LATEST)
