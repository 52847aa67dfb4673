"""Put the edge middlewares in front of the app, outermost first: CORS, framing, the access
check, body size."""

from fastapi import FastAPI

from app.config import Settings
from app.db.engine import is_sqlite
from app.edge.body import BodyLimit
from app.edge.cors import Cors
from app.edge.framing import Framing
from app.edge.retry import RetryRolledBack
from app.keys.guard import AccessCheck

IMPORTS_PATH = "/imports"
# What a browser client may send and read beyond the CORS-safelisted headers.
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
CORS_RESPONSE_HEADERS = [
    "ETag",
    "Location",
    "Link",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Idempotent-Replayed",
    "X-Request-ID",
]


def cors_origins(settings: Settings) -> list[str]:
    """CORS_ORIGINS as a list: comma-separated, blanks ignored."""
    return [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]


def body_limits(settings: Settings) -> dict[str, int]:
    """The paths whose bodies have a limit of their own, and that limit in bytes; every other
    body has MAX_BODY_BYTES."""
    return {IMPORTS_PATH: settings.max_import_bytes}


def install_edge(app: FastAPI, settings: Settings) -> None:
    """Add the middlewares; Starlette runs the one added last first."""
    if not is_sqlite(settings.database_url):
        # SQLite's one writer never meets a deadlock; on PostgreSQL a write PostgreSQL rolled
        # back runs again. Added first, it runs last: the body it keeps has passed BodyLimit.
        app.add_middleware(RetryRolledBack, streamed=(IMPORTS_PATH,))
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, per_path=body_limits(settings))
    # Keys are checked before any of the body is read, so a client without one sends it in vain.
    app.add_middleware(AccessCheck)
    app.add_middleware(Framing)
    if origins := cors_origins(settings):
        app.add_middleware(
            Cors,
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_RESPONSE_HEADERS,
            max_age=600,
        )
