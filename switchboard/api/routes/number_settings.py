"""`/v2/phone_numbers/.../messaging` and `/v2/mobile_phone_numbers/.../messaging`.

`routes` must come before `numbers.routes` in the app: `/phone_numbers/messaging` would
otherwise match `/phone_numbers/{id}`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.models import NumberMessagingUpdate
from switchboard.api.parsing import json_body, pagination, query_choice, validate
from switchboard.domain.numbers import FILTER_TYPES
from switchboard.domain.resources import (
    mobile_number_messaging_settings,
    number_messaging_settings,
)
from switchboard.services import number_settings


def _render(row: dict[str, object]) -> dict[str, object]:
    health = row.get("health")
    return number_messaging_settings(row, health if isinstance(health, dict) else None)


async def list_settings(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    q = request.query_params
    number_type = query_choice(request, "filter[type]", tuple(FILTER_TYPES))
    sort = query_choice(request, "sort[phone_number]", ("asc", "desc"))
    wanted = q.get("filter[phone_number]")
    rows, total = await number_settings.list_settings(
        request.app.state.runtime,
        account_id,
        phone_numbers_in=[n.strip() for n in wanted.split(",") if n.strip()] if wanted else None,
        phone_number_contains=q.get("filter[phone_number][contains]") or None,
        messaging_profile_id=q.get("filter[messaging_profile_id]") or None,
        number_kind=FILTER_TYPES[number_type] if number_type else None,
        sort_phone_number=sort,
        page_number=page_number,
        page_size=page_size,
    )
    return responses.page([_render(r) for r in rows], total, page_number, page_size)


async def get_settings(request: Request) -> Response:
    account_id = await require_account(request)
    row = await number_settings.get_settings(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    return responses.data(_render(row))


async def update_settings(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(NumberMessagingUpdate, await json_body(request, allow_empty=True))
    row = await number_settings.update_settings(
        request.app.state.runtime,
        account_id,
        request.path_params["id"],
        body.model_dump(include=body.model_fields_set),
    )
    return responses.data(_render(row))


async def list_mobile(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    rows, total = await number_settings.list_mobile(
        request.app.state.runtime, account_id, page_number=page_number, page_size=page_size
    )
    return responses.page(
        [mobile_number_messaging_settings(r) for r in rows], total, page_number, page_size
    )


async def get_mobile(request: Request) -> Response:
    account_id = await require_account(request)
    row = await number_settings.get_mobile(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    return responses.data(mobile_number_messaging_settings(row))


routes = [
    Route("/phone_numbers/messaging", list_settings, methods=["GET"]),
    Route("/phone_numbers/{id}/messaging", get_settings, methods=["GET"]),
    Route("/phone_numbers/{id}/messaging", update_settings, methods=["PATCH"]),
    Route("/mobile_phone_numbers/messaging", list_mobile, methods=["GET"]),
    Route("/mobile_phone_numbers/{id}/messaging", get_mobile, methods=["GET"]),
]
