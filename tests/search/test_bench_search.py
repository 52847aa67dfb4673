"""The benchmark's search workloads run on a bulk-loaded database, whose index the migrations
built from rows written before the index existed."""

import asyncio
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.engine import create_engine
from app.main import create_app
from bench.dataset import ensure_database, sqlite_url
from bench.workloads import search_workloads
from tests.search.index_check import index_problems

pytestmark = pytest.mark.sqlite


async def test_search_workloads_answer_on_a_loaded_database(tmp_path: Path) -> None:
    path, _info = await asyncio.to_thread(ensure_database, tmp_path, 300)
    app = create_app(Settings(database_url=sqlite_url(path)))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            for workload in search_workloads():
                response = await client.get(workload.paths[0])
                assert response.status_code == 200, (workload.name, response.text)
            broad = (await client.get("/books", params={"search": "the"})).json()
    assert broad["meta"]["total"] > 100
    engine = create_engine(Settings(database_url=sqlite_url(path)))
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(index_problems) == []
    finally:
        await engine.dispose()
