"""`count=none`: lists without `meta.total`, for clients that do not need it on large lists."""

import pytest
from httpx import AsyncClient

from tests.helpers.catalogue import link_targets
from tests.helpers.problems import error_locs
from tests.test_queries import ROWS, Sent, make_catalogue, queries

LISTS = ["/books", "/authors", "/tags"]


@pytest.fixture
async def catalogue(client: AsyncClient) -> None:
    """ROWS books with three tags each and one more with seven others, and ROWS + 1 authors."""
    author_id, _ = await make_catalogue(client, tags_per_book=3)
    tags = [f"more{n}" for n in range(7)]
    response = await client.post(
        "/books", json={"title": "More", "author_id": author_id, "tags": tags}
    )
    assert response.status_code == 201, response.text


async def walk(client: AsyncClient, url: str, **params: str | int) -> list[str]:
    """Every id of the list, following `next` links from the first page."""
    seen: list[str] = []
    query: dict[str, str | int] = {**params}
    while True:
        response = await client.get(url, params=query)
        assert response.status_code == 200, response.text
        seen.extend(item["id"] for item in response.json()["items"])
        rels = link_targets(response)
        if "next" not in rels:
            return seen
        path, found = rels["next"]
        assert path == url
        query = {key: values[0] for key, values in found.items()}


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.usefixtures("catalogue")
async def test_pages_without_a_count_hold_the_same_rows(client: AsyncClient, url: str) -> None:
    counted = await walk(client, url, per_page=7)
    uncounted = await walk(client, url, per_page=7, count="none")
    assert uncounted == counted
    assert len(counted) == len(set(counted)) >= 10


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.usefixtures("catalogue")
async def test_without_a_count_meta_has_no_total(client: AsyncClient, url: str) -> None:
    response = await client.get(url, params={"per_page": 2, "page": 2, "count": "none"})
    assert response.status_code == 200, response.text
    assert response.json()["meta"] == {"page": 2, "per_page": 2, "total": None, "pages": None}
    assert len(response.json()["items"]) == 2
    # Nothing leads to a last page that is not known.
    assert {rel: query["page"] for rel, (_, query) in link_targets(response).items()} == {
        "first": ["1"],
        "prev": ["1"],
        "next": ["3"],
    }


@pytest.mark.usefixtures("catalogue")
async def test_the_last_page_without_a_count_has_no_next(client: AsyncClient) -> None:
    last = await client.get("/books", params={"per_page": 16, "page": 2, "count": "none"})
    assert len(last.json()["items"]) == ROWS + 1 - 16
    assert set(link_targets(last)) == {"first", "prev"}
    beyond = await client.get("/books", params={"per_page": 16, "page": 5, "count": "none"})
    assert beyond.json()["items"] == []
    assert {rel: query["page"] for rel, (_, query) in link_targets(beyond).items()} == {
        "first": ["1"],
        "prev": ["4"],
    }


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.usefixtures("catalogue")
async def test_no_count_is_sent_without_count(
    client: AsyncClient, statements: Sent, url: str
) -> None:
    # A full page past the first: with a count, the total is counted.
    params = {"per_page": 2, "page": 2}
    await client.get(url, params=params)
    counted = queries(statements)
    statements.clear()
    await client.get(url, params={**params, "count": "none"})
    uncounted = queries(statements)
    assert len(uncounted) == len(counted) - 1
    assert [s for s in counted if s.startswith("SELECT count(*)")]
    assert not [s for s in uncounted if s.startswith("SELECT count(*)")]


@pytest.mark.usefixtures("catalogue")
async def test_a_cursor_walk_without_a_count(client: AsyncClient) -> None:
    counted = await walk(client, "/books", per_page=4, cursor="")
    uncounted = await walk(client, "/books", per_page=4, cursor="", count="none")
    assert uncounted == counted
    first = await client.get("/books", params={"per_page": 4, "cursor": "", "count": "none"})
    meta = first.json()["meta"]
    assert (meta["total"], meta["pages"]) == (None, None)
    # `count` is not part of the list: a cursor serves with either.
    following = await client.get("/books", params={"per_page": 4, "cursor": meta["next_cursor"]})
    assert following.status_code == 200, following.text
    assert following.json()["meta"]["total"] == ROWS + 1


@pytest.mark.parametrize("value", ["", "estimate", "NONE", "0"])
async def test_an_unknown_count_is_a_422(client: AsyncClient, value: str) -> None:
    response = await client.get("/books", params={"count": value})
    assert error_locs(response) == [["query", "count"]]


async def test_count_is_documented(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in LISTS:
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert parameters["count"]["schema"]["enum"] == ["exact", "none"]
        assert "meta.total" in parameters["count"]["description"]
