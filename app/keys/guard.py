"""The access check every request passes through before it reaches a route.

It runs as a pure ASGI middleware, so it decides before anything else looks at a request:
a client without a usable key is refused before its body is read or parsed. The scope a
request needs follows from its method and path alone: key management needs `admin`, every
other method that changes data `write`, reads nothing (or `read` with READS_REQUIRE_KEY). A
key that is sent is checked even where none is needed. A key found usable is kept in the
process for a second (app/keys/cache.py), so a revocation holds at once in the process that
answers it and within a second in every other.
"""

import logging
import uuid
from dataclasses import dataclass
from typing import Annotated, NamedTuple

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from app.config import Settings
from app.db.session import SAFE_METHODS
from app.keys.cache import UsableKey
from app.keys.limits import Verdict
from app.keys.repository import LAST_USED_PRECISION, ApiKeyRepository
from app.keys.scopes import Scope as KeyScope
from app.keys.scopes import grants
from app.keys.secrets import hash_key, well_formed
from app.kit.errors import (
    FolioError,
    Forbidden,
    TooManyRequests,
    Unauthorized,
    on_database_error,
    on_folio_error,
)
from app.kit.middleware import HttpMiddleware
from app.models import utcnow
from app.state import State, request_state

logger = logging.getLogger(__name__)

# Never need a key and are never rate-limited: probes, scrapers and the documentation.
EXEMPT_PATHS = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json")
KEY_MANAGEMENT_PATH = "/api-keys"
NOT_AUTHENTICATED = "A valid API key is needed: send `Authorization: Bearer <key>`."
CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Caller:
    """Who sent a request: an API key and its scope, or nobody (`api_key_id` None)."""

    api_key_id: uuid.UUID | None = None
    scope: str | None = None


def needed_scope(method: str, path: str, settings: Settings) -> KeyScope | None:
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


class Presented(NamedTuple):
    """A usable key a request sent, and the hash it is known by."""

    secret_hash: str
    key: UsableKey


async def find_key(state: State, header: str) -> Presented | None:
    """The hash and usable key a header names, or None: from the process's cache when it was
    found a moment ago, else from the database; a malformed one costs no lookup at all."""
    token = bearer_token(header)
    if token is None:
        return None
    secret_hash = hash_key(token)
    if (cached := state.key_cache.get(secret_hash)) is not None:
        return Presented(secret_hash, cached)
    async with state.database.reads() as session, session.begin():
        found = await ApiKeyRepository(session).usable(secret_hash)
    if found is None:
        return None
    state.key_cache.put(secret_hash, found)
    return Presented(secret_hash, found)


async def record_use(state: State, presented: Presented) -> None:
    """Store when a key was last used, unless a use within the last minute is stored."""
    secret_hash, api_key = presented
    now = utcnow()
    if api_key.last_used_at is not None and api_key.last_used_at >= now - LAST_USED_PRECISION:
        return
    try:
        async with state.database.writes() as session, session.begin():
            await ApiKeyRepository(session).mark_used(api_key.id, now)
    except Exception:
        # A use that goes unrecorded now is recorded by the key's next request.
        logger.warning("could not record the use of API key %s", api_key.id, exc_info=True)
        return
    state.key_cache.used(secret_hash, now)


async def check(request: Request) -> tuple[Caller, Presented | None, Verdict | None]:
    """Decide who is calling, count the request against their limit, then refuse what they may
    not do.

    Every request counts, refused or not: against its key's limit when it sends a usable key,
    else against its address's. So a client past its limit gets 429s whatever else is wrong
    with its requests, and a client without a key cannot send without limit by being refused.
    """
    state = request_state(request)
    settings = state.settings
    limits = state.rate_limits
    address = client_address(request)
    checking = settings.auth_mode == "keys"
    if checking and (refused := limits.failures_exhausted(address)) is not None:
        raise TooManyRequests(
            "Too many failed authentications from this address.", headers=refused.headers()
        )
    sent = request.headers.get("authorization") if checking else None
    presented = None if sent is None else await find_key(state, sent)
    caller = Caller() if presented is None else Caller(presented.key.id, presented.key.scope)
    client = f"key:{caller.api_key_id}" if caller.api_key_id else f"address:{address}"
    verdict = limits.take_request(client)
    shown = {} if verdict is None else verdict.headers()
    if verdict is not None and not verdict.allowed:
        raise TooManyRequests("Too many requests; slow down.", headers=shown)
    if not checking:
        return caller, presented, verdict
    if sent is not None and presented is None:
        limits.record_failure(address)
        raise Unauthorized(NOT_AUTHENTICATED, headers={**CHALLENGE, **shown})
    needed = needed_scope(request.method, request.url.path, settings)
    if needed is not None and caller.scope is None:
        raise Unauthorized(NOT_AUTHENTICATED, headers={**CHALLENGE, **shown})
    if needed is not None and caller.scope is not None and not grants(caller.scope, needed):
        raise Forbidden(f"This request needs an API key with the `{needed}` scope.", headers=shown)
    return caller, presented, verdict


class AccessCheck(HttpMiddleware):
    """Run `check` on every request but the exempt ones, before the app sees it."""

    def handles(self, scope: Scope) -> bool:
        return not scope["path"].startswith(EXEMPT_PATHS)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        try:
            caller, presented, verdict = await check(request)
        except FolioError as exc:
            await (await on_folio_error(request, exc))(scope, receive, send)
            return
        except (DBAPIError, PoolTimeoutError, OSError) as exc:
            await (await on_database_error(request, exc))(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start" and verdict is not None:
                MutableHeaders(scope=message).update(verdict.headers())
            await send(message)

        await self.app(scope, receive, send_with_limits)
        if presented is not None:
            # After the answer has gone out: the client does not wait for the bookkeeping.
            await record_use(request_state(request), presented)


async def authenticate(request: Request) -> Caller:
    """The caller `AccessCheck` found (what the OpenAPI document says of it is in
    app/keys/openapi.py)."""
    caller = getattr(request.state, "caller", None)
    return caller if isinstance(caller, Caller) else Caller()


CallerDep = Annotated[Caller, Depends(authenticate)]
