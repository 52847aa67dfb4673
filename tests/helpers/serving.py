"""Run the real app (its own engines, lifespan and all) for tests that must really commit."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.engine import Database
from app.main import create_app
from app.state import state_of
from tests.helpers.access import bearer, key_or_unchecked


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[AsyncClient, Database]]:
    """Start the app for these settings and give a client for it (sending an admin key)
    and its database."""
    if "import_runner" not in settings.model_fields_set:
        # An idle import runner still reads now and then; tests that count pooled
        # connections must not meet it, so it runs only where a test asks for it.
        settings = settings.model_copy(update={"import_runner": False})
    if "rate_limit_per_minute" not in settings.model_fields_set:
        # Nor the rate limit, which a test sending as fast as the app answers can pass on a
        # fast machine (tests/keys tests the limits).
        settings = settings.model_copy(update={"rate_limit_per_minute": 0})
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        headers = bearer(await key_or_unchecked(state_of(app).database))
        async with AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client, state_of(app).database
