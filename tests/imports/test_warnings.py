"""`GET /imports/{id}/warnings` lists the repairs made in the rows an import applied."""

from collections.abc import Callable

import pytest
from httpx import AsyncClient

from app.config import Settings
from tests.helpers.catalogue import MISSING_ID
from tests.helpers.imports import CSV, imported, served, upload, warnings_of

# Each ISBN lost its leading zero in a spreadsheet, and each passes the ISBN-10 checksum.
LOST = ["439023483", "439554934", "316015849", "345444884", "140275363"]


def rows(*cells: str) -> bytes:
    return ("title,author,isbn\n" + "".join(f"{cell}\n" for cell in cells)).encode()


async def test_warnings_are_paged_by_line_and_counted(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database, import_batch_rows=2) as (client, database, settings):
        body = rows(*(f"T{n},A,{isbn}" for n, isbn in enumerate(LOST)))
        job = await imported(client, database, settings, body, content_type=CSV)
        assert (job["rows_created"], job["warnings"]) == (5, 5)
        first = await client.get(f"/imports/{job['id']}/warnings", params={"per_page": 2})
        assert first.status_code == 200
        page = first.json()
        assert page["meta"]["total"] == 5
        assert [item["line"] for item in page["items"]] == [2, 3]
        assert set(page["items"][0]) == {"line", "loc", "msg", "type", "value"}
        assert 'rel="next"' in first.headers["link"]
        newest = await client.get(
            f"/imports/{job['id']}/warnings", params={"sort": "-line", "per_page": 2}
        )
        assert [item["line"] for item in newest.json()["items"]] == [6, 5]
        assert (
            await client.get(f"/imports/{job['id']}/warnings", params={"sort": "msg"})
        ).status_code == 422
        events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
        progress = [event["detail"]["warnings"] for event in events if event["type"] == "progress"]
        assert progress == [2, 4, 5]


async def test_rows_not_applied_leave_no_warning(fresh_database: Callable[[], Settings]) -> None:
    async with served(fresh_database) as (client, database, settings):
        await imported(client, database, settings, rows(f"Old,A,{LOST[0]}"), content_type=CSV)
        body = rows(
            f"Again,A,{LOST[0]}",  # a duplicate, skipped
            f",A,{LOST[1]}",  # no title: an error
            f"New,A,{LOST[2]}",
        )
        job = await imported(
            client, database, settings, body, content_type=CSV, on_duplicate="skip"
        )
        assert (job["rows_created"], job["rows_skipped"], job["rows_failed"]) == (1, 1, 1)
        assert [warning["line"] for warning in await warnings_of(client, job["id"])] == [4]
        assert job["warnings"] == 1
        dry = await imported(
            client, database, settings, rows(f"Dry,A,{LOST[3]}"), content_type=CSV, dry_run="true"
        )
        assert dry["warnings"] == 1  # a dry run reports what the import would repair


@pytest.mark.parametrize("import_id", [MISSING_ID, "nope"])
async def test_warnings_of_an_unknown_import(client: AsyncClient, import_id: str) -> None:
    response = await client.get(f"/imports/{import_id}/warnings")
    assert response.status_code == (404 if import_id == MISSING_ID else 422)


async def test_a_queued_import_has_no_warnings_yet(client: AsyncClient) -> None:
    job = await upload(client, rows(f"T,A,{LOST[0]}"), CSV)
    assert await warnings_of(client, job["id"]) == []
