"""The retry middleware runs a write again when its transaction was rolled back, with the
same body, and sends only the last run's answer."""

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from app.edge.retry import ATTEMPTS, RetryRolledBack
from app.kit.rollback import mark_rolled_back


class Flaky:
    """An app whose first `rolled_back` runs are rolled back (a 503); later runs echo the body."""

    def __init__(self, rolled_back: int) -> None:
        self.rolled_back = rolled_back
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        self.bodies.append(await request.body())
        if len(self.bodies) <= self.rolled_back:
            mark_rolled_back(request)
            response = JSONResponse({"run": len(self.bodies)}, status_code=503)
        else:
            response = JSONResponse({"run": len(self.bodies)}, status_code=200)
        await response(scope, receive, send)


def client_for(app: Flaky) -> httpx.AsyncClient:
    wrapped = RetryRolledBack(app, streamed=("/imports",))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://test")


async def test_a_rolled_back_write_runs_again_with_the_same_body() -> None:
    app = Flaky(rolled_back=1)
    async with client_for(app) as client:
        answer = await client.post("/books", content=b'{"title": "Again"}')

    assert (answer.status_code, answer.json()) == (200, {"run": 2})
    assert app.bodies == [b'{"title": "Again"}'] * 2


async def test_after_every_attempt_rolled_back_the_last_503_is_sent() -> None:
    app = Flaky(rolled_back=ATTEMPTS + 1)
    async with client_for(app) as client:
        answer = await client.patch("/books/1", content=b"{}")

    assert (answer.status_code, answer.json()) == (503, {"run": ATTEMPTS})
    assert len(app.bodies) == ATTEMPTS


@pytest.mark.parametrize(("method", "path"), [("GET", "/books"), ("POST", "/imports")])
async def test_reads_and_imports_are_left_alone(method: str, path: str) -> None:
    app = Flaky(rolled_back=1)
    async with client_for(app) as client:
        answer = await client.request(method, path)

    # Nobody gave the app a mark to set: its 503 goes out as it is, after one run.
    assert (answer.status_code, len(app.bodies)) == (503, 1)


async def test_a_run_whose_answer_went_out_is_not_run_again() -> None:
    runs: list[int] = []

    async def answers_then_rolls_back(scope: Scope, receive: Receive, send: Send) -> None:
        runs.append(len(runs) + 1)
        await JSONResponse({"run": len(runs)})(scope, receive, send)
        mark_rolled_back(Request(scope))

    wrapped = RetryRolledBack(answers_then_rolls_back, streamed=())
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.post("/books", content=b"{}")

    assert (answer.status_code, answer.json(), runs) == (200, {"run": 1}, [1])
