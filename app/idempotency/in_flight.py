"""The `Idempotency-Key`s this process is working on right now."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.kit.errors import Conflict

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
