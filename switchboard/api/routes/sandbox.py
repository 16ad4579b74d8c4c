"""`/v2/sandbox`: virtual handsets send messages in; everything on the network is listed.

Only in sandbox mode; in gateway mode these paths answer 404 like any unknown path.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.models import HandsetMessage
from switchboard.api.parsing import json_body, pagination, query_choice, query_datetime, validate
from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.phone import InvalidNumber, parse_e164
from switchboard.domain.resources import sandbox_message
from switchboard.services import sandbox
from switchboard.services.runtime import Runtime


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    if not sandbox.enabled(rt):
        raise ApiError(errors.NOT_FOUND, "The requested URL could not be found.")
    return rt


async def handset_sends(request: Request) -> Response:
    rt = _runtime(request)
    account_id = await require_account(request)
    handset = request.path_params["number"]
    try:
        parse_e164(handset)
    except InvalidNumber as exc:
        raise ApiError(
            errors.NOT_E164, f"The handset number '{handset}' {exc.reason}.", parameter="number"
        ) from exc
    body = validate(HandsetMessage, await json_body(request))
    try:
        parse_e164(body.to)
    except InvalidNumber as exc:
        raise ApiError(errors.INVALID_TO, f"'to' {exc.reason}.", pointer="/to") from exc
    media = tuple(body.media_urls or ())
    message_type = body.type or ("MMS" if media else "SMS")
    if message_type == "SMS" and media:
        raise ApiError(
            errors.INVALID_PARAMETER, "type SMS cannot carry media_urls; use MMS.", pointer="/type"
        )
    if not body.text and not media:
        raise ApiError(errors.NO_CONTENT, "Send 'text', 'media_urls' or both.", pointer="/text")
    network = getattr(request.app.state, "sandbox_network", None)
    if network is None:
        raise ApiError(errors.NOT_FOUND, "The sandbox network is not running in this process.")
    row = await sandbox.handset_send(
        rt,
        network,
        handset=handset,
        to=body.to,
        text=body.text or "",
        message_type=message_type,
        media_urls=media,
    )
    # The handset's message is the caller's to see only when the number is the caller's.
    return responses.data(sandbox_message(row, show_message_id=row["account_id"] == account_id))


async def list_messages(request: Request) -> Response:
    rt = _runtime(request)
    account_id = await require_account(request)
    page_number, page_size = pagination(request)
    q = request.query_params

    def param(name: str) -> str | None:
        value = q.get(f"filter[{name}]", q.get(name))
        return value or None

    direction_key = "filter[direction]" if "filter[direction]" in q else "direction"
    since_key = "filter[since]" if "filter[since]" in q else "since"
    rows, total = await sandbox.list_traffic(
        rt,
        account_id,
        handset=param("handset"),
        number=param("number"),
        direction=query_choice(request, direction_key, ("inbound", "outbound")),
        since=query_datetime(request, since_key),
        page_number=page_number,
        page_size=page_size,
    )
    return responses.page([sandbox_message(r) for r in rows], total, page_number, page_size)


routes = [
    Route("/sandbox/handsets/{number}/messages", handset_sends, methods=["POST"]),
    Route("/sandbox/messages", list_messages, methods=["GET"]),
]
