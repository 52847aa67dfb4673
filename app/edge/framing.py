"""Requests whose framing is ambiguous, and redirects that must not trust the Host header.

A request with both `Transfer-Encoding` and `Content-Length` (or two `Content-Length`s) can
be read as one request by a proxy and as two by the server behind it: a second request
hides in the first one's body (RFC 9112 §6.1, request smuggling). Such a request is refused
with a 400 and the connection is closed, whichever HTTP parser uvicorn runs.

A path with a trailing slash is redirected to the path without it, by a relative
`Location`, so the redirect never names the host the client claimed.
"""

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.kit.errors import problem
from app.kit.middleware import HttpMiddleware

# Characters RFC 3986 allows in a path segment as they are; the rest are percent-encoded,
# so a backslash cannot turn `/\host` into a redirect to another site.
PATH_SAFE = "/!$&'()*+,;=:@-._~"


def ambiguous_framing(scope: Scope) -> bool:
    """Tell whether the request's length could be read in two ways."""
    names = [name.lower() for name, _ in scope["headers"]]
    lengths = names.count(b"content-length")
    return lengths > 1 or (lengths == 1 and b"transfer-encoding" in names)


def canonical_location(scope: Scope) -> str:
    """The request's path without trailing (or doubled leading) slashes, and its query."""
    path = "/" + quote(scope["path"].strip("/"), safe=PATH_SAFE)
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


class Framing(HttpMiddleware):
    """Refuse ambiguous framing; redirect trailing slashes relatively."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if ambiguous_framing(scope):
            response: Response = problem(
                Request(scope),
                400,
                "Bad Request",
                "A request may carry Content-Length or Transfer-Encoding, not both.",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        if scope["path"] != "/" and scope["path"].endswith("/"):
            response = Response(status_code=307, headers={"Location": canonical_location(scope)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
