"""Direct routes answer exactly as the router would: same endpoint, same error handlers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.api.direct_routes import DirectRoutesApp


class Refused(Exception):
    pass


class RefusedLoudly(Refused):
    pass


async def endpoint(request: Request) -> Response:
    body = await request.json()
    if body.get("fail") == "refused":
        raise RefusedLoudly("no")
    if body.get("fail") == "crash":
        raise RuntimeError("boom")
    # Which path served it: the router sets `endpoint` in the scope, a direct call does not.
    return JSONResponse({"echo": body, "routed": "endpoint" in request.scope})


async def refused(_request: Request, exc: Exception) -> Response:
    return JSONResponse({"errors": [{"detail": str(exc)}]}, status_code=422)


async def crashed(_request: Request, _exc: Exception) -> Response:
    return JSONResponse({"errors": [{"code": "10001"}]}, status_code=500)


def make_app(*, with_crash_handler: bool = True) -> DirectRoutesApp:
    handlers: dict[type[Exception], object] = {Refused: refused}
    if with_crash_handler:
        handlers[Exception] = crashed
    return DirectRoutesApp(
        direct={("POST", "/v2/messages"): endpoint},
        routes=[
            Route("/v2/messages", endpoint, methods=["POST"]),
            Route("/v2/other", endpoint, methods=["POST"]),
        ],
        exception_handlers=handlers,
    )


def request(
    app: DirectRoutesApp, method: str, path: str, body: object = None, **kwargs: object
) -> httpx.Response:
    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, **kwargs)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, json=body)

    return asyncio.run(main())


def post(app: DirectRoutesApp, path: str, body: object, **kwargs: object) -> httpx.Response:
    return request(app, "POST", path, body, **kwargs)


def test_direct_route_skips_the_router_and_answers_the_same() -> None:
    answer = post(make_app(), "/v2/messages", {"a": 1})
    assert answer.status_code == 200
    assert answer.json() == {"echo": {"a": 1}, "routed": False}


def test_other_paths_and_methods_go_through_the_router() -> None:
    app = make_app()
    assert (post(app, "/v2/other", {"a": 2})).json() == {"echo": {"a": 2}, "routed": True}
    assert request(app, "GET", "/v2/messages").status_code == 405


def test_an_exception_gets_the_handler_of_its_nearest_class() -> None:
    answer = post(make_app(), "/v2/messages", {"fail": "refused"})
    assert answer.status_code == 422
    assert answer.json() == {"errors": [{"detail": "no"}]}


def test_an_unexpected_exception_gets_the_catch_all_handler() -> None:
    answer = post(make_app(), "/v2/messages", {"fail": "crash"})
    assert answer.status_code == 500
    assert answer.json() == {"errors": [{"code": "10001"}]}


def test_an_exception_without_a_handler_propagates_as_through_starlette() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        post(make_app(with_crash_handler=False), "/v2/messages", {"fail": "crash"})


def test_a_request_under_a_root_path_is_routed_as_usual() -> None:
    answer = post(make_app(), "/v2/messages", {"a": 3}, root_path="/api")
    assert answer.json() == {"echo": {"a": 3}, "routed": True}
