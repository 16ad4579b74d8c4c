"""Starlette, with the hottest endpoint called straight from the ASGI entry point.

A request through Starlette passes the error middleware, the exception middleware, the
router (matching each route in turn), the route and its request/response wrapper, and the
response's two ASGI messages go back out through three wrapping closures. For `POST
/v2/messages`, where the endpoint itself is lean, that framework work was a tenth of the
server's CPU per accepted message (`python -m bench.accept`, docs/performance.md). Direct
routes skip it: the endpoint is found by one dict lookup on (method, path), and its
exceptions become responses through the same exception handlers the app registered, so a
direct route answers exactly as it would through the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class DirectRoutesApp(Starlette):
    """A Starlette app whose `direct` endpoints, keyed by (method, path), bypass routing.

    The same endpoints must also be among the app's routes, so anything that inspects the
    routing table (and paths under a `root_path`, which are not matched here) still finds
    them.
    """

    def __init__(self, *, direct: Mapping[tuple[str, str], Endpoint], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.direct = dict(direct)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            endpoint = self.direct.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                await self._call_direct(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _call_direct(
        self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send
    ) -> None:
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> Callable[..., Awaitable[Response]] | None:
        """The registered handler of the nearest class of `exc`, as Starlette picks it."""
        for cls in type(exc).__mro__:
            handler = self.exception_handlers.get(cls)
            if handler is not None:
                return handler
        return None
