"""`/v2/webhook_deliveries`: every webhook and each of its attempts."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.parsing import pagination, query_choice
from switchboard.domain import errors
from switchboard.domain.clock import parse_iso
from switchboard.domain.errors import ApiError
from switchboard.services import webhooks


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise ApiError(
            errors.INVALID_PARAMETER,
            f"{name} must be an ISO 8601 date-time, e.g. 2026-01-05T10:00:00Z.",
            parameter=name,
        ) from None


def _filter(request: Request) -> webhooks.DeliveryFilter:
    q = request.query_params
    event_types = q.get("filter[event_type]")
    return webhooks.DeliveryFilter(
        status=query_choice(request, "filter[status][eq]", ("delivered", "failed")),
        event_types=tuple(t.strip() for t in (event_types or "").split(",") if t.strip()),
        webhook_contains=q.get("filter[webhook][contains]") or None,
        attempts_contains=q.get("filter[attempts][contains]") or None,
        started_gte=_time(request, "filter[started_at][gte]"),
        started_lte=_time(request, "filter[started_at][lte]"),
        finished_gte=_time(request, "filter[finished_at][gte]"),
        finished_lte=_time(request, "filter[finished_at][lte]"),
    )


async def list_deliveries(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    items, total = await webhooks.list_deliveries(
        request.app.state.runtime, account_id, _filter(request), page_number, page_size
    )
    return responses.page(items, total, page_number, page_size)


async def get_delivery(request: Request) -> Response:
    account_id = await require_account(request)
    item = await webhooks.get_delivery(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    return responses.data(item)


routes = [
    Route("/webhook_deliveries", list_deliveries, methods=["GET"]),
    Route("/webhook_deliveries/{id}", get_delivery, methods=["GET"]),
]
