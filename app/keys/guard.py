"""The access check every route passes through, as an app-level dependency, so a route
added later cannot forget it.

The scope a request needs follows from its method and path alone: key management needs
`admin`, every other method that changes data `write`, reads nothing (or `read` with
READS_REQUIRE_KEY). A key that is sent is checked even where none is needed. The key is
looked up on every request, so a revocation holds at once in every process.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import Settings
from app.db import SAFE_METHODS, Database
from app.errors import Forbidden, TooManyRequests, Unauthorized
from app.keys.limits import RateLimits
from app.keys.repository import LAST_USED_PRECISION, ApiKeyRepository, ApiKeyRepositoryDep
from app.keys.scopes import Scope, grants
from app.keys.secrets import well_formed
from app.models import ApiKey, utcnow

logger = logging.getLogger(__name__)

# Never need a key and are never rate-limited: probes, scrapers and the documentation.
EXEMPT_PATHS = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json")
KEY_MANAGEMENT_PATH = "/api-keys"
NOT_AUTHENTICATED = "A valid API key is needed: send `Authorization: Bearer <key>`."
CHALLENGE = {"WWW-Authenticate": "Bearer"}

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key, `Authorization: Bearer folio_...`. Changing data needs `write`, "
    "managing keys `admin`; reads need none unless the server requires `read`.",
)


@dataclass(frozen=True)
class Caller:
    """Who sent a request: an API key and its scope, or nobody (`api_key_id` None)."""

    api_key_id: uuid.UUID | None = None
    scope: str | None = None


def needed_scope(method: str, path: str, settings: Settings) -> Scope | None:
    """The scope a request needs in `keys` mode, from its method and path."""
    if path == KEY_MANAGEMENT_PATH or path.startswith(KEY_MANAGEMENT_PATH + "/"):
        return "admin"
    if method not in SAFE_METHODS:
        return "write"
    return "read" if settings.reads_require_key else None


def client_address(request: Request) -> str:
    """The client's address (the proxy's forwarded one when uvicorn trusts the proxy)."""
    return request.client.host if request.client is not None else "unknown"


def bearer_token(header: str) -> str | None:
    """The key in an `Authorization: Bearer <key>` header, if it is shaped like one of ours."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not well_formed(token):
        return None
    return token


async def record_use(database: Database, key_id: uuid.UUID, now: datetime) -> None:
    """Store when a key was last used, after the response, in a transaction of its own."""
    try:
        async with database.writes() as session, session.begin():
            await ApiKeyRepository(session).mark_used(key_id, now)
    except Exception:
        # A use that goes unrecorded now is recorded by the key's next request.
        logger.warning("could not record the use of API key %s", key_id, exc_info=True)


async def find_key(request: Request, keys: ApiKeyRepository) -> ApiKey | None:
    """The usable key the request sent, or None if it sent none that is usable."""
    token = bearer_token(request.headers["authorization"])
    return None if token is None else await keys.usable(token)


async def authenticate(
    request: Request,
    response: Response,
    background_tasks: BackgroundTasks,
    keys: ApiKeyRepositoryDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Caller:
    """Decide who is calling, refuse what they may not do, and count them against the limits."""
    path = request.url.path
    if path.startswith(EXEMPT_PATHS):
        return Caller()
    settings: Settings = request.app.state.settings
    limits: RateLimits = request.app.state.rate_limits
    address = client_address(request)
    caller = Caller()
    if settings.auth_mode == "keys":
        if (refused := limits.failures_exhausted(address)) is not None:
            raise TooManyRequests(
                "Too many failed authentications from this address.", headers=refused.headers()
            )
        needed = needed_scope(request.method, path, settings)
        if "authorization" in request.headers:
            api_key = await find_key(request, keys)
            if api_key is None:
                limits.record_failure(address)
                raise Unauthorized(NOT_AUTHENTICATED, headers=CHALLENGE)
            caller = Caller(api_key.id, api_key.scope)
            now = utcnow()
            if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_PRECISION:
                background_tasks.add_task(record_use, request.app.state.database, api_key.id, now)
        if needed is not None:
            if caller.scope is None:
                raise Unauthorized(NOT_AUTHENTICATED, headers=CHALLENGE)
            if not grants(caller.scope, needed):
                raise Forbidden(f"This request needs an API key with the `{needed}` scope.")
    client = f"key:{caller.api_key_id}" if caller.api_key_id else f"address:{address}"
    if (verdict := limits.take_request(client)) is not None:
        if not verdict.allowed:
            raise TooManyRequests("Too many requests; slow down.", headers=verdict.headers())
        response.headers.update(verdict.headers())
    return caller


CallerDep = Annotated[Caller, Depends(authenticate)]
