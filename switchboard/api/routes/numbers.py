"""`/v2/number_orders` and `/v2/phone_numbers`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.models import NumberOrderCreate
from switchboard.api.parsing import json_body, pagination, validate
from switchboard.domain.resources import number_order, phone_number_detailed
from switchboard.services import numbers


async def create_order(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(NumberOrderCreate, await json_body(request))
    order = await numbers.order_numbers(
        request.app.state.runtime,
        account_id,
        [item.phone_number for item in body.phone_numbers],
        messaging_profile_id=body.messaging_profile_id,
        customer_reference=body.customer_reference,
    )
    return responses.data(number_order(order))


async def get_order(request: Request) -> Response:
    account_id = await require_account(request)
    order = await numbers.get_order(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    return responses.data(number_order(order))


async def list_phone_numbers(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    q = request.query_params
    wanted = q.get("filter[phone_number]")
    rows, total = await numbers.list_numbers(
        request.app.state.runtime,
        account_id,
        phone_numbers_in=[n for n in wanted.split(",") if n] if wanted else None,
        messaging_profile_id=q.get("filter[messaging_profile_id]"),
        page_number=page_number,
        page_size=page_size,
    )
    return responses.page([phone_number_detailed(r) for r in rows], total, page_number, page_size)


async def get_phone_number(request: Request) -> Response:
    account_id = await require_account(request)
    row = await numbers.get_number(request.app.state.runtime, account_id, request.path_params["id"])
    return responses.data(phone_number_detailed(row))


routes = [
    Route("/number_orders", create_order, methods=["POST"]),
    Route("/number_orders/{id}", get_order, methods=["GET"]),
    Route("/phone_numbers", list_phone_numbers, methods=["GET"]),
    Route("/phone_numbers/{id}", get_phone_number, methods=["GET"]),
]
