import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, delete, select

from app.db.driver_errors import LOCK_NOT_AVAILABLE, sqlstate
from app.db.session import SessionDep, on_session
from app.models import IdempotencyKey, utcnow


class IdempotencyRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def lock(self, key: str, wait_seconds: float) -> bool:
        """Hold the key until this transaction ends, so other processes wait their turn;
        False if it stayed taken past the wait.

        SQLite needs nothing: its writes are serialised already. PostgreSQL takes a
        transaction-scoped advisory lock, so app processes on several hosts agree too.
        """
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        wait_ms = max(int(wait_seconds * 1000), 1)
        # Plain SQL: SET LOCAL and advisory locks have no SQLModel or SQLAlchemy construct.
        await self.session.exec(text(f"SET LOCAL lock_timeout = {wait_ms}"))  # type: ignore[call-overload]
        lock = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
        try:
            await self.session.exec(lock, params={"key": key})  # type: ignore[call-overload]
        except DBAPIError as exc:
            if sqlstate(exc) == LOCK_NOT_AVAILABLE:
                return False
            raise
        # Later row locks in this transaction wait as long as they usually would.
        await self.session.exec(text("SET LOCAL lock_timeout = DEFAULT"))  # type: ignore[call-overload]
        return True

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


idempotency_repository = on_session(IdempotencyRepository)
IdempotencyRepositoryDep = Annotated[IdempotencyRepository, Depends(idempotency_repository)]
