from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.db.faults import NO_SCHEMA, UNREACHABLE, causes, classify, driver_message, storage_fault
from app.health.repository import HealthRepositoryDep
from app.kit.errors import Unavailable, problem_responses
from app.state import request_state

router = APIRouter(prefix="/health", tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/live")
async def live() -> Health:
    """Answer while the process runs."""
    return Health()


@router.get("/ready", responses={503: problem_responses()[503]})
async def ready(health: HealthRepositoryDep, request: Request) -> Health:
    """Answer 200 when the database answers, takes writes and is at the newest migration."""
    state = request_state(request)
    expected = state.schema_head
    # A SQLite file's own filesystem first: reads may still work where no write can.
    url = make_url(state.settings.database_url)
    if url.get_backend_name() == "sqlite" and (storage := storage_fault(url.database)):
        causes.report(storage.name, f"{url.database}")
        raise Unavailable(storage.detail)
    try:
        revision = await health.schema_revision()
    except (DBAPIError, OSError, PoolTimeoutError) as exc:
        fault = classify(exc) or UNREACHABLE
        causes.report(fault.name, driver_message(exc), exc)
        if fault is NO_SCHEMA:
            raise Unavailable("The database has no schema yet; run the migrations.") from exc
        raise Unavailable(fault.detail) from exc
    if revision != expected:
        causes.report("schema", f"at {revision}, not at {expected}")
        raise Unavailable(f"The database schema is at {revision}, not at {expected}; migrate.")
    # What the start-up check still waits for, such as a lock that reads do not meet.
    watch = state.database_watch
    if watch is not None and watch.waiting_for is not None:
        raise Unavailable(watch.detail())
    causes.clear()
    return Health()
