"""What a messaging profile holds, and metrics: `/v2/messaging_profiles/{id}/...`,
`/v2/messaging_profile_metrics`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.parsing import pagination
from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.metrics import DEFAULT_TIME_FRAME, TIME_FRAMES
from switchboard.domain.resources import (
    number_messaging_settings,
    profile_alphanumeric_sender_id,
    profile_short_code,
)
from switchboard.services import profile_views


def time_frame(request: Request) -> str:
    """`time_frame`: one of 1h, 3h, 24h, 3d, 7d, 30d (default 24h); anything else is a 400."""
    value = request.query_params.get("time_frame", DEFAULT_TIME_FRAME)
    if value not in TIME_FRAMES:
        raise ApiError(
            errors.BAD_REQUEST,
            f"time_frame must be one of: {', '.join(TIME_FRAMES)}.",
            parameter="time_frame",
        )
    return value


async def list_phone_numbers(request: Request) -> Response:
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    rows, total = await profile_views.list_phone_numbers(
        request.app.state.runtime,
        account_id,
        request.path_params["id"],
        page_number=page_number,
        page_size=page_size,
    )
    return responses.page(
        [number_messaging_settings(r, r["health"]) for r in rows], total, page_number, page_size
    )


Lister = Callable[..., Awaitable[tuple[list[dict[str, Any]], int]]]


def _senders(
    lister: Lister, render: Callable[[dict[str, Any]], dict[str, Any]]
) -> Callable[[Request], Awaitable[Response]]:
    """A paginated listing of one kind of sender of the profile."""

    async def endpoint(request: Request) -> Response:
        account_id = await require_account(request)
        page_number, page_size = pagination(request)
        rows, total = await lister(
            request.app.state.runtime,
            account_id,
            request.path_params["id"],
            page_number=page_number,
            page_size=page_size,
        )
        return responses.page([render(r) for r in rows], total, page_number, page_size)

    return endpoint


async def profile_metrics(request: Request) -> Response:
    account_id = await require_account(request)
    frame = time_frame(request)
    metrics = await profile_views.metrics_for_profile(
        request.app.state.runtime, account_id, request.path_params["id"], frame
    )
    return responses.data(metrics)


async def account_metrics(request: Request) -> Response:
    """One summary per profile, all in one page (the SDK does not paginate this list)."""
    account_id = await require_account(request)
    frame = time_frame(request)
    items = await profile_views.metrics_for_account(request.app.state.runtime, account_id, frame)
    return responses.page(items, len(items), 1, max(len(items), 1))


routes = [
    Route("/messaging_profiles/{id}/phone_numbers", list_phone_numbers, methods=["GET"]),
    Route(
        "/messaging_profiles/{id}/short_codes",
        _senders(profile_views.list_short_codes, profile_short_code),
        methods=["GET"],
    ),
    Route(
        "/messaging_profiles/{id}/alphanumeric_sender_ids",
        _senders(profile_views.list_alphanumeric_sender_ids, profile_alphanumeric_sender_id),
        methods=["GET"],
    ),
    Route("/messaging_profiles/{id}/metrics", profile_metrics, methods=["GET"]),
    Route("/messaging_profile_metrics", account_metrics, methods=["GET"]),
]
