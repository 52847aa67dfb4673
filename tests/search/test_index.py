"""The search index cannot drift: it matches the rows after every migration and every write."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy import Uuid, column, insert, table
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnClause

from app.config import Settings
from app.db.engine import Database
from tests.conftest import SERVER_URL
from tests.helpers.catalogue import ISBNS, create_author, create_book
from tests.helpers.databases import scratch_database
from tests.helpers.imports import imported, ndjson, served
from tests.search.index_check import index_problems
from tests.test_migrations import inspect_database

BEFORE_INDEX = "0b81c0793217"
NOW = datetime.now(UTC)
COMMON = {"created_at": NOW, "updated_at": NOW, "version": 1}


def rows_table(name: str, *names: str) -> Any:
    columns: list[ColumnClause[Any]] = [column("id", Uuid()), *map(column, COMMON)]
    return table(name, *columns, *map(column, names))


def insert_catalogue(connection: Connection) -> None:
    """Rows as an older version of Folio left them, before the index existed."""
    author = rows_table("author", "name", "name_folded", "bio")
    book = rows_table("book", "title", "title_folded", "description", "author_id")
    tag = rows_table("tag", "name")
    book_tag = table("book_tag", column("book_id", Uuid()), column("tag_id", Uuid()))
    gabo, zola = uuid.uuid4(), uuid.uuid4()
    books = [uuid.uuid4() for _ in range(3)]
    tags = [uuid.uuid4(), uuid.uuid4()]
    authors = [
        (gabo, "Gabriel García Márquez", None),
        (zola, "E\u0301mile Zola", "Né à Paris, mort à Paris."),
    ]
    for id_, name, bio in authors:
        connection.execute(
            insert(author).values(id=id_, name=name, name_folded=name.casefold(), bio=bio, **COMMON)
        )
    for id_, title, description, author_id in (
        (books[0], "Cien años de soledad", "Macondo y la familia Buendía.", gabo),
        (books[1], "Germinal", None, zola),
        (books[2], "Nana — 1880", "Paris", zola),
    ):
        connection.execute(
            insert(book).values(
                id=id_,
                title=title,
                title_folded=title.casefold(),
                description=description,
                author_id=author_id.hex if connection.dialect.name == "sqlite" else author_id,
                **COMMON,
            )
        )
    for id_, name in zip(tags, ("realismo mágico", "naturalisme"), strict=True):
        connection.execute(insert(tag).values(id=id_, name=name, **COMMON))
    links = [(books[0], tags[0]), (books[1], tags[1]), (books[2], tags[1])]
    connection.execute(insert(book_tag), [{"book_id": b, "tag_id": t} for b, t in links])
    connection.commit()


def test_the_index_matches_the_rows_after_every_migration(tmp_path: Path) -> None:
    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade(BEFORE_INDEX)
        inspect_database(database.url, insert_catalogue)
        database.upgrade()
        assert inspect_database(database.url, index_problems) == []
        database.downgrade(BEFORE_INDEX)
        database.upgrade()
        assert inspect_database(database.url, index_problems) == []


async def problems(database: Database) -> list[Any]:
    async with database.writes() as session:
        connection = await session.connection()
        return await connection.run_sync(index_problems)


async def test_the_index_follows_every_write(client: AsyncClient, database: Database) -> None:
    author = await create_author(client, "Gabriel García Márquez")
    other = await create_author(client, "Isabel Allende")
    book = await create_book(
        client, author["id"], "Cien años de soledad", tags=["Realismo", "Clásico"]
    )
    await create_book(client, other["id"], "La casa de los espíritus", tags=["realismo"])
    await create_book(client, author["id"], "El otoño del patriarca", description="Caribe")
    assert await problems(database) == []

    changes: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", f"/books/{book['id']}", {"title": "Cent ans de solitude"}),
        ("PATCH", f"/books/{book['id']}", {"description": "Macondo, façon Buendía"}),
        ("PATCH", f"/books/{book['id']}", {"tags": ["roman", "realismo"]}),
        ("PATCH", f"/books/{book['id']}", {"tags": []}),
        ("PATCH", f"/books/{book['id']}", {"author_id": other["id"]}),
        ("PATCH", f"/books/{book['id']}", {"author_ids": [author["id"], other["id"]]}),
        ("PATCH", f"/books/{book['id']}", {"series": "Macondo", "series_position": 1}),
        # A co-author renamed: every book they wrote with someone else follows.
        ("PATCH", f"/authors/{other['id']}", {"name": "I. Allende Llona"}),
        ("PATCH", f"/authors/{author['id']}", {"name": "Gabo"}),
        ("PATCH", f"/books/{book['id']}", {"series": None}),
        ("PATCH", f"/authors/{other['id']}", {"bio": "Née à Lima."}),
        ("POST", "/books", {"title": "Compartido", "author_ids": [other["id"], author["id"]]}),
        # The cascade takes García Márquez off the book he wrote with Allende.
        ("DELETE", f"/authors/{author['id']}?cascade=true", {}),
        ("DELETE", f"/books/{book['id']}", {}),
    ]
    for method, url, body in changes:
        response = await client.request(method, url, json=body or None)
        assert response.status_code in (200, 201, 204), response.text
        assert await problems(database) == [], (method, url, body)


async def test_the_index_follows_imports_that_create_and_update(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        first = ndjson(
            {"title": "Cien años", "author": "García", "isbn": ISBNS[0], "description": "x"},
            {"title": "Otoño", "author": "García", "tags": ["Clásico", "caribe"]},
            {"title": "Eva Luna", "author": "Allende", "tags": ["clásico"]},
        )
        await imported(client, database, settings, first)
        assert await problems(database) == []
        found = await client.get("/books", params={"search": "clasico", "sort": "title"})
        assert [book["title"] for book in found.json()["items"]] == ["Eva Luna", "Otoño"]
        again = ndjson(
            {"title": "Cent ans", "author": "Márquez", "isbn": ISBNS[0], "tags": ["roman"]}
        )
        job = await imported(client, database, settings, again, on_duplicate="update")
        assert job["rows_updated"] == 1
        assert await problems(database) == []
        found = await client.get("/books", params={"search": "cent marquez roman"})
        assert [book["title"] for book in found.json()["items"]] == ["Cent ans"]
