"""The imports API: uploads answer 202 at once, and imports can be read, listed and cancelled."""

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.config import Settings
from app.db.engine import Database
from app.state import state_of
from tests.helpers.catalogue import MISSING_ID
from tests.helpers.imports import (
    CSV,
    NDJSON,
    imported,
    ndjson,
    served,
    stored_chunks,
    upload,
)

ROW = ndjson({"title": "Kindred", "author": "Octavia E. Butler"})


async def test_upload_is_accepted_with_location_and_the_queued_import(
    client: AsyncClient, database: Database
) -> None:
    response = await client.post(
        "/imports", content=ROW, headers={"Content-Type": NDJSON}, params={"on_duplicate": "skip"}
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/imports/{job['id']}"
    assert response.headers["etag"] == '"1"'
    assert response.headers["retry-after"]
    assert job["status"] == "queued"
    assert job["format"] == "ndjson"
    assert job["on_duplicate"] == "skip"
    assert job["dry_run"] is False
    assert job["rows_total"] is None
    assert job["error"] is None
    assert job["rows_processed"] == job["rows_created"] == job["rows_failed"] == 0
    assert job["started_at"] is None
    assert job["finished_at"] is None
    assert job["version"] == 1
    read = await client.get(f"/imports/{job['id']}")
    assert read.status_code == 200
    assert read.json() == job
    assert read.headers["etag"] == '"1"'
    assert read.headers["retry-after"]
    unchanged = await client.get(f"/imports/{job['id']}", headers={"If-None-Match": '"1"'})
    assert unchanged.status_code == 304
    events = (await client.get(f"/imports/{job['id']}/events")).json()
    assert [event["type"] for event in events["items"]] == ["queued"]
    assert events["items"][0]["detail"] == {"size_bytes": len(ROW)}
    assert await stored_chunks(database, job["id"]) == 1


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "text/csv; charset=shift_jis",
        "application/x-ndjson; charset=utf-32",
        None,
    ],
)
async def test_other_content_types_are_a_415(client: AsyncClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = await client.post("/imports", content=ROW, headers=headers)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/imports")).json()["meta"]["total"] == 0


async def test_csv_with_a_charset_is_accepted(client: AsyncClient) -> None:
    job = await upload(client, b"title,author\nx,y\n", "text/csv; charset=UTF-8")
    assert job["format"] == "csv"


async def test_a_body_over_max_import_bytes_is_a_413_and_stores_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    state_of(app).settings = state_of(app).settings.model_copy(update={"max_import_bytes": 10})

    async def body() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"0123456789"

    # Streamed without Content-Length, so the limit is found while reading.
    streamed = await client.post("/imports", content=body(), headers={"Content-Type": CSV})
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"
    declared = await client.post("/imports", content=b"x" * 11, headers={"Content-Type": CSV})
    assert declared.status_code == 413
    assert (await client.get("/imports")).json()["meta"]["total"] == 0
    assert (
        await client.post("/imports", content=b"x" * 10, headers={"Content-Type": CSV})
    ).status_code == 202


@pytest.mark.parametrize(
    "params", [{"on_duplicate": "replace"}, {"dry_run": "maybe"}, {"unknown": "1"}]
)
async def test_bad_parameters_are_a_422(client: AsyncClient, params: dict[str, str]) -> None:
    response = await client.post(
        "/imports", content=ROW, headers={"Content-Type": NDJSON}, params=params
    )
    assert response.status_code == 422
    assert (await client.get("/imports")).json()["meta"]["total"] == 0


async def test_idempotency_key_replays_the_first_answer(client: AsyncClient) -> None:
    headers = {"Content-Type": NDJSON, "Idempotency-Key": "import-1"}
    first = await client.post("/imports", content=ROW, headers=headers)
    again = await client.post("/imports", content=ROW, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post("/imports", content=ROW + ROW, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    dry = await client.post("/imports", content=ROW, headers=headers, params={"dry_run": "true"})
    assert dry.status_code == 422
    assert (await client.get("/imports")).json()["meta"]["total"] == 1


async def test_list_is_newest_first_and_filters_by_status(client: AsyncClient) -> None:
    ids = [(await upload(client, ROW))["id"] for _ in range(3)]
    cancelled = await client.delete(f"/imports/{ids[0]}")
    assert cancelled.status_code == 202
    listed = await client.get("/imports")
    assert [job["id"] for job in listed.json()["items"]] == ids[::-1]
    assert 'rel="first"' in listed.headers["link"]
    oldest_first = await client.get("/imports", params={"sort": "created_at"})
    assert [job["id"] for job in oldest_first.json()["items"]] == ids
    queued = (await client.get("/imports", params={"status": "queued"})).json()
    assert [job["id"] for job in queued["items"]] == ids[:0:-1]
    assert queued["meta"]["total"] == 2
    assert (await client.get("/imports", params={"status": "paused"})).status_code == 422
    assert (await client.get("/imports", params={"sort": "status"})).status_code == 422


async def test_cancel_a_queued_import_then_again_is_a_409(
    client: AsyncClient, database: Database
) -> None:
    job = await upload(client, ROW)
    response = await client.delete(f"/imports/{job['id']}")
    assert response.status_code == 202
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["finished_at"] is not None
    assert cancelled["version"] == 2
    assert "retry-after" not in response.headers
    events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
    assert [event["type"] for event in events] == ["queued", "cancelled"]
    assert await stored_chunks(database, job["id"]) == 0
    again = await client.delete(f"/imports/{job['id']}")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("suffix", ["", "/errors", "/events"])
async def test_unknown_and_malformed_ids(client: AsyncClient, suffix: str) -> None:
    assert (await client.get(f"/imports/{MISSING_ID}{suffix}")).status_code == 404
    assert (await client.get(f"/imports/nope{suffix}")).status_code == 422
    assert (await client.delete(f"/imports/{MISSING_ID}")).status_code == 404


async def test_event_stream_sends_past_events_and_resumes_after_last_event_id(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        job = await imported(client, database, settings, ROW)
        stream = {"Accept": "text/event-stream"}
        response = await client.get(f"/imports/{job['id']}/events", headers=stream)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        blocks = [block for block in response.text.split("\n\n") if block]
        types = [block.split("\n")[1] for block in blocks]
        assert types == [
            f"event: {name}" for name in ("queued", "started", "progress", "succeeded")
        ]
        second_id = blocks[1].split("\n")[0].removeprefix("id: ")
        resumed = await client.get(
            f"/imports/{job['id']}/events", headers={**stream, "Last-Event-ID": second_id}
        )
        assert [block.split("\n")[1] for block in resumed.text.split("\n\n") if block] == [
            "event: progress",
            "event: succeeded",
        ]
        last_id = blocks[-1].split("\n")[0].removeprefix("id: ")
        after_all = await client.get(
            f"/imports/{job['id']}/events", headers={**stream, "Last-Event-ID": last_id}
        )
        assert after_all.status_code == 200
        assert after_all.text == ""


async def test_event_stream_follows_a_running_import_to_its_end(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database, import_runner=True, import_poll_seconds=0.05) as (
        client,
        _database,
        _settings,
    ):
        job = await upload(client, ROW)
        response = await asyncio.wait_for(
            client.get(f"/imports/{job['id']}/events", headers={"Accept": "text/event-stream"}),
            timeout=30,
        )
        assert response.text.rstrip().split("\n\n")[-1].split("\n")[1] == "event: succeeded"
        assert (await client.get(f"/imports/{job['id']}")).json()["status"] == "succeeded"
