"""A pure ASGI middleware around every request: its id, its access line and its metrics.

Pure ASGI (not Starlette's `BaseHTTPMiddleware`) so that the request id set here is seen by
the handler, the database events and every log line, and streamed answers are not buffered.
"""

import logging
import time
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.kit.middleware import HttpMiddleware
from app.observe import request_id
from app.observe.metrics import RequestMetrics
from app.observe.metrics import router as metrics_router

access_log = logging.getLogger("app.access")

HEADER = request_id.HEADER.lower().encode("ascii")
UNMATCHED = "unmatched"  # the route label of a path no route serves, whatever the path


def route_template(scope: Scope) -> str:
    """The path template of the route that served the request (`/books/{book_id}`), or of the
    route whose path it names when no route served it: a HEAD (served as a GET of its own
    scope), a request the access check refused, a CORS preflight, a method the route lacks."""
    route: Any = scope.get("route")
    if isinstance(path := getattr(route, "path", None), str):
        return path
    # FastAPI keeps included routers whole; their routes, flattened, match the scope.
    for candidate in iter_route_contexts(getattr(scope.get("app"), "routes", [])):
        if candidate.matches(scope)[0] is not Match.NONE:
            return str(candidate.path)
    return UNMATCHED


def sent_request_id(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return bytes(value)
    return None


class RequestMiddleware(HttpMiddleware):
    """Give each request an id, log one access line for it, and count it in the metrics."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics | None = None) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        rid = request_id.request_id_for(sent_request_id(scope))
        header = (HEADER, rid.encode("ascii"))
        status = 500  # unless an answer starts: an error that escapes becomes Starlette's 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                # A problem body's headers carry the id already (see app/errors.py).
                if all(name.lower() != HEADER for name, _ in headers):
                    headers.append(header)
                message["headers"] = headers
            await send(message)

        token = request_id.current.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # Starlette's outermost handler builds the 500 after this returns; it keeps the id.
            self.finish(scope, status, started)
            raise
        self.finish(scope, status, started)
        request_id.current.reset(token)

    def finish(self, scope: Scope, status: int, started: float) -> None:
        """Log the access line and count the request, while its id is still current."""
        seconds = time.perf_counter() - started
        method, route = scope["method"], route_template(scope)
        access_log.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
            },
        )
        if self.metrics is not None:
            self.metrics.observe(method, route, status, seconds)


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Wrap the app in the request middleware and serve `/metrics` unless metrics are off.

    Call it after every other `add_middleware`, so that it is the outermost: it then times
    and tags the answers of the other middlewares too.
    """
    enabled = settings.metrics_enabled
    app.add_middleware(RequestMiddleware, metrics=RequestMetrics() if enabled else None)
    if enabled:
        app.include_router(metrics_router)
