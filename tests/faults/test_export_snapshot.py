"""An export is one snapshot: a book renamed while the export is read is listed once, as it
was when the export began, even when the rename moves it across the export's sort."""

import json
from collections.abc import Callable

import pytest

from app.config import Settings
from app.db.engine import create_database
from app.exports import stream
from app.exports.schemas import ExportQuery
from app.exports.stream import export_text
from tests.helpers.catalogue import create_author, create_book
from tests.helpers.imports import served

TITLES = [f"Book {n:02}" for n in range(10)]


async def test_a_rename_during_an_export_neither_hides_nor_repeats_a_book(
    fresh_database: Callable[[], Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "BATCH_SIZE", 3)
    async with served(fresh_database) as (client, _database, settings):
        author = await create_author(client)
        ids = {title: (await create_book(client, author["id"], title))["id"] for title in TITLES}
        database = create_database(settings)
        try:
            pieces = export_text(database, ExportQuery(sort="title"))
            exported = [await anext(pieces), await anext(pieces)]  # the header, Book 00-02
            # One book already exported moves to the end, one still to come moves before.
            for title, renamed in (("Book 01", "Book 99"), ("Book 08", "Book 005")):
                response = await client.patch(f"/books/{ids[title]}", json={"title": renamed})
                assert response.status_code == 200, response.text
            exported += [piece async for piece in pieces]
        finally:
            await database.dispose()
    titles = [json.loads(line)["title"] for line in "".join(exported).splitlines()]
    assert titles == TITLES
