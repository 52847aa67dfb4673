"""Catalogue data made and read through the API, and what its answers carry (Link headers,
timestamps)."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httpx import AsyncClient, Response

NEXT_YEAR = datetime.now(UTC).year + 1
# Valid ISBN-13s, checked by hand against the ISBN-10 and ISBN-13 check-digit rules.
ISBNS = ["9780306406157", "9780060512750", "9780804429573", "9781861972712", "9780198534532"]
MISSING_ID = "0190f6b0-0000-7000-8000-000000000000"


async def create_author(
    client: AsyncClient, name: str = "Ursula K. Le Guin", **fields: Any
) -> dict[str, Any]:
    response = await client.post("/authors", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    author: dict[str, Any] = response.json()
    return author


async def create_book(
    client: AsyncClient, author_id: str, title: str = "The Dispossessed", **fields: Any
) -> dict[str, Any]:
    response = await client.post("/books", json={"title": title, "author_id": author_id, **fields})
    assert response.status_code == 201, response.text
    book: dict[str, Any] = response.json()
    return book


async def get_book(client: AsyncClient, book_id: str) -> dict[str, Any]:
    response = await client.get(f"/books/{book_id}")
    assert response.status_code == 200, response.text
    book: dict[str, Any] = response.json()
    return book


async def etag_of(client: AsyncClient, book_id: str) -> str:
    """The book's current ETag, as GET /books/{id} gives it."""
    response = await client.get(f"/books/{book_id}")
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def list_authors(client: AsyncClient, **params: Any) -> Any:
    response = await client.get("/authors", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def names(client: AsyncClient, **params: Any) -> list[str]:
    """The names of one page of authors, in the order the API gives them."""
    return [author["name"] for author in (await list_authors(client, **params))["items"]]


async def list_books(client: AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/books", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def titles(client: AsyncClient, **params: Any) -> list[str]:
    """The titles of one page of books, in the order the API gives them."""
    page = await list_books(client, per_page=100, **params)
    return [book["title"] for book in page["items"]]


async def tag_counts(client: AsyncClient) -> dict[str, int]:
    """Every tag's name and how many books carry it."""
    response = await client.get("/tags", params={"per_page": 100})
    assert response.status_code == 200, response.text
    return {tag["name"]: tag["book_count"] for tag in response.json()["items"]}


async def book_counts(client: AsyncClient) -> dict[str, int]:
    """Every author's id and how many books they have, as GET /authors reports it."""
    response = await client.get("/authors", params={"per_page": 100})
    assert response.status_code == 200, response.text
    return {author["id"]: author["book_count"] for author in response.json()["items"]}


def links(response: Response) -> dict[str, str]:
    """The Link header's targets by rel."""
    found = re.findall(r'<([^>]*)>; rel="(\w+)"', response.headers["link"])
    return {rel: url for url, rel in found}


def link_targets(response: Response) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """The Link header's targets by rel, as (path, query parameters)."""
    parsed = {}
    for target, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', response.headers["link"]):
        url = urlsplit(target)
        parsed[rel] = (url.path, parse_qs(url.query))
    return parsed


def utc(value: str) -> datetime:
    """A timestamp the API gave, checked to be in UTC."""
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0), value
    return parsed
