"""CORS as Starlette's middleware does it, with a refused preflight answered as a problem.

Starlette answers a preflight it refuses with a `text/plain` 400; every other error of Folio
is problem+json, and a client reading the answer should not have to tell the two apart.
"""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.kit.errors import problem


def is_preflight(scope: Scope, headers: Headers) -> bool:
    """Whether Starlette would read the request as a preflight (its own test)."""
    return (
        scope["method"] == "OPTIONS"
        and "origin" in headers
        and "access-control-request-method" in headers
    )


def as_problem(scope: Scope, refusal: Response) -> Response:
    """Starlette's refusal of a preflight as a 400 problem, with its CORS headers kept."""
    # Its body names what was refused: "Disallowed CORS origin, headers".
    refused = bytes(refusal.body).decode().removeprefix("Disallowed CORS ")
    kept = {
        name: value
        for name, value in refusal.headers.items()
        if name.startswith("access-control-") or name == "vary"
    }
    detail = f"The preflight asks for what another origin may not use: {refused}."
    return problem(Request(scope), 400, "Bad Request", detail, headers=kept)


class Cors(CORSMiddleware):
    """Starlette's CORS, but a refused preflight is a 400 problem."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        if headers is None or not is_preflight(scope, headers):
            await super().__call__(scope, receive, send)
            return
        answer = self.preflight_response(request_headers=headers)
        if answer.status_code == 400:
            answer = as_problem(scope, answer)
        await answer(scope, receive, send)
