"""Body size limits, enforced while the body arrives (a pure ASGI middleware).

A declared `Content-Length` over the limit is refused before any of the body is read; a
chunked body is counted as it arrives and refused at the first chunk past the limit. So
no request ever holds more than its limit in memory.
"""

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.kit.errors import ContentTooLarge, problem
from app.kit.middleware import HttpMiddleware


class BodyLimit(HttpMiddleware):
    """Answer 413 to a body over its path's limit, as soon as that is known."""

    def __init__(self, app: ASGIApp, default: int, per_path: dict[str, int]) -> None:
        super().__init__(app)
        self.default = default
        self.per_path = per_path

    def limit_for(self, path: str) -> int:
        return self.per_path.get(path, self.default)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(
            Request(scope),
            ContentTooLarge.status,
            ContentTooLarge.title,
            f"The body is over this endpoint's limit of {limit} bytes.",
            # The rest of the body is never read, so the connection cannot carry another request.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self.refuse(scope, receive, send, limit)
            return
        received = 0
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await self.refuse(scope, receive, send, limit)
                    # To the app the client has gone away; what it answers to that is dropped.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
