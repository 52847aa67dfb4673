import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import bindparam, or_

# SQLModel's select() takes at most four columns; a key's row has eight.
from sqlalchemy import select as select_columns
from sqlmodel import col, select, update

from app.db.session import SessionDep, on_session
from app.db.sqlite_driver import ALONE
from app.keys.cache import UsableKey
from app.keys.schemas import ApiKeyQuery, ApiKeyRead
from app.keys.secrets import hash_key, new_key, shown_prefix
from app.kit.loaders import load_or_404
from app.kit.pagination import Slice, paginate
from app.models import ApiKey, utcnow

# `last_used_at` is kept to this precision, so a busy key costs one write a minute, not one
# per request.
LAST_USED_PRECISION = timedelta(minutes=1)
# What a list shows: never the hash of a secret.
KEY_COLUMNS: tuple[Any, ...] = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.scope,
    ApiKey.prefix,
    ApiKey.created_at,
    ApiKey.expires_at,
    ApiKey.last_used_at,
    ApiKey.revoked_at,
)
KEYS = select_columns(*KEY_COLUMNS)


# A request whose key is not in the process's cache (app/keys/cache.py) runs this, so it is
# built once and bound per request. It reads the columns the check uses, not an ORM entity.
# The guard's own transaction reads nothing else: on SQLite, no BEGIN and no COMMIT.
USABLE_KEY = (
    select(ApiKey.id, ApiKey.scope, ApiKey.last_used_at, ApiKey.expires_at)
    .where(
        col(ApiKey.secret_hash) == bindparam("secret_hash"),
        col(ApiKey.revoked_at).is_(None),
        or_(col(ApiKey.expires_at).is_(None), col(ApiKey.expires_at) > bindparam("now")),
    )
    .execution_options(**{ALONE: True})
)


class ApiKeyRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def create(
        self, name: str, scope: str, expires_at: datetime | None = None
    ) -> tuple[ApiKey, str]:
        """Make a key; return its row and the secret, which is not kept anywhere."""
        secret = new_key()
        api_key = ApiKey(
            name=name,
            scope=scope,
            prefix=shown_prefix(secret),
            secret_hash=hash_key(secret),
            expires_at=expires_at,
        )
        self.session.add(api_key)
        await self.session.flush()
        return api_key, secret

    async def usable(self, secret_hash: str) -> UsableKey | None:
        """The key with this hash of its secret if it is neither revoked nor expired, else None."""
        params = {"secret_hash": secret_hash, "now": utcnow()}
        found = (await self.session.exec(USABLE_KEY, params=params)).one_or_none()
        return None if found is None else UsableKey(*found)

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def page(self, query: ApiKeyQuery) -> Slice[ApiKeyRead]:
        """One page of keys, revoked ones included."""
        found = await paginate(self.session, query, KEYS, [], ApiKey)
        return found.with_items([ApiKeyRead.model_validate(row._asdict()) for row in found.items])

    async def revoke(self, api_key: ApiKey) -> None:
        """Revoke the key now; revoking it again keeps the first time."""
        if api_key.revoked_at is None:
            api_key.revoked_at = utcnow()
            api_key.touch()
        await self.session.flush()

    async def mark_used(self, key_id: uuid.UUID, now: datetime) -> None:
        """Record a use, unless one within `LAST_USED_PRECISION` is recorded already."""
        statement = (
            update(ApiKey)
            .where(
                col(ApiKey.id) == key_id,
                or_(
                    col(ApiKey.last_used_at).is_(None),
                    col(ApiKey.last_used_at) < now - LAST_USED_PRECISION,
                ),
            )
            .values(last_used_at=now)
        )
        await self.session.exec(statement)


NO_KEY = "No API key has this id."
api_key_repository = on_session(ApiKeyRepository)
ApiKeyRepositoryDep = Annotated[ApiKeyRepository, Depends(api_key_repository)]
ApiKeyDep = Annotated[ApiKey, Depends(load_or_404(api_key_repository, "key_id", NO_KEY))]
