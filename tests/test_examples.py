"""Every shell example of the README and the documentation site, run as a reader would: a page's
blocks in order, in one bash session, against a fresh server; each prints what the page shows."""

import difflib
import os
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from app.config import Settings
from app.db.migrations import PROJECT_ROOT
from bench.server import make_key
from tests.helpers.databases import ScratchDatabase
from tests.helpers.examples import (
    EXAMPLE_ADDRESS,
    Example,
    aligned,
    examples,
    lines_of,
    pages,
    place,
    shows,
)
from tests.helpers.server import HOST, ServerProcess, problems_in_log

# The examples follow `make run`, which serves SQLite.
pytestmark = pytest.mark.sqlite

DONE = "@@ folio example done @@"
PAGE_TIMEOUT = 60
# Pages run at once, each with its server: starting a server is most of a page's time.
PAGES_AT_ONCE = 4
READY_TIMEOUT = 60
PAGE_TEST = "test_the_examples_of_a_page_print_what_it_shows"
EXAMPLES = {page: examples(page)[0] for page in pages()}
RUN = {
    page: blocks
    for page, found in EXAMPLES.items()
    if (blocks := [example for example in found if not example.not_run])
}
NOT_RUN = [example for found in EXAMPLES.values() for example in found if example.not_run]


@pytest.fixture(scope="module")
def printed(
    request: pytest.FixtureRequest,
    template: ScratchDatabase,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[Path, Future[list[str]]]]:
    """Each selected page run on a server of its own, a few pages at a time: what went wrong
    on each."""
    database = template.copy(tmp_path_factory.mktemp("examples"))
    # An admin key made as the README makes it; each page's database is a copy holding it.
    key = make_key(database.url, "admin", "me")
    names = {item.name for item in request.session.items}
    selected = [page for page in RUN if f"{PAGE_TEST}[{place(page)}]" in names]
    directories = {page: tmp_path_factory.mktemp(page.stem) for page in selected}
    with ThreadPoolExecutor(max_workers=PAGES_AT_ONCE) as pool:
        yield {
            page: pool.submit(serve_and_run, RUN[page], database, key, directory)
            for page, directory in directories.items()
        }
    database.drop()


def serve_and_run(
    blocks: list[Example], database: ScratchDatabase, key: str, directory: Path
) -> list[str]:
    """Run the blocks against a fresh server on a copy of the database; what went wrong."""
    copy = database.copy(directory)
    rate = str(Settings.model_fields["rate_limit_per_minute"].default)
    server = ServerProcess(copy.url, directory / "server.log", RATE_LIMIT_PER_MINUTE=rate)
    server.key = key
    try:
        server.launch()
        server.wait_ready(timeout=READY_TIMEOUT)
        problems = run_page(blocks, f"{HOST}:{server.port}", key, directory)
    finally:
        server.stop()
        copy.drop()
    return problems + [f"the server logged: {line}" for line in problems_in_log(server.log_text())]


def script(blocks: list[Example], address: str) -> str:
    """One bash script of the blocks, each followed by a line that marks its end in stdout."""
    parts = ["set -eo pipefail"]
    for block in blocks:
        parts += [block.script.replace(EXAMPLE_ADDRESS, address), f"printf '\\n{DONE}\\n'"]
    return "\n".join(parts) + "\n"


def run_page(blocks: list[Example], address: str, key: str, directory: Path) -> list[str]:
    """Run the blocks in a fresh shell in `directory`; the problems with what they printed."""
    (directory / "page.sh").write_text(script(blocks, address))
    env = {"PATH": os.environ["PATH"], "HOME": str(directory), "LANG": "C.UTF-8"}
    ran = subprocess.run(
        ["bash", "page.sh"],
        cwd=directory,
        env={**env, "FOLIO_KEY": key},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
        check=False,
    )
    printed = ran.stdout.split(f"\n{DONE}\n")
    failed = min(len(printed) - 1, len(blocks)) if ran.returncode else len(blocks)
    problems = []
    for block, output in zip(blocks[:failed], printed, strict=False):
        if not shows(block.output or "", output):
            expected, got = aligned(block.output or "", output), lines_of(output)
            diff = "\n".join(difflib.unified_diff(expected, got, "shown", "printed", lineterm=""))
            problems.append(f"{block.where} printed something else:\n{diff}")
    if failed < len(blocks):
        failure = f"exited with {ran.returncode}:\n{printed[-1]}{ran.stderr}"
        problems.append(f"{blocks[failed].where} {failure}")
    return problems


@pytest.mark.parametrize("page", list(RUN), ids=lambda page: str(place(page)))
def test_the_examples_of_a_page_print_what_it_shows(
    page: Path, printed: dict[Path, Future[list[str]]]
) -> None:
    problems = printed[page].result()
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("example", NOT_RUN, ids=lambda example: example.where)
def test_an_example_that_is_not_run_says_why(example: Example) -> None:
    pytest.skip(f"{example.where} is not run: {example.not_run}")


def test_every_example_is_marked_as_the_test_reads_it() -> None:
    wrong = [problem for page in pages() for problem in examples(page)[1]]
    assert not wrong, "\n".join(wrong)


def test_the_readme_links_to_pages_that_exist() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(((?!https?:|#)[^)#]+)", readme)
    assert targets
    assert [target for target in targets if not (PROJECT_ROOT / target).exists()] == []


def test_a_wrong_output_or_a_failing_block_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '```sh\necho one; echo two\n```\n\n```text title="output"\none\n...\n```\n'
        "```sh\necho 'not shown'\n```\n<!-- not run: it would fail -->\n```sh\nfalse\n```\n"
        "```sh\nfalse\n```\n"
    )
    blocks, wrong = examples(page)
    assert wrong == []
    assert [block.not_run for block in blocks] == [None, None, "it would fail", None]
    problems = run_page([b for b in blocks if not b.not_run], EXAMPLE_ADDRESS, "", tmp_path)
    assert [problem.split(" ", 2)[1] for problem in problems] == ["printed", "exited"]
