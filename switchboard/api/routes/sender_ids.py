"""`/v2/short_codes`, `/v2/alphanumeric_sender_ids` and `/v2/sandbox/short_codes`.

Short codes come from carriers; in the sandbox `POST /v2/sandbox/short_codes` makes one.
That path exists only in sandbox mode (404 in gateway mode, like any unknown path).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.models import AlphanumericSenderIdCreate, ShortCodeCreate, ShortCodeUpdate
from switchboard.api.parsing import json_body, pagination, validate
from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.resources import profile_alphanumeric_sender_id, profile_short_code
from switchboard.services import sender_ids
from switchboard.services.runtime import Runtime

PROFILE_FILTER = "filter[messaging_profile_id]"


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def sandbox_create_short_code(request: Request) -> Response:
    rt = _runtime(request)
    if rt.settings.mode != "sandbox":
        raise ApiError(errors.NOT_FOUND, "The requested URL could not be found.")
    account_id = await require_account(request)
    body = validate(ShortCodeCreate, await json_body(request))
    row = await sender_ids.create_short_code(
        rt,
        account_id,
        short_code=body.short_code,
        country_code=body.country_code,
        messaging_profile_id=body.messaging_profile_id,
        tags=body.tags,
    )
    return responses.data(profile_short_code(row))


async def list_short_codes(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    rows, total = await sender_ids.list_short_codes(
        _runtime(request),
        account_id,
        messaging_profile_id=request.query_params.get(PROFILE_FILTER),
        page_number=page_number,
        page_size=page_size,
    )
    return responses.page([profile_short_code(r) for r in rows], total, page_number, page_size)


async def get_short_code(request: Request) -> Response:
    account_id = await require_account(request)
    row = await sender_ids.get_short_code(_runtime(request), account_id, request.path_params["id"])
    return responses.data(profile_short_code(row))


async def update_short_code(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(ShortCodeUpdate, await json_body(request))
    row = await sender_ids.update_short_code(
        _runtime(request), account_id, request.path_params["id"], body.given()
    )
    return responses.data(profile_short_code(row))


async def create_alphanumeric(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(AlphanumericSenderIdCreate, await json_body(request))
    row = await sender_ids.create_alphanumeric(
        _runtime(request),
        account_id,
        sender_id=body.alphanumeric_sender_id,
        messaging_profile_id=body.messaging_profile_id,
        us_long_code_fallback=body.us_long_code_fallback,
    )
    return responses.data(profile_alphanumeric_sender_id(row))


async def list_alphanumeric(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    rows, total = await sender_ids.list_alphanumeric(
        _runtime(request),
        account_id,
        messaging_profile_id=request.query_params.get(PROFILE_FILTER),
        page_number=page_number,
        page_size=page_size,
    )
    return responses.page(
        [profile_alphanumeric_sender_id(r) for r in rows], total, page_number, page_size
    )


async def get_alphanumeric(request: Request) -> Response:
    account_id = await require_account(request)
    row = await sender_ids.get_alphanumeric(
        _runtime(request), account_id, request.path_params["id"]
    )
    return responses.data(profile_alphanumeric_sender_id(row))


async def delete_alphanumeric(request: Request) -> Response:
    account_id = await require_account(request)
    row = await sender_ids.delete_alphanumeric(
        _runtime(request), account_id, request.path_params["id"]
    )
    return responses.data(profile_alphanumeric_sender_id(row))


routes = [
    Route("/sandbox/short_codes", sandbox_create_short_code, methods=["POST"]),
    Route("/short_codes", list_short_codes, methods=["GET"]),
    Route("/short_codes/{id}", get_short_code, methods=["GET"]),
    Route("/short_codes/{id}", update_short_code, methods=["PATCH"]),
    Route("/alphanumeric_sender_ids", create_alphanumeric, methods=["POST"]),
    Route("/alphanumeric_sender_ids", list_alphanumeric, methods=["GET"]),
    Route("/alphanumeric_sender_ids/{id}", get_alphanumeric, methods=["GET"]),
    Route("/alphanumeric_sender_ids/{id}", delete_alphanumeric, methods=["DELETE"]),
]
