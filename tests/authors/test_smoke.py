from httpx import AsyncClient


async def test_create_then_get(client: AsyncClient) -> None:
    created = await client.post("/authors", json={"name": " Le Guin "})
    assert created.status_code == 201, created.text
    author = created.json()
    assert author["name"] == "Le Guin"
    fetched = await client.get(f"/authors/{author['id']}")
    assert fetched.json()["books"] == []


async def test_isolated(client: AsyncClient) -> None:
    listed = await client.get("/authors")
    assert listed.json()["meta"]["total"] == 0
