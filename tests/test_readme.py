"""The README's curl examples, run in order against the app: each answers as its comment says."""

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from app.config import Settings
from app.db.migrations import PROJECT_ROOT
from tests.helpers.serving import serving

# The digest the README shows in its ETags; the real one depends on the ids of the run.
README_DIGEST = "7cb217e96a1e9005"


@dataclass
class Example:
    """One curl command of the README and the comment at its end."""

    arguments: list[str]
    comment: str


def examples() -> list[Example]:
    """The commands of the README's first shell block, continuation lines joined."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = readme.split("## The API at a glance", 1)[1].split("```sh\n", 1)[1].split("```")[0]
    found: list[Example] = []
    pending = ""
    for line in block.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if line.endswith("\\") or pending.count("'") % 2:
            continue
        joined = pending.replace("\\\n", " ")
        command, _, comment = joined.rpartition("  # ")
        if not command:
            command, comment = joined, ""
        found.append(Example(shlex.split(command), comment.strip()))
        pending = ""
    return found


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    show_headers: bool


def request_of(arguments: list[str]) -> Request:
    """What a curl command line asks for (the flags the README uses)."""
    assert arguments[0] == "curl"
    method, headers, body, show_headers, url = "GET", {}, None, False, ""
    words = iter(arguments[1:])
    for word in words:
        if word in ("-s", "-si"):
            show_headers = word == "-si"
        elif word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(": ")
            headers[name] = value
        elif word == "-d":
            body = next(words)
        else:
            url = word
    assert url.startswith("localhost:8000/"), url
    return Request(method, url.removeprefix("localhost:8000"), headers, body, show_headers)


async def test_the_readme_examples_answer_as_their_comments_say(
    fresh_database: Callable[[], Settings],
) -> None:
    found = examples()
    assert len(found) >= 10
    author_id = key_id = "<none yet>"
    digest = README_DIGEST
    async with serving(fresh_database()) as (client, _):
        # The README's key is the admin key the client holds.
        key = client.headers["authorization"].removeprefix("Bearer ")
        for example in found:
            text = shlex.join(example.arguments).replace("<author id>", author_id)
            text = text.replace("$FOLIO_KEY", key).replace("<key_id>", key_id)
            text = text.replace("<id>", author_id).replace(README_DIGEST, digest)
            request = request_of(shlex.split(text))
            answer = await client.request(
                request.method, request.path, headers=request.headers, content=request.body
            )
            status = re.match(r"(\d{3})\b", example.comment)
            if status and request.show_headers:  # the reader sees the status only with -i
                assert answer.status_code == int(status.group(1)), (text, answer.text)
            else:
                assert answer.status_code < 300, (text, answer.text)
            if etag := re.search(r'ETag: ("[^"]+")', example.comment):
                expected = etag.group(1).replace(README_DIGEST, digest)
                assert answer.headers["etag"] == expected, text
            if example.comment.startswith("{"):
                assert answer.json() == json.loads(example.comment.split()[0])
            if request.path == "/authors" and request.method == "POST":
                author_id = answer.json()["id"]
            if request.path == "/api-keys" and request.method == "POST":
                key_id = answer.json()["id"]
            if request.path == "/books" and request.method == "POST":
                author = await client.get(f"/authors/{author_id}")
                digest = author.headers["etag"].strip('"').split("-")[1]
