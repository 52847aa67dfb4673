"""The SQL that hands imports to runners: claims, leases, heartbeats and the end of a run.

A runner holds an import while its lease lasts; every write it makes checks that it still
does, so a runner that was presumed dead can never commit over the one that took over.
"""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import and_, col, delete, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.imports.repository import event
from app.models import Import, ImportChunk, utcnow


def claimable(now: datetime) -> Any:
    """Queued, or running under a lease that ran out (its runner died)."""
    return or_(
        col(Import.status) == "queued",
        and_(col(Import.status) == "running", col(Import.lease_expires_at) < now),
    )


class LeaseRepository:
    def __init__(self, session: AsyncSession, owner: str, lease: timedelta) -> None:
        self.session = session
        self.owner = owner
        self.lease = lease

    async def waiting(self) -> bool:
        """Whether any import is free to claim: a read, so an idle runner takes no write lock."""
        statement = select(Import.id).where(claimable(utcnow())).limit(1)
        return (await self.session.exec(statement)).first() is not None

    async def release(self, import_id: uuid.UUID) -> None:
        """Give a running import back to the queue, at a clean stop, for any runner to resume."""
        await self.advance(
            import_id, {"status": "queued", "lease_owner": None, "lease_expires_at": None}
        )

    async def claim(self, import_id: uuid.UUID | None = None) -> Import | None:
        """Take the oldest import no live runner holds (or this one), in one statement.

        PostgreSQL skips rows another claim has locked, so runners never queue behind each
        other; SQLite runs the statement under its one write lock.
        """
        now = utcnow()
        candidates = select(Import.id).where(claimable(now))
        if import_id is not None:
            candidates = candidates.where(Import.id == import_id)
        candidates = candidates.order_by(col(Import.created_at), col(Import.id)).limit(1)
        if self.session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(Import)
            # The condition again: the row may have changed while the claim waited for it.
            .where(col(Import.id) == candidates.scalar_subquery(), claimable(now))
            .values(
                status="running",
                lease_owner=self.owner,
                lease_expires_at=now + self.lease,
                heartbeat_at=now,
                started_at=func.coalesce(col(Import.started_at), now),
                attempts=col(Import.attempts) + 1,
                updated_at=now,
                version=col(Import.version) + 1,
            )
            .returning(col(Import.id))
            .execution_options(synchronize_session=False)
        )
        claimed = (await self.session.exec(statement)).scalar_one_or_none()
        if claimed is None:
            return None
        return await self.session.get(Import, claimed, populate_existing=True)

    async def renew(self, import_id: uuid.UUID) -> Import | None:
        """Extend the lease and return the import; None if this runner no longer holds it.

        On PostgreSQL this also locks the row until the batch commits.
        """
        now = utcnow()
        statement = (
            update(Import)
            .where(*self.held(import_id))
            .values(lease_expires_at=now + self.lease, heartbeat_at=now)
            .returning(col(Import.id))
            .execution_options(synchronize_session=False)
        )
        if (await self.session.exec(statement)).scalar_one_or_none() is None:
            return None
        return await self.session.get(Import, import_id, populate_existing=True)

    def held(self, import_id: uuid.UUID) -> list[Any]:
        return [
            col(Import.id) == import_id,
            col(Import.lease_owner) == self.owner,
            col(Import.status) == "running",
        ]

    async def advance(self, import_id: uuid.UUID, values: dict[str, Any]) -> None:
        """Record a batch's counters and checkpoint; the caller holds the lease (`renew`)."""
        now = utcnow()
        statement = (
            update(Import)
            .where(*self.held(import_id))
            .values(**values, updated_at=now, version=col(Import.version) + 1)
            .execution_options(synchronize_session=False)
        )
        await self.session.exec(statement)

    async def finish(
        self, import_id: uuid.UUID, status: str, detail: dict[str, Any], values: dict[str, Any]
    ) -> None:
        """End the run as `succeeded`, `failed` or `cancelled`, with its last event."""
        now = utcnow()
        await self.advance(
            import_id,
            {
                **values,
                "status": status,
                "finished_at": now,
                "lease_owner": None,
                "lease_expires_at": None,
            },
        )
        self.session.add(event(import_id, status, **detail))
        # A finished import is never read again: its upload makes way.
        await self.session.exec(delete(ImportChunk).where(col(ImportChunk.import_id) == import_id))
        await self.session.flush()

    async def fail(self, import_id: uuid.UUID, problem: dict[str, Any]) -> None:
        await self.finish(import_id, "failed", problem, {"error": json.dumps(problem)})
