"""Short links: `/l/{code}` redirects (outside `/v2`) and `GET /v2/messaging_url_domains`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.parsing import pagination
from switchboard.services import links

NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Link not found</title></head>
<body><h1>Link not found</h1><p>This short link does not exist.</p></body></html>
"""


async def follow(request: Request) -> Response:
    """302 to the original URL; a GET counts as a click (a HEAD, e.g. a preview, does not)."""
    code = request.path_params["code"]
    url = None
    if code.isascii() and code.isalnum() and len(code) <= 32:
        url = await links.click(
            request.app.state.runtime,
            code,
            request.headers.get("user-agent"),
            record=request.method == "GET",
        )
    if url is None:
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


async def list_url_domains(request: Request) -> Response:
    await require_account(request)
    page_number, page_size = pagination(request)
    domains = links.url_domains(request.app.state.runtime)
    start = (page_number - 1) * page_size
    return responses.page(domains[start : start + page_size], len(domains), page_number, page_size)


routes = [Route("/messaging_url_domains", list_url_domains, methods=["GET"])]

redirect_routes = [
    Route("/l/{code}", follow, methods=["GET"]),
    Route("/l/{prefix}/{code}", follow, methods=["GET"]),
]
