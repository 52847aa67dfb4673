"""OpenTelemetry traces: a span per request (named by its route template), a child span per SQL
statement and one per import batch, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT
is set.

Without the setting nothing is instrumented: no middleware, no statement listener, and the
import runner's tracer is OpenTelemetry's no-op one. The instrumentation is the official
packages': FastAPI's for requests, SQLAlchemy's engine tracer for statements (on the app's own
engines only, rather than by patching `create_engine` for the whole process).
"""

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import NoOpTracer, Tracer

from app.config import Settings
from app.db.engine import Database

SERVICE_NAME = "folio"
# The OTLP/HTTP path for traces, which the exporter adds only to an endpoint it read itself.
TRACES_PATH = "/v1/traces"


def span_exporter(settings: Settings) -> SpanExporter | None:
    """Where spans go: the OTLP collector OTEL_EXPORTER_OTLP_ENDPOINT names; None without one."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    # Imported here: a server without tracing loads none of the exporter's protobuf code.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint.rstrip("/") + TRACES_PATH)


def install_tracing(app: FastAPI, database: Database, exporter: SpanExporter | None) -> Tracer:
    """Trace the app's requests and the database's statements into `exporter`; return the
    tracer for what the app traces itself (import batches), a no-op one without an exporter.

    Call it after every middleware is added: the request span then covers them all.
    """
    if exporter is None:
        return NoOpTracer()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    tracer = provider.get_tracer(__name__)
    # Counted in the metrics of app/observe/database.py already, not again here.
    connections = NoOpMeterProvider().get_meter(__name__).create_up_down_counter("unused")
    engines = {database.read_engine, database.write_engine}
    for engine in engines:
        EngineTracer(tracer, engine.sync_engine, connections)  # type: ignore[no-untyped-call]
    app.state.tracer_provider = provider
    return tracer
