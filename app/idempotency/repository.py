import uuid
from datetime import datetime
from typing import Annotated

from sqlalchemy import func
from sqlmodel import col, delete, select

from app.db import SessionDep, lock_for_key, on_session
from app.models import IdempotencyKey, utcnow


class IdempotencyRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def lock(self, key: str, wait_seconds: float) -> bool:
        """Hold the key until this transaction ends, so other processes wait their turn."""
        return await lock_for_key(self.session, key, wait_seconds)

    async def find(self, owner: uuid.UUID, key: str) -> IdempotencyKey | None:
        """Return the stored answer for an unexpired key of this owner, or None."""
        statement = select(IdempotencyKey).where(
            IdempotencyKey.api_key_id == owner,
            IdempotencyKey.key == key,
            col(IdempotencyKey.expires_at) > utcnow(),
        )
        return (await self.session.exec(statement)).one_or_none()

    async def save(self, record: IdempotencyKey) -> None:
        """Store the answer; an expired record with the same key makes way for it."""
        await self.session.exec(
            delete(IdempotencyKey).where(
                col(IdempotencyKey.api_key_id) == record.api_key_id,
                col(IdempotencyKey.key) == record.key,
            )
        )
        self.session.add(record)
        await self.session.flush()

    async def purge(self, now: datetime) -> int:
        """Delete every expired key; return how many went."""
        expired = col(IdempotencyKey.expires_at) <= now
        count = (await self.session.exec(select(func.count()).where(expired))).one()
        await self.session.exec(delete(IdempotencyKey).where(expired))
        return count


IdempotencyRepositoryDep = Annotated[IdempotencyRepository, on_session(IdempotencyRepository)]
