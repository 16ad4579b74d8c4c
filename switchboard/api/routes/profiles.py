"""`/v2/messaging_profiles`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.models import NOT_NULL_ON_UPDATE, ProfileCreate, ProfileUpdate
from switchboard.api.parsing import json_body, pagination, validate
from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.resources import messaging_profile
from switchboard.services import profiles


async def list_profiles(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    q = request.query_params
    rows, total = await profiles.list_profiles(
        request.app.state.runtime,
        account_id,
        name_eq=q.get("filter[name][eq]", q.get("filter[name]")),
        name_contains=q.get("filter[name][contains]"),
        page_number=page_number,
        page_size=page_size,
    )
    return responses.page([messaging_profile(r) for r in rows], total, page_number, page_size)


async def create_profile(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(ProfileCreate, await json_body(request))
    row = await profiles.create_profile(request.app.state.runtime, account_id, body.given())
    return responses.data(messaging_profile(row))


async def get_profile(request: Request) -> Response:
    account_id = await require_account(request)
    row = await profiles.get_profile(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    return responses.data(messaging_profile(row))


async def update_profile(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(ProfileUpdate, await json_body(request, allow_empty=True))
    fields = body.given()
    for name in NOT_NULL_ON_UPDATE:
        if name in fields and fields[name] is None:
            raise ApiError(errors.INVALID_PARAMETER, f"{name} cannot be null.", pointer=f"/{name}")
    row = await profiles.update_profile(
        request.app.state.runtime, account_id, request.path_params["id"], fields
    )
    return responses.data(messaging_profile(row))


async def delete_profile(request: Request) -> Response:
    account_id = await require_account(request)
    row = await profiles.delete_profile(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    return responses.data(messaging_profile(row))


async def regenerate_secret(request: Request) -> Response:
    account_id = await require_account(request)
    row = await profiles.regenerate_secret(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    return responses.data(messaging_profile(row))


routes = [
    Route("/messaging_profiles", list_profiles, methods=["GET"]),
    Route("/messaging_profiles", create_profile, methods=["POST"]),
    Route("/messaging_profiles/{id}", get_profile, methods=["GET"]),
    Route("/messaging_profiles/{id}", update_profile, methods=["PATCH"]),
    Route("/messaging_profiles/{id}", delete_profile, methods=["DELETE"]),
    Route(
        "/messaging_profiles/{id}/actions/regenerate_secret", regenerate_secret, methods=["POST"]
    ),
]
