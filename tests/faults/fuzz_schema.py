"""Schemathesis against the app's own OpenAPI document, on a real server: every operation, valid
and invalid data; no 5xx, no answer the document does not describe, every problem complete."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import schemathesis
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import Settings
from app.main import create_app
from tests.helpers.databases import ScratchDatabase
from tests.helpers.problems import PROBLEM_FIELDS
from tests.helpers.server import ServerProcess, running_server

MAX_EXAMPLES = 30  # per operation and generation mode


@pytest.fixture(scope="module")
def fuzzed_server(
    template: ScratchDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("fuzz")
    database = template.copy(directory)
    try:
        with running_server(database.url, Path(directory) / "server.log") as server:
            yield server
    finally:
        database.drop()


# An NDJSON upload's schema is a string: it goes on the wire as the text it is, like CSV.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# The document the app serves, built without a database (only the lifespan connects). Loaded
# at import, because schemathesis' lazy `from_fixture` loader does not work with pytest 9.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,  # the same cases on every run
    database="none",  # nothing written to .hypothesis/
)


def problem_details(_ctx: CheckContext, response: Response, _case: Case[Any]) -> bool | None:
    """Every 4xx and 5xx is an RFC 9457 problem with all its fields, naming the request path."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type == "application/problem+json", f"{content_type!r} for a problem"
    body = response.json()
    assert isinstance(body, dict), body
    missing = PROBLEM_FIELDS - body.keys()
    assert not missing, f"problem without {sorted(missing)}: {body}"
    assert body["status"] == response.status_code, body
    sent_path = unquote(urlsplit(str(response.request.url)).path)
    # The path as received, decoded (tests/test_errors.py holds the app to it).
    assert body["instance"] == sent_path, f"instance {body['instance']!r} for {sent_path!r}"
    return True


@schema.parametrize()
def test_every_operation_answers_as_its_schema_says(
    case: Case[Any], fuzzed_server: ServerProcess
) -> None:
    case.call_and_validate(
        base_url=fuzzed_server.url,
        headers=fuzzed_server.headers,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            problem_details,
        ],
    )
