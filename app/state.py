"""What the application keeps while it runs, as one typed object on `app.state.folio`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request

from app.config import Settings
from app.idempotency.in_flight import InFlight

if TYPE_CHECKING:
    # app.db reads the state to open each request's session.
    from app.checks import DatabaseWatch
    from app.db import Database
    from app.imports.runner import ImportRunner
    from app.keys.limits import RateLimits


@dataclass
class State:
    """The settings, the database, the schema the code expects, the keys in flight and the
    start-up check still running."""

    settings: Settings
    database: Database
    schema_head: str
    rate_limits: RateLimits
    in_flight: InFlight = field(default_factory=InFlight)
    # What the start-up check still waits for, while the server runs.
    database_watch: DatabaseWatch | None = None
    # The imports this process runs, unless IMPORT_RUNNER is off.
    import_runner: ImportRunner | None = None


def state_of(app: FastAPI) -> State:
    """The application's state."""
    state: State = app.state.folio
    return state


def request_state(request: Request) -> State:
    """The state of the application serving the request."""
    return state_of(request.app)
