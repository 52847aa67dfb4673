"""The API documentation: the pages, served with their scripts and styles from Folio itself,
and what the OpenAPI document adds to FastAPI's (readable operation ids, one Problem schema,
the `Link` header every list refers to).

FastAPI's own `/docs` and `/redoc` load Swagger UI and ReDoc from a CDN, so they are blank
wherever the internet cannot be reached. The `fastapi-offline` package ships both bundles
(Swagger UI 5.32, ReDoc 2.5) as files; they are mounted under `/docs/assets`.
"""

import copy
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from app.kit.errors import PROBLEM_SCHEMA
from app.kit.middleware import HttpMiddleware
from app.kit.openapi import add_header_components
from app.kit.pagination import LINK_HEADER
from app.kit.sorting import lists_sent_comma_separated

ASSETS_PATH = "/docs/assets"
ASSETS_DIRECTORY = Path(str(files("fastapi_offline") / "static"))
SWAGGER_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
REDOC_PATH = "/redoc"


class WholeFiles(HttpMiddleware):
    """Serve files whole, never by byte range.

    Large answers are gzipped with the ETag kept, so a range of one coding resumed against the
    other would mix bytes; without ranges no client can ask for that.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        ranges = (b"range", b"if-range")
        headers = [(name, value) for name, value in scope["headers"] if name not in ranges]

        async def send_without_accept_ranges(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message["headers"] if k.lower() != b"accept-ranges"]
                message = {**message, "headers": kept}
            await send(message)

        await self.app({**scope, "headers": headers}, receive, send_without_accept_ranges)


def operation_id(route: APIRoute) -> str:
    """Name each operation after its route: `list_books`, not a path-derived id."""
    return route.name


def with_problem_component(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Wrap `app.openapi` so the document carries the `Problem` schema that errors refer to
    and the `Link` header that lists do, and says how `sort` and `facets` are sent."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("Problem", copy.deepcopy(PROBLEM_SCHEMA))
        add_header_components(document, {"Link": LINK_HEADER})
        lists_sent_comma_separated(document)
        return document

    return openapi


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` (Swagger UI) and `/redoc` from local assets; the app must be built with
    docs_url=None and redoc_url=None."""
    app.openapi = with_problem_component(app)  # type: ignore[method-assign]
    assets = WholeFiles(StaticFiles(directory=ASSETS_DIRECTORY))
    app.mount(ASSETS_PATH, assets, name="docs-assets")

    def local(request: Request, path: str) -> str:
        # Behind a proxy that strips a prefix, every link must carry it back.
        return f"{request.scope.get('root_path', '').rstrip('/')}{path}"

    @app.get(SWAGGER_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=local(request, app.openapi_url or "/openapi.json"),
            title=f"{app.title} API",
            swagger_js_url=local(request, f"{ASSETS_PATH}/swagger-ui-bundle.js"),
            swagger_css_url=local(request, f"{ASSETS_PATH}/swagger-ui.css"),
            swagger_favicon_url=local(request, f"{ASSETS_PATH}/favicon.png"),
            oauth2_redirect_url=local(request, OAUTH2_REDIRECT_PATH),
            # The ids are what generated clients call their methods, so show them.
            swagger_ui_parameters={"displayOperationId": True},
        )

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=local(request, app.openapi_url or "/openapi.json"),
            title=f"{app.title} API",
            redoc_js_url=local(request, f"{ASSETS_PATH}/redoc.standalone.js"),
            redoc_favicon_url=local(request, f"{ASSETS_PATH}/favicon.png"),
            with_google_fonts=False,
        )
