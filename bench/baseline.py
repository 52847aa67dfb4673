"""The yardstick: Folio's list page and get-one answers, built by hand-written SQL on the stdlib
`sqlite3` driver with one thread hop per request, as a bare ASGI callable (no framework).

Serve it like the app: `BENCH_DATABASE=bench/work/x.db uvicorn bench.baseline:app`.
It answers `GET /books` (page and per_page only), `GET /books/{id}` and `GET /health/ready`.
"""

import asyncio
import json
import math
import os
import sqlite3
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Answer = tuple[int, dict[str, str], bytes]

# A book of the benchmark's data has one author, at position 0: the baseline reads that one.
BOOK_COLUMNS = (
    "SELECT book.title, book.isbn, book.published_year, book.description, book.publisher,"
    " book.language, book.series, book.series_position, book.id, author.id, author.name,"
    " book.created_at, book.updated_at, book.version"
    " FROM book JOIN book_author ON book_author.book_id = book.id AND book_author.position = 0"
    " JOIN author ON author.id = book_author.author_id"
)
# Where the book's id stands in a row of BOOK_COLUMNS.
ID = 8
PAGE = f"{BOOK_COLUMNS} ORDER BY book.title, book.id LIMIT ? OFFSET ?"
ONE = f"{BOOK_COLUMNS} WHERE book.id = ?"
TAGS = (
    "SELECT book_tag.book_id, tag.name FROM book_tag JOIN tag ON tag.id = book_tag.tag_id"
    " WHERE book_tag.book_id IN ({}) ORDER BY tag.name"
)
NOT_FOUND: Answer = (404, {"content-type": "application/problem+json"}, b'{"status": 404}')

local = threading.local()


def connection() -> sqlite3.Connection:
    """This thread's read-only connection, set up with the app's reader pragmas."""
    existing: sqlite3.Connection | None = getattr(local, "connection", None)
    if existing is not None:
        return existing
    opened = sqlite3.connect(os.environ["BENCH_DATABASE"], isolation_level=None)
    for pragma in ("busy_timeout = 5000", "synchronous = NORMAL", "query_only = ON"):
        opened.execute(f"PRAGMA {pragma}")
    local.connection = opened
    return opened


def close() -> None:
    """Close this thread's connection, if it has one."""
    existing: sqlite3.Connection | None = getattr(local, "connection", None)
    if existing is not None:
        existing.close()
        local.connection = None


def dashed(hex_id: str) -> str:
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def timestamp(stored: str) -> str:
    """SQLAlchemy's naive-UTC text as the app's JSON writes it."""
    return stored.replace(" ", "T").removesuffix(".000000") + "Z"


def book(row: tuple[Any, ...], tags: list[str]) -> dict[str, Any]:
    (
        title,
        isbn,
        year,
        description,
        publisher,
        language,
        series,
        position,
        id_,
        author_id,
        name,
    ) = row[:11]
    created, updated, version = row[11:]
    author = {"id": dashed(author_id), "name": name}
    return {
        "title": title,
        "isbn": isbn,
        "published_year": year,
        "description": description,
        "publisher": publisher,
        "language": language,
        "series": series,
        "series_position": position,
        "id": dashed(id_),
        "authors": [author],
        "tags": tags,
        "author_id": author["id"],
        "author": author,
        "created_at": timestamp(created),
        "updated_at": timestamp(updated),
        "version": version,
    }


def tags_of(db: sqlite3.Connection, ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {id_: [] for id_ in ids}
    if ids:
        for book_id, name in db.execute(TAGS.format(",".join("?" * len(ids))), ids):
            found[book_id].append(name)
    return found


def json_answer(body: Any, headers: dict[str, str]) -> Answer:
    return 200, {"content-type": "application/json", **headers}, json.dumps(body).encode()


def list_books(query: str) -> Answer:
    params = {name: values[0] for name, values in parse_qs(query).items()}
    page = int(params.get("page", "1"))
    per_page = int(params.get("per_page", "20"))
    db = connection()
    db.execute("BEGIN")
    try:
        rows = db.execute(PAGE, (per_page, (page - 1) * per_page)).fetchall()
        tags = tags_of(db, [row[ID] for row in rows])
        total = int(db.execute("SELECT count(*) FROM book").fetchone()[0])
    finally:
        db.execute("COMMIT")
    pages = math.ceil(total / per_page)
    meta = {"page": page, "per_page": per_page, "total": total, "pages": pages}
    links = {"first": 1, "last": max(pages, 1)}
    if page > 1:
        links["prev"] = min(page - 1, max(pages, 1))
    if page < pages:
        links["next"] = page + 1
    link = ", ".join(
        f'</books?{urlencode({**params, "page": n})}>; rel="{rel}"' for rel, n in links.items()
    )
    items = [book(row, tags[row[ID]]) for row in rows]
    return json_answer({"items": items, "meta": meta}, {"link": link})


def get_book(id_text: str) -> Answer:
    hex_id = id_text.replace("-", "").lower()
    if len(hex_id) != 32:
        return NOT_FOUND
    db = connection()
    db.execute("BEGIN")
    try:
        row = db.execute(ONE, (hex_id,)).fetchone()
        tags = tags_of(db, [hex_id])[hex_id] if row is not None else []
    finally:
        db.execute("COMMIT")
    if row is None:
        return NOT_FOUND
    return json_answer(book(row, tags), {"etag": f'"{row[9]}"'})


def route(method: str, path: str, query: str) -> Answer:
    if method != "GET":
        return 405, {}, b""
    if path == "/books":
        return list_books(query)
    if path.startswith("/books/"):
        return get_book(path.removeprefix("/books/"))
    if path == "/health/ready":
        return json_answer({"status": "ok"}, {})
    return NOT_FOUND


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI entry point; all database work for a request runs in one worker-thread hop."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    query = scope["query_string"].decode("latin-1")
    status, headers, body = await asyncio.to_thread(route, scope["method"], scope["path"], query)
    raw_headers = [(name.encode(), value.encode()) for name, value in headers.items()]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
