"""Small helpers shared by the router tests: create rows through the API, check problems."""

import re
from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient, Response

from tests.problems import assert_problem


async def create_author(client: AsyncClient, name: str = "Le Guin", **fields: Any) -> Any:
    response = await client.post("/authors", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def create_book(client: AsyncClient, author_id: str, title: str, **fields: Any) -> Any:
    response = await client.post("/books", json={"title": title, "author_id": author_id, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def list_authors(client: AsyncClient, **params: Any) -> Any:
    response = await client.get("/authors", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def names(client: AsyncClient, **params: Any) -> list[str]:
    return [author["name"] for author in (await list_authors(client, **params))["items"]]


def assert_invalid(response: Response, instance: str, loc: list[Any], type_: str) -> Any:
    body = assert_problem(response, 422, instance=instance)
    assert body["title"] == "Unprocessable Content"
    assert [{"loc": loc, "type": type_}] == [
        {"loc": error["loc"], "type": error["type"]} for error in body["errors"]
    ]
    return body


def links(response: Response) -> dict[str, str]:
    found = re.findall(r'<([^>]*)>; rel="(\w+)"', response.headers["link"])
    return {rel: url for url, rel in found}


def utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0), value
    return parsed
