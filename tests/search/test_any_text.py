"""No search text whatever produces a 5xx: arbitrary text through the API, on either database,
as `search` and as `q` (which reaches a trigram index)."""

from typing import Any

from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.catalogue import create_author, create_book

# The characters that full-text query languages read as syntax, and some that fold oddly.
SYNTAX = list("\"'-*:^()&|!<>{}[]~+,.;/\\%_ \t\n") + ["NEAR", "AND", "OR", "NOT", "é", "ﬁ", "İ"]
TEXT = st.one_of(
    st.text(max_size=250),
    st.lists(st.sampled_from([*SYNTAX, "harry", "pot", "x"]), max_size=30).map("".join),
)


@settings(
    max_examples=150,
    deadline=None,
    # The client and its rolled-back transaction may serve every example.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=TEXT, highlight=st.booleans())
async def test_no_text_makes_a_server_error(
    client: AsyncClient, text: str, highlight: bool
) -> None:
    if (await client.get("/books", params={"per_page": 1})).json()["meta"]["total"] == 0:
        author = await create_author(client, "Harry Pot-ter")
        await create_book(client, author["id"], 'Harry\'s "NEAR(" multi-agent: *^', tags=["x"])
    params: dict[str, Any] = {"search": text, "highlight": highlight}
    for path in ("/books", "/authors"):
        response = await client.get(path, params=params)
        assert response.status_code in (200, 422), (text, response.text)
        if response.status_code == 422:
            assert ["query", "search"] in [e["loc"] for e in response.json()["errors"]]
        response = await client.get(path, params={"q": text})
        assert response.status_code in (200, 422), (text, response.text)


async def test_q_with_glob_brackets_and_wide_characters(client: AsyncClient) -> None:
    """Such a pattern crashed SQLite 3.40's trigram GLOB; `q` must not send it there."""
    author = await create_author(client, "éa?;]]& x")
    await create_book(client, author["id"], "-\u0301*?>-北c;]*&")
    for text in ("éa?;]]&", "-\u0301*?>-北c;]*&", "a[b]c", "*?*"):
        for path in ("/books", "/authors"):
            response = await client.get(path, params={"q": text})
            assert response.status_code == 200, (path, text, response.text)
    assert len((await client.get("/authors", params={"q": "éa?;]]&"})).json()["items"]) == 1
    assert len((await client.get("/books", params={"q": "北c;]*"})).json()["items"]) == 1
