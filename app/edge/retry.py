"""Run a write again when PostgreSQL rolled its transaction back to break a deadlock or a
serialization conflict (a pure ASGI middleware).

PostgreSQL ends one of the transactions that wait for each other in a circle; nothing of that
one was committed, and the request run again meets the rows as the others left them. Writes
take their locks in one order where they can (see app/books/repository.py), but an edit that
locks a book and then its new authors, beside a cascade delete that locks an author and then
their books, cannot. The client gets the second run's answer; only after ATTEMPTS runs does
it get the 503 to retry itself.

The body is kept to be sent again: it is a JSON body, under MAX_BODY_BYTES. Imports stream
their files to disk and are left alone.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db.session import SAFE_METHODS
from app.kit.middleware import HttpMiddleware
from app.kit.rollback import SCOPE_KEY, Rollback

ATTEMPTS = 3


class RetryRolledBack(HttpMiddleware):
    """Run a write whose transaction PostgreSQL chose to roll back again, up to ATTEMPTS times."""

    def __init__(self, app: ASGIApp, streamed: tuple[str, ...]) -> None:
        super().__init__(app)
        self.streamed = streamed

    def handles(self, scope: Scope) -> bool:
        return scope["method"] not in SAFE_METHODS and not scope["path"].startswith(self.streamed)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages = await read_request(receive)
        for attempt in range(1, ATTEMPTS + 1):
            run = Run(send, again=attempt < ATTEMPTS)
            # In the scope itself, not a copy: what the app adds to it (the route that served
            # the request) is read by the middlewares around this one.
            scope[SCOPE_KEY] = run.rollback
            await self.app(scope, replay(messages, receive), run.send)
            if not run.dropped:
                return


class Run:
    """One run of the request. Its response goes out unless, as the response starts, its
    transaction was rolled back and another run is left."""

    def __init__(self, send: Send, *, again: bool) -> None:
        self.rollback = Rollback(again=again)
        self.forward = send
        self.dropped = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.dropped = self.rollback.again and self.rollback.happened
        if not self.dropped:
            await self.forward(message)


async def read_request(receive: Receive) -> list[Message]:
    """The request's messages up to the end of its body, or to the client going away."""
    messages = [await receive()]
    while messages[-1]["type"] == "http.request" and messages[-1].get("more_body", False):
        messages.append(await receive())
    return messages


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives the kept messages again, then whatever the client sends next."""
    pending = list(messages)

    async def receive_again() -> Message:
        return pending.pop(0) if pending else await receive()

    return receive_again
