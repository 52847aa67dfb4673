"""Delete idempotency keys once they have expired, now and then, in the background."""

import asyncio
import logging

from app.db.engine import Database
from app.idempotency.repository import IdempotencyRepository
from app.models import utcnow

logger = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600


async def purge_expired_keys(database: Database) -> int:
    """Delete every expired key in one transaction; return how many went."""
    async with database.writes() as session, session.begin():
        return await IdempotencyRepository(session).purge(utcnow())


async def purge_periodically(database: Database) -> None:
    """Purge every hour, until cancelled; expired keys are ignored meanwhile anyway."""
    while True:
        await asyncio.sleep(PURGE_EVERY_SECONDS)
        try:
            purged = await purge_expired_keys(database)
            if purged:
                logger.info("purged %d expired idempotency keys", purged)
        except Exception:
            # A busy or unreachable database now is no reason to stop purging later.
            logger.exception("purging expired idempotency keys failed")
