"""Connections before they are requests: a deadline for each request's headers, and a cap
on open connections that answers 503 instead of running out of file descriptors.

uvicorn times a connection out only while it is idle after an answer (`timeout_keep_alive`),
and any byte that arrives cancels that: a client that never finishes its headers, or sends
one byte now and then, holds its connection, and a descriptor, for ever. Enough of them and
`accept()` fails with EMFILE, which asyncio logs with a traceback thousands of times a second,
while no new client, a health probe included, gets in.

So `python -m app` serves with these protocols, uvicorn's own with two additions:
- from the moment a connection is made, or an answer has been sent on it, the client has
  HEADER_TIMEOUT_SECONDS to complete the next request's headers, or the connection is closed;
- past MAX_CONNECTIONS open connections (lowered to fit the process's descriptor limit), a
  new connection is answered with a 503 problem as soon as its request line arrives, and
  closed. Such connections last a moment, and asyncio accepts at most a backlog's worth of
  connections at a time before any protocol sees them, so the descriptors kept above the cap
  suffice for them and `accept()` does not run out.
"""

import asyncio
import logging
import re
import resource
from collections.abc import Callable
from functools import cache
from urllib.parse import unquote

import h11
from starlette.requests import Request
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import get_settings
from app.edge.process import DESCRIPTOR_RESERVE, accept_backlog
from app.kit.errors import Unavailable, problem

logger = logging.getLogger(__name__)

# How long a connection over the cap may take to send the request line its 503 answers.
REFUSED_SECONDS = 0.25
OVER_CAP = "The server has as many connections open as it serves at once; retry shortly."
REQUEST_LINE = re.compile(rb"^[A-Z]+ (/[^ ?]*)[^ ]* HTTP/1\.[01]\r?\n")


@cache
def connection_cap() -> int:
    """MAX_CONNECTIONS, lowered where the descriptor limit would not hold that many, with
    room above it for a backlog's worth of connections being accepted and refused."""
    wanted = get_settings().max_connections
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    fits = max(1, soft - DESCRIPTOR_RESERVE - 2 * accept_backlog(soft))
    if fits < wanted:
        logger.warning(
            "MAX_CONNECTIONS=%d lowered to %d: the process may open %d files", wanted, fits, soft
        )
    return min(wanted, fits)


class Gate:
    """How many connections this process serves, against its cap."""

    def __init__(self) -> None:
        self.served = 0

    def admit(self) -> bool:
        if self.served >= connection_cap():
            return False
        self.served += 1
        return True

    def leave(self) -> None:
        self.served -= 1


GATE = Gate()


def refusal(data: bytes) -> bytes | None:
    """The whole answer, as bytes, of a connection over the cap whose first bytes are `data`:
    a 503 problem about the path of its request line; None if they hold no request line."""
    line = REQUEST_LINE.match(data)
    if line is None:
        return None
    scope = {"type": "http", "path": unquote(line[1].decode("latin-1")), "headers": []}
    answer = problem(
        Request(scope),
        Unavailable.status,
        Unavailable.title,
        OVER_CAP,
        headers={"Retry-After": "1", "Connection": "close"},
    )
    head = [b"HTTP/1.1 503 Service Unavailable"]
    head += [name + b": " + value for name, value in answer.raw_headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + bytes(answer.body)


class Guard:
    """What Folio adds to one connection: its place under the cap (or its refusal), and the
    deadline for the headers of its next request."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.Transport,
        waiting_for_headers: Callable[[], bool],
    ) -> None:
        self.loop = loop
        self.transport = transport
        self.waiting_for_headers = waiting_for_headers
        self.admitted = GATE.admit()
        self.timer: asyncio.TimerHandle | None = None
        self.arm()

    @property
    def refused(self) -> bool:
        return not self.admitted

    def arm(self) -> None:
        """Start the time the client has to complete a request's headers."""
        self.cancel()
        seconds = get_settings().header_timeout_seconds if self.admitted else REFUSED_SECONDS
        self.timer = self.loop.call_later(seconds, self.expire)

    def expire(self) -> None:
        if self.waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()

    def refuse(self, data: bytes) -> None:
        """Answer a connection over the cap from its first bytes, and close it."""
        if not self.transport.is_closing():
            answer = refusal(data)
            if answer is not None:
                self.transport.write(answer)
            self.transport.close()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def close(self) -> None:
        """The connection is gone: stop its timer and give its place back."""
        self.cancel()
        if self.admitted:
            self.admitted = False
            GATE.leave()


class FolioHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the connection cap and a header deadline."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A request whose headers are complete has a cycle that is not answered yet.
        self.guard = Guard(
            self.loop, transport, lambda: self.cycle is None or self.cycle.response_complete
        )

    def data_received(self, data: bytes) -> None:
        if self.guard.refused:
            self.guard.refuse(data)
        else:
            super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # uvicorn arms its keep-alive timer when the connection waits for another request.
        if self.timeout_keep_alive_task is not None:
            self.guard.arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.close()
        super().connection_lost(exc)


class FolioH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the connection cap and a header deadline."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # h11 keeps the client's side IDLE until a request's headers are complete.
        self.guard = Guard(self.loop, transport, lambda: self.conn.their_state is h11.IDLE)

    def data_received(self, data: bytes) -> None:
        if self.guard.refused:
            self.guard.refuse(data)
        else:
            super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:
            self.guard.arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.close()
        super().connection_lost(exc)
