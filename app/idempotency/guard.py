"""Idempotent retries of POST requests (`Idempotency-Key`).

The first request with a key runs normally and its answer is stored in the same
transaction as what it created. A retry with the same key and body gets that answer
again; a retry with another body is a 422. A request whose key another request is
still working on waits for it (at most IDEMPOTENCY_WAIT_SECONDS) and then replays its
answer, or gets a 409 if it is still in flight.
"""

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel

from app.errors import Conflict, Unprocessable
from app.idempotency.repository import IdempotencyRepository, IdempotencyRepositoryDep
from app.keys.guard import CallerDep
from app.models import IdempotencyKey, utcnow
from app.models.idempotency_key import ANONYMOUS

IN_FLIGHT = "A request with this Idempotency-Key is still in flight; retry later."


class InFlight:
    """The keys this process is working on right now."""

    def __init__(self) -> None:
        self.done: dict[str, asyncio.Event] = {}

    @asynccontextmanager
    async def hold(self, key: str, wait_seconds: float) -> AsyncIterator[None]:
        """Hold the key for the block, after waiting for whoever holds it now."""
        try:
            async with asyncio.timeout(wait_seconds):
                while (event := self.done.get(key)) is not None:
                    await event.wait()
        except TimeoutError:
            raise Conflict(IN_FLIGHT) from None
        self.done[key] = asyncio.Event()
        try:
            yield
        finally:
            self.done.pop(key).set()


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Identify a request by method, path and JSON body, however the body is spaced or ordered."""
    canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


class Idempotency:
    """One request's view of its key: replay a stored answer, or store the new one."""

    def __init__(
        self,
        repository: IdempotencyRepository,
        key: str | None = None,
        fingerprint: str = "",
        ttl: timedelta = timedelta(hours=24),
        owner: uuid.UUID = ANONYMOUS,
    ) -> None:
        self.repository = repository
        self.owner = owner
        self.key = key
        self.fingerprint = fingerprint
        self.ttl = ttl

    async def replay(self) -> Response | None:
        """The stored answer for this key, or None when the request should run."""
        if self.key is None:
            return None
        stored = await self.repository.find(self.owner, self.key)
        if stored is None:
            return None
        if stored.fingerprint != self.fingerprint:
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
        record = IdempotencyKey(
            api_key_id=self.owner,
            key=self.key,
            fingerprint=self.fingerprint,
            status=status,
            body=body.model_dump_json(),
            headers=json.dumps(dict(headers)),
            expires_at=utcnow() + self.ttl,
        )
        await self.repository.save(record)


async def idempotency(
    request: Request,
    repository: IdempotencyRepositoryDep,
    caller: CallerDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=r"^[\x21-\x7e]{1,255}$",
            description="1-255 visible ASCII characters; a retry with the same key and body "
            "replays the first answer instead of creating again.",
        ),
    ] = None,
) -> AsyncIterator[Idempotency]:
    """Hold the request's key, if it has one, from before its reads until after its writes."""
    if key is None:
        yield Idempotency(repository)
        return
    settings = request.app.state.settings
    in_flight: InFlight = request.app.state.in_flight
    # Keys belong to the API key that sent them: two clients' equal values never meet.
    owner = caller.api_key_id or ANONYMOUS
    held = f"{owner}:{key}"
    async with in_flight.hold(held, settings.idempotency_wait_seconds):
        if not await repository.lock(held, settings.idempotency_wait_seconds):
            raise Conflict(IN_FLIGHT)
        yield Idempotency(
            repository,
            key,
            fingerprint(request.method, request.url.path, await request.body()),
            timedelta(hours=settings.idempotency_ttl_hours),
            owner,
        )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency, scope="function")]
