"""Long loops that share the event loop: every few milliseconds of work, a turn for the rest.

A worker thread would not do as well: Python code in a thread competes with the loop for the
GIL, and the loop waits its turn for it again at every await.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

T = TypeVar("T")
# How long a loop may hold the event loop before it lets it serve others.
SLICE_SECONDS = 0.002


async def taking_turns(items: Iterable[T]) -> AsyncIterator[T]:
    """Each item in turn; whenever the work done on those so far passes SLICE_SECONDS, the
    event loop serves whatever else is waiting before the next one."""
    deadline = time.perf_counter() + SLICE_SECONDS
    for item in items:
        yield item
        if time.perf_counter() >= deadline:
            await asyncio.sleep(0)
            deadline = time.perf_counter() + SLICE_SECONDS
