"""How answers travel, whatever route made them: HEAD wherever GET is, gzip when accepted.

FastAPI routes serve only the methods they declare, so without help a HEAD is a 405 even on
`/health/live`. HEAD is answered by running the GET and sending its status and headers alone,
so the two can never disagree (Content-Length and Content-Encoding included).

Compressed answers keep the route's strong ETag. RFC 9110 (section 8.8.3) would have a
content-coded representation carry a tag of its own, for caches that keep both codings and
for byte ranges. Folio serves no byte ranges (not even of its docs assets), its tags name the
stored state of a resource, and a tag read from a compressed GET must stay usable in
`If-Match`, which compares strongly: a weakened W/ tag would make every such write a 412.
"""

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Message, Receive, Scope, Send

from app.kit.middleware import HttpMiddleware

# Smaller answers gain too little from compression to pay for it.
GZIP_MINIMUM_BYTES = 1024
# zlib's own default: nearly the ratio of level 9 at a fraction of its time.
GZIP_LEVEL = 6


class HeadAsGet(HttpMiddleware):
    """Answer HEAD as the GET of the same URL would, without its body."""

    def handles(self, scope: Scope) -> bool:
        return bool(scope["method"] == "HEAD")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:

        async def send_without_body(message: Message) -> None:
            if message["type"] in ("http.response.body", "http.response.pathsend"):
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def install_response_middleware(app: FastAPI) -> None:
    """Compress large answers, then answer HEAD outside that, so its headers match the GET's."""
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    # Added last, so it runs first: it sees HEAD and the compressor sees a GET.
    app.add_middleware(HeadAsGet)
