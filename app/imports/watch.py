"""One watcher per process for every open event stream: it looks at the event table twice a
second, in one statement for all the imports being followed, reads the new events of an
import once, and hands them to each stream that follows it.

So the database work of the streams does not grow with their number, only with the imports
that have news; an idle stream costs no statement at all. The watcher runs while any stream
is open, and reads through the database, so it sees events written by any process.

The streams are capped, per client address and in all: each holds a connection open for as
long as its import runs.
"""

import asyncio
import logging
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field

from app.config import Settings
from app.db.engine import Database
from app.db.faults import classify, report
from app.imports.repository import ImportRepository
from app.kit.errors import TooManyRequests, Unavailable
from app.models import ImportEvent

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
# Events read per import and look; a stream far behind catches up over several looks.
EVENTS_PER_LOOK = 100
RETRY_SECONDS = "5"


@dataclass(eq=False)
class Follower:
    """One stream's place in its import's events, and what the watcher found for it."""

    import_id: uuid.UUID
    address: str
    after: int
    found: list[ImportEvent] = field(default_factory=list)
    news: asyncio.Event = field(default_factory=asyncio.Event)

    def hand(self, events: list[ImportEvent]) -> None:
        """Keep the events this stream has not had yet, and wake it."""
        fresh = [item for item in events if item.id is not None and item.id > self.after]
        if fresh:
            self.found.extend(fresh)
            self.after = max(item.id for item in fresh if item.id is not None)
            self.news.set()

    async def next(self, timeout: float) -> list[ImportEvent]:
        """The events found since the last call, waiting up to `timeout` s for some."""
        if not self.found:
            try:
                async with asyncio.timeout(timeout):
                    await self.news.wait()
            except TimeoutError:
                return []
        found, self.found = self.found, []
        self.news.clear()
        return found


class EventWatch:
    """The process's event streams and the task that looks for their events."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.most = settings.max_event_streams
        self.most_per_client = settings.max_event_streams_per_client
        self.following: dict[uuid.UUID, set[Follower]] = {}
        self.per_address: Counter[str] = Counter()
        self.open = 0
        self.task: asyncio.Task[None] | None = None

    def follow(self, import_id: uuid.UUID, address: str, after: int) -> Follower:
        """Register a stream of the import's events after `after`; a 429 past the client's
        cap, a 503 past the process's."""
        if self.per_address[address] >= self.most_per_client:
            raise TooManyRequests(
                f"This client has {self.most_per_client} event streams open; close one first.",
                headers={"Retry-After": RETRY_SECONDS},
            )
        if self.open >= self.most:
            raise Unavailable("Too many event streams are open; retry later.")
        follower = Follower(import_id, address, after)
        self.following.setdefault(import_id, set()).add(follower)
        self.per_address[address] += 1
        self.open += 1
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.run())
        return follower

    def leave(self, follower: Follower) -> None:
        """Forget a stream that ended; calling it twice is harmless."""
        followers = self.following.get(follower.import_id)
        if followers is None or follower not in followers:
            return
        followers.discard(follower)
        if not followers:
            del self.following[follower.import_id]
        self.per_address[follower.address] -= 1
        if self.per_address[follower.address] <= 0:
            del self.per_address[follower.address]
        self.open -= 1

    async def stop(self) -> None:
        """Stop looking, at shutdown."""
        if self.task is not None:
            self.task.cancel()
            with suppress(asyncio.CancelledError):
                await self.task

    async def run(self) -> None:
        """Look for events while any stream is open."""
        while self.following:
            await asyncio.sleep(POLL_SECONDS)
            try:
                await self.look()
            except Exception as exc:
                if (fault := classify(exc)) is not None:
                    report(fault, exc)  # said once per cause; the streams wait meanwhile
                else:
                    logger.exception("looking for import events failed; trying again")

    async def look(self) -> None:
        """One statement for every followed import, then one read per import with news."""
        if not self.following:
            return
        async with self.database.reads() as session, session.begin():
            imports = ImportRepository(session)
            newest = await imports.newest_event_ids(list(self.following))
            for import_id, last in newest.items():
                followers = self.following.get(import_id, set())
                after = min((follower.after for follower in followers), default=last)
                if last <= after:
                    continue
                found = await imports.events_after(import_id, after, EVENTS_PER_LOOK)
                for follower in followers:
                    follower.hand(found)
