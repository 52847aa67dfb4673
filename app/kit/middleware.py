"""The shape of Folio's pure ASGI middlewares: the HTTP requests a middleware handles go to its
`handle`, everything else (the lifespan, and requests it leaves alone) straight to the app."""

from abc import ABC, abstractmethod

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware(ABC):
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def handles(self, _scope: Scope) -> bool:
        """Whether the middleware has anything to do with this HTTP request."""
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.handles(scope):
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request, passing it on to `self.app` as the middleware sees fit."""
