"""Every error leaves as `{"errors": [...]}` with the right status; a 500 never leaks detail."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.responses import JSON
from switchboard.domain import errors
from switchboard.domain.errors import ApiError

log = logging.getLogger(__name__)


def error_response(*items: ApiError) -> JSON:
    status = items[0].kind.status
    headers = dict(items[0].headers)
    if status in (400, 401, 403, 404, 405, 413, 415, 422):
        headers.setdefault("x-should-retry", "false")
    return JSON({"errors": [e.to_dict() for e in items]}, status_code=status, headers=headers)


async def api_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def http_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(ApiError(errors.NOT_FOUND, "The requested URL could not be found."))
    if exc.status_code == 405:
        return error_response(
            ApiError(errors.METHOD_NOT_ALLOWED, "This method is not allowed on this resource.")
        )
    return error_response(ApiError(errors.BAD_REQUEST, str(exc.detail)))


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ApiError(errors.UNEXPECTED, "An unexpected error occurred."))
