"""Each list's one sort definition: the allowed `sort` values, their OpenAPI enum, and cursors
resolved into typed values while the query is validated."""

import uuid
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from app.authors.schemas import AuthorQuery
from app.books.schemas import BookQuery
from app.kit.pagination import PageQuery
from app.main import create_app
from app.tags.schemas import TagQuery

QUERIES: dict[str, type[PageQuery]] = {
    "/authors": AuthorQuery,
    "/books": BookQuery,
    "/tags": TagQuery,
}


def sort_parameter(path: str) -> dict[str, Any]:
    operation = create_app().openapi()["paths"][path]["get"]
    [parameter] = [p for p in operation["parameters"] if p["name"] == "sort"]
    return dict(parameter)


@pytest.mark.parametrize(("path", "query"), QUERIES.items())
def test_openapi_lists_each_lists_own_sort_fields_as_an_enum(
    path: str, query: type[PageQuery]
) -> None:
    parameter = sort_parameter(path)
    names = list(query.sorting.columns)
    assert parameter["schema"]["items"]["enum"] == [*names, *(f"-{name}" for name in names)]
    assert parameter["schema"]["type"] == "array"
    # Sent as one comma-separated value: `sort=-published_year,title`.
    assert (parameter["style"], parameter["explode"]) == ("form", False)


@pytest.mark.parametrize("query", QUERIES.values())
def test_every_allowed_sort_is_accepted_and_no_other(query: type[PageQuery]) -> None:
    for name in query.sorting.enum:
        # `relevance` sorts a search's matches, so it comes with one.
        search = {"search": "word"} if "relevance" in name else {}
        made = query.model_validate({"sort": name, **search})
        assert made.sort_keys[0] == (name.removeprefix("-"), name.startswith("-"))
    with pytest.raises(ValidationError):
        query(sort="id")


def test_a_cursor_reaches_the_repository_as_typed_values() -> None:
    made = BookQuery(sort="-created_at", cursor="")
    cursor = made.cursor_after(
        ["2026-01-02T03:04:05+00:00", "0190f6b0-0000-7000-8000-000000000000"]
    )
    after = BookQuery(sort="-created_at", cursor=cursor).after
    assert after is not None
    assert isinstance(after[0], datetime)
    assert after[0].utcoffset() is not None
    assert after[1] == uuid.UUID("0190f6b0-0000-7000-8000-000000000000")


def test_a_cursor_of_another_list_fails_validation_at_the_cursor() -> None:
    cursor = BookQuery(sort="title", cursor="").cursor_after(["A", str(uuid.uuid4())])
    with pytest.raises(ValidationError) as refused:
        BookQuery(sort="-title", cursor=cursor)
    [error] = refused.value.errors()
    assert (error["loc"], error["type"]) == (("cursor",), "cursor_mismatch")
