"""The docs pages render in a real browser that can reach no host but Folio's."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.config import Settings
from tests.helpers.server import HOST, ServerProcess, running_server

# Debian's Chromium; Playwright drives it and never downloads a browser of its own.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Every host name but the loopback address fails to resolve: no CDN can answer.
    f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {HOST}",
]
# ReDoc's menu shows its maker's logo from the maker's site, whatever the options; an image,
# not a script or a style, and one that hides itself when it cannot load.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# Generous, for a loaded machine: ReDoc's bundle alone is a megabyte of script to run.
RENDER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def server(fresh_database: Callable[[], Settings], tmp_path: Path) -> Iterator[ServerProcess]:
    with running_server(fresh_database().database_url, tmp_path / "server.log") as server:
        yield server


def open_page(browser: Browser, url: str) -> tuple[Page, list[str], list[str]]:
    """A page at `url`, with the URLs it requested and the errors its scripts raised."""
    page = browser.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, requested, errors


def foreign(requested: list[str], origin: str) -> list[str]:
    """What the page asked of any host but Folio's."""
    local = (origin, "data:", "blob:")
    return [url for url in requested if not url.startswith(local) and url != REDOC_LOGO]


def test_swagger_ui_renders_the_operations_offline(browser: Browser, server: ServerProcess) -> None:
    page, requested, errors = open_page(browser, f"{server.url}/docs")

    page.get_by_text("list_books", exact=True).wait_for(timeout=RENDER_TIMEOUT_MS)

    assert page.get_by_text("create_author", exact=True).count() == 1
    assert errors == []
    assert f"{server.url}/docs/assets/swagger-ui-bundle.js" in requested
    assert foreign(requested, server.url) == []
    page.close()


def test_redoc_renders_the_operations_offline(browser: Browser, server: ServerProcess) -> None:
    page, requested, errors = open_page(browser, f"{server.url}/redoc")

    page.get_by_role("heading", name="List Books").wait_for(timeout=RENDER_TIMEOUT_MS)

    assert errors == []
    assert f"{server.url}/docs/assets/redoc.standalone.js" in requested
    assert foreign(requested, server.url) == []
    page.close()
