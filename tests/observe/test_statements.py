"""SLOW_QUERY_MS: statements slower than it are logged with their SQL, never their parameters."""

import logging
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from app.config import Settings
from app.observe.logs import RequestIdFilter
from tests.helpers.serving import serving


def slow_statements_counted() -> float:
    """The slow-statement counter, summed over the pools."""
    counts = (
        REGISTRY.get_sample_value("folio_db_slow_statements_total", {"pool": pool})
        for pool in ("reader", "writer", "shared")
    )
    return sum(count or 0.0 for count in counts)


def slow_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "app.statements"]


async def test_a_slow_statement_is_logged_with_its_sql_and_request_id(
    fresh_database: Callable[[], Settings], caplog: pytest.LogCaptureFixture
) -> None:
    # Any statement takes longer than a microsecond.
    settings = fresh_database().model_copy(update={"slow_query_ms": 0.001})
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="app.statements"):
        async with serving(settings) as (client, _database):
            before = slow_statements_counted()
            answer = await client.get(
                "/authors?q=needle-in-a-query", headers={"X-Request-ID": "slow-1"}
            )
            after = slow_statements_counted()

    assert answer.status_code == 200
    lines = slow_lines(caplog)
    search = [line for line in lines if "FROM author" in line.getMessage()]
    assert search, caplog.text
    message = search[0].getMessage()
    # The `q` filter is there (a LIKE, or SQLite's trigram GLOB), its value is not.
    assert "LIKE" in message or "GLOB" in message
    assert "\n" not in message
    assert search[0].duration_ms > 0  # type: ignore[attr-defined]
    assert search[0].request_id == "slow-1"  # type: ignore[attr-defined]
    assert "needle" not in caplog.text
    assert after - before >= len(search)


@pytest.mark.parametrize("threshold", [0, 60_000])
async def test_statements_under_the_threshold_or_with_it_off_are_not_logged(
    fresh_database: Callable[[], Settings], caplog: pytest.LogCaptureFixture, threshold: float
) -> None:
    settings = fresh_database().model_copy(update={"slow_query_ms": threshold})
    with caplog.at_level(logging.DEBUG, logger="app.statements"):
        async with serving(settings) as (client, _database):
            answer = await client.get("/authors?q=anything")

    assert answer.status_code == 200
    assert slow_lines(caplog) == []
