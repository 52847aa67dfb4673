"""Traces: a span per request named by its route, child spans per SQL statement and per
import batch; nothing at all unless an exporter is configured."""

from collections.abc import Callable

import pytest
from httpx import ASGITransport, AsyncClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracer

from app import main
from app.config import Settings
from app.imports.runner import ImportRunner
from app.main import create_app
from app.observe import tracing
from app.state import state_of
from tests.helpers.access import bearer, key_or_unchecked
from tests.helpers.imports import ndjson


async def test_requests_statements_and_import_batches_are_traced(
    fresh_database: Callable[[], Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(main, "span_exporter", lambda _settings: exporter)
    settings = fresh_database().model_copy(
        update={"otel_exporter_otlp_endpoint": "http://collector.invalid", "import_runner": False}
    )
    app = create_app(settings)
    state = state_of(app)
    async with app.router.lifespan_context(app):
        headers = bearer(await key_or_unchecked(state.database))
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            author = (await client.post("/authors", json={"name": "Traced"})).json()
            book = await client.post("/books", json={"title": "T", "author_id": author["id"]})
            assert (await client.get(f"/books/{book.json()['id']}")).status_code == 200
            upload = await client.post(
                "/imports",
                content=ndjson({"title": "Imported", "author": "Traced"}),
                headers={"Content-Type": "application/x-ndjson"},
            )
            assert upload.status_code == 202
            runner = ImportRunner(state.database, settings, tracer=state.tracer)
            assert await runner.run_next() is not None
        app.state.tracer_provider.force_flush()

    spans = exporter.get_finished_spans()
    by_name = {span.name: span for span in spans}
    get = by_name["GET /books/{book_id}"]
    assert get.attributes is not None
    assert get.attributes["http.route"] == "/books/{book_id}"
    statements = [
        span for span in spans if span.parent and span.parent.span_id == get.context.span_id
    ]
    assert any(span.name.startswith("SELECT") for span in statements), [s.name for s in spans]
    assert "POST /books" in by_name
    # The batch of the file's one row, then the import's end, with no rows.
    batches = [span for span in spans if span.name == "import batch"]
    assert [span.attributes and span.attributes["folio.import.rows"] for span in batches] == [1, 0]
    batch = batches[0]
    inside_batch = [s for s in spans if s.parent and s.parent.span_id == batch.context.span_id]
    assert any(span.name.startswith("INSERT") for span in inside_batch), [s.name for s in spans]


def test_without_an_endpoint_nothing_is_instrumented(
    fresh_database: Callable[[], Settings],
) -> None:
    app = create_app(fresh_database())
    assert isinstance(state_of(app).tracer, NoOpTracer)
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    assert not hasattr(app.state, "tracer_provider")
    assert tracing.span_exporter(Settings()) is None
