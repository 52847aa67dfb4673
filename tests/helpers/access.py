"""API keys for tests: made in the test's own database, the way the app makes them."""

from app.db.engine import Database
from app.keys.repository import ApiKeyRepository
from app.keys.secrets import new_key


async def make_key(database: Database, scope: str = "admin", name: str = "tests") -> str:
    """A new key of `scope`, committed; return its secret."""
    async with database.writes() as session, session.begin():
        _api_key, secret = await ApiKeyRepository(session).create(name, scope)
    return secret


async def key_or_unchecked(database: Database) -> str:
    """A stored admin key, or, where the database cannot store one (unreachable, no schema),
    a well-formed key the server will try, and fail, to look up."""
    try:
        return await make_key(database)
    except Exception:
        return new_key()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
