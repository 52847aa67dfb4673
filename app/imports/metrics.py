"""Imports by status in `GET /metrics`, read from the database at each scrape, so every
process and every server reports the same figures."""

from fastapi import Request

from app.imports.repository import ImportRepository
from app.observe.metrics import IMPORTS, on_scrape
from app.state import request_state


@on_scrape
async def count_imports(request: Request) -> None:
    async with request_state(request).database.reads() as session, session.begin():
        counts = await ImportRepository(session).count_by_status()
    for status, count in counts.items():
        IMPORTS.labels(status).set(count)
