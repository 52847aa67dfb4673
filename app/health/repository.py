from typing import Annotated

from fastapi import Depends
from sqlalchemy import text

from app.db.session import SessionDep, on_session


class HealthRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def schema_revision(self) -> str | None:
        """Return the migration the database is at, or None before the first one."""
        # alembic_version belongs to Alembic, not to the models, hence plain SQL.
        result = await self.session.exec(text("SELECT version_num FROM alembic_version"))  # type: ignore[call-overload]
        revision = result.scalar_one_or_none()
        return None if revision is None else str(revision)


health_repository = on_session(HealthRepository)
HealthRepositoryDep = Annotated[HealthRepository, Depends(health_repository)]
