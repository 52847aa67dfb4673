"""The mark by which the error handler tells the retry middleware (app/edge/retry.py) that
PostgreSQL rolled the request's transaction back to let others go on."""

from dataclasses import dataclass

from starlette.requests import Request

# Where a request's scope carries the Rollback the error handler marks.
SCOPE_KEY = "folio.rollback"


@dataclass
class Rollback:
    """Whether PostgreSQL rolled the current run's transaction back to let others go on, and
    whether another run is left."""

    again: bool
    happened: bool = False


def mark_rolled_back(request: Request) -> bool:
    """Let the middleware run this request again instead of sending its 503; True if it will."""
    if (rollback := request.scope.get(SCOPE_KEY)) is None:
        return False
    rollback.happened = True
    return bool(rollback.again)
