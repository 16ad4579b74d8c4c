"""`/v2/messaging_numbers_bulk_updates`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.models import BulkUpdateCreate
from switchboard.api.parsing import json_body, validate
from switchboard.services import bulk_updates


async def create_order(request: Request) -> Response:
    account_id = await require_account(request)
    body = validate(BulkUpdateCreate, await json_body(request))
    order = await bulk_updates.create_order(
        request.app.state.runtime,
        account_id,
        body.messaging_profile_id,
        body.numbers,
        assign_only=body.assign_only,
    )
    return responses.data(order)


async def get_order(request: Request) -> Response:
    account_id = await require_account(request)
    order = await bulk_updates.get_order(
        request.app.state.runtime, account_id, request.path_params["order_id"]
    )
    return responses.data(order)


routes = [
    Route("/messaging_numbers_bulk_updates", create_order, methods=["POST"]),
    Route("/messaging_numbers_bulk_updates/{order_id}", get_order, methods=["GET"]),
]
