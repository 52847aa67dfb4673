"""Small helpers shared by the book tests: data made through the API, and common checks."""

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httpx import AsyncClient, Response

from tests.problems import assert_problem

NEXT_YEAR = datetime.now(UTC).year + 1
# Valid ISBN-13s, checked by hand against the ISBN-10 and ISBN-13 check-digit rules.
ISBNS = ["9780306406157", "9780060512750", "9780804429573", "9781861972712", "9780198534532"]
MISSING_ID = "0190f6b0-0000-7000-8000-000000000000"


async def create_author(client: AsyncClient, name: str = "Ursula K. Le Guin") -> dict[str, Any]:
    response = await client.post("/authors", json={"name": name})
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


def error_locs(response: Response) -> list[list[str | int]]:
    """The `loc` of every error in a 422 answer."""
    body = assert_problem(response, 422)
    return [error["loc"] for error in body["errors"]]


def links(response: Response) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """Parse the Link header into rel -> (path, query parameters)."""
    parsed = {}
    for target, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', response.headers["link"]):
        url = urlsplit(target)
        parsed[rel] = (url.path, parse_qs(url.query))
    return parsed
