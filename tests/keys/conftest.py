"""An app of the test's own settings on the test's rolled-back database."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.engine import Database
from app.main import create_app
from app.state import state_of
from tests.helpers.databases import ScratchDatabase

AppClient = Callable[..., AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def app_client(database: Database, migrated: ScratchDatabase) -> AppClient:
    """`async with app_client(**settings) as client`: a keyless client of an app so set."""

    @asynccontextmanager
    async def make(**settings: Any) -> AsyncIterator[AsyncClient]:
        app = create_app(Settings(database_url=migrated.url, **settings))
        state_of(app).database = database
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client

    return make
