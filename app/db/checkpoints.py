"""SQLite's WAL copied into the database file by a task of its own, off the writer's path.

SQLite checkpoints inside the commit that takes the WAL past `wal_autocheckpoint` pages (1,000 by
default): that write copies every page and syncs the file while it holds the one write
connection, 14 to 17 ms against a create's 1 ms, and every write queued behind it waits too.
Here a reader's connection copies what the WAL holds once a second without waiting for anyone
(a passive checkpoint), and the writer checkpoints itself only past `WRITER_CHECKPOINT_PAGES`
(app/db/engine.py), should this task fall behind or not run (a command line tool has none).
"""

import asyncio
import logging
from typing import Any

from app.db.engine import Database

logger = logging.getLogger(__name__)
CHECKPOINT_EVERY_SECONDS = 1.0


async def passive_checkpoint(database: Database) -> tuple[int, int, int]:
    """Copy the WAL's committed pages into the database file on a reader's connection; SQLite's
    answer: busy (1 if another checkpoint ran), the WAL's frames and the frames copied."""
    async with database.read_engine.connect() as connection:
        # Straight to the driver, outside any transaction, where SQLite can checkpoint.
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        async with driver.execute("PRAGMA wal_checkpoint(PASSIVE)") as cursor:
            busy, frames, copied = await cursor.fetchone()
    return busy, frames, copied


async def checkpoint_periodically(database: Database) -> None:
    """Checkpoint every CHECKPOINT_EVERY_SECONDS until cancelled."""
    while True:
        await asyncio.sleep(CHECKPOINT_EVERY_SECONDS)
        try:
            await passive_checkpoint(database)
        except Exception:
            # A fault the requests meet too, and report; the writer's own checkpoint still runs.
            logger.debug("background WAL checkpoint failed", exc_info=True)
