from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from app.errors import Unavailable, problem_responses
from app.health.repository import HealthRepositoryDep
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
    """Answer 200 when the database answers and its schema is at the newest migration."""
    expected = request_state(request).schema_head
    try:
        revision = await health.schema_revision()
    except DBAPIError as exc:
        if "alembic_version" in str(exc.orig):
            raise Unavailable("The database has no schema yet; run the migrations.") from exc
        raise Unavailable("The database does not answer.") from exc
    if revision != expected:
        raise Unavailable(f"The database schema is at {revision}, not at {expected}; migrate.")
    return Health()
