"""Idempotent retries of POST requests (`Idempotency-Key`).

The first request with a key runs normally and its answer is stored in the same
transaction as what it created. A retry with the same key and body gets that answer
again; a retry with another body is a 422. A request whose key another request is
still working on waits for it (at most IDEMPOTENCY_WAIT_SECONDS) and then replays its
answer, or gets a 409 if it is still in flight.
"""

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel

from app.idempotency.in_flight import IN_FLIGHT
from app.idempotency.repository import IdempotencyRepository, IdempotencyRepositoryDep
from app.keys.guard import CallerDep
from app.kit.errors import Conflict, Unprocessable
from app.models import IdempotencyKey, utcnow
from app.models.idempotency_key import ANONYMOUS
from app.state import request_state


class Shown(Protocol):
    """A created resource as its answer shows it."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def etag(self) -> str: ...


Created = TypeVar("Created", bound=Shown)


def body_fingerprint(request: Request, body: bytes) -> str:
    """Identify a JSON request by method, path and body, however the body is spaced or ordered."""
    canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


class Idempotency:
    """One request's view of its `Idempotency-Key`: replay a stored answer, or store the new one.

    The key is held from the first look at it until the request's dependencies end, so a
    request that reads its body first (an upload) holds nothing while the body arrives.
    """

    def __init__(
        self,
        request: Request,
        repository: IdempotencyRepository,
        response: Response,
        held: AsyncExitStack,
        key: str | None = None,
        owner: uuid.UUID = ANONYMOUS,
    ) -> None:
        self.request = request
        self.repository = repository
        self.response = response
        self.held = held
        self.key = key
        self.owner = owner
        self.fingerprint = ""
        self.holding = False

    async def create(
        self, make: Callable[[], Awaitable[Created]], collection: str, shown_as: type[BaseModel]
    ) -> Created | Response:
        """Create once per key: the stored answer for a retry, else what `make` creates, with
        its `Location` and `ETag`, stored as `shown_as` shows it."""
        if self.key is not None:
            fingerprint = body_fingerprint(self.request, await self.request.body())
            if (replay := await self.replay(fingerprint)) is not None:
                return replay
        created = await make()
        headers = {"Location": f"{collection}/{created.id}", "ETag": created.etag}
        if self.key is not None:
            await self.save(201, shown_as.model_validate(created, from_attributes=True), headers)
        self.response.headers.update(headers)
        return created

    async def replay(self, fingerprint: str) -> Response | None:
        """Hold the key; the stored answer for it, or None when the request should run.

        `fingerprint` identifies the request: the same key with another one is a 422.
        """
        if self.key is None:
            return None
        if not self.holding:
            await self.held.enter_async_context(
                holding(self.request, self.repository, self.owner, self.key)
            )
            self.holding = True
        self.fingerprint = fingerprint
        stored = await self.repository.find(self.owner, self.key)
        if stored is None:
            return None
        if stored.fingerprint != fingerprint:
            raise Unprocessable.at(
                ["header", "Idempotency-Key"],
                "This Idempotency-Key was used with a different request.",
                "idempotency_key_reused",
            )
        headers = {**json.loads(stored.headers), "Idempotent-Replayed": "true"}
        return Response(
            stored.body, status_code=stored.status, headers=headers, media_type="application/json"
        )

    async def save(self, status: int, body: BaseModel, headers: Mapping[str, str]) -> None:
        """Store the answer with the key, in the transaction that made it."""
        if self.key is None:
            return
        ttl = timedelta(hours=request_state(self.request).settings.idempotency_ttl_hours)
        record = IdempotencyKey(
            api_key_id=self.owner,
            key=self.key,
            fingerprint=self.fingerprint,
            status=status,
            body=body.model_dump_json(),
            headers=json.dumps(dict(headers)),
            expires_at=utcnow() + ttl,
        )
        await self.repository.save(record)


@asynccontextmanager
async def holding(
    request: Request, repository: IdempotencyRepository, owner: uuid.UUID, key: str
) -> AsyncIterator[None]:
    """Hold an API key's `Idempotency-Key` for the block, in this process and (on PostgreSQL)
    in every other; a 409 if it stays taken past IDEMPOTENCY_WAIT_SECONDS."""
    state = request_state(request)
    wait = state.settings.idempotency_wait_seconds
    held = f"{owner}:{key}"
    async with state.in_flight.hold(held, wait):
        if not await repository.lock(held, wait):
            raise Conflict(IN_FLIGHT)
        yield


async def idempotency(
    request: Request,
    response: Response,
    repository: IdempotencyRepositoryDep,
    caller: CallerDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            pattern=r"^[\x21-\x7e]{1,255}$",
            description="1-255 visible ASCII characters; a retry with the same key and request "
            "replays the first answer instead of doing the work again.",
        ),
    ] = None,
) -> AsyncIterator[Idempotency]:
    """The request's `Idempotency-Key`, held from its first use until after the request's
    writes; keys belong to the API key that sent them, so two clients' values never meet."""
    async with AsyncExitStack() as held:
        yield Idempotency(request, repository, response, held, key, caller.api_key_id or ANONYMOUS)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency, scope="function")]
