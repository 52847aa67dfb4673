"""What the application keeps while it runs, as one typed object on `app.state.folio`, and the
dependencies that hand its parts to a route.

Only the modules above the database read it: the engines, the start-up check and the limits
know nothing of requests.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from opentelemetry.trace import NoOpTracer, Tracer

from app.config import Settings
from app.db.checks import DatabaseWatch
from app.db.engine import Database
from app.idempotency.in_flight import InFlight
from app.keys.cache import KeyCache
from app.keys.limits import RateLimits


@dataclass
class State:
    """The settings, the database, the schema the code expects, the request limits, the keys in
    flight, the start-up check still running, the import runner to wake and the event
    streams' watcher."""

    settings: Settings
    database: Database
    schema_head: str
    rate_limits: RateLimits
    in_flight: InFlight = field(default_factory=InFlight)
    # Usable keys kept for a second, so that most requests send no key lookup.
    key_cache: KeyCache = field(default_factory=KeyCache)
    # What the start-up check still waits for, while the server runs.
    database_watch: DatabaseWatch | None = None
    # Wakes this process's import runner; None when IMPORT_RUNNER is off.
    wake_imports: Callable[[], None] | None = None
    # What the app traces itself (import batches); OpenTelemetry's no-op one unless traces
    # are exported.
    tracer: Tracer = field(default_factory=NoOpTracer)
    # What must stop before the database closes (the event streams' watcher, once made).
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


def state_of(app: FastAPI) -> State:
    """The application's state."""
    state: State = app.state.folio
    return state


def request_state(request: Request) -> State:
    """The state of the application serving the request."""
    return state_of(request.app)


# Async, so that FastAPI calls them on the event loop rather than in a worker thread.
async def request_settings(request: Request) -> Settings:
    return request_state(request).settings


async def request_database(request: Request) -> Database:
    return request_state(request).database


SettingsDep = Annotated[Settings, Depends(request_settings)]
DatabaseDep = Annotated[Database, Depends(request_database)]
