"""`/v2/messages`: the send endpoints, retrieval, group retrieval and cancellation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import idempotency, responses
from switchboard.api.auth import require_account
from switchboard.api.models import (
    MessageAlphanumeric,
    MessageGroupMms,
    MessageSend,
    MessageWhatsapp,
)
from switchboard.api.parsing import json_body, validate
from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.resources import message_resource, outbound_message
from switchboard.domain.whatsapp import whatsapp_resource
from switchboard.services import messages, scheduling, whatsapp
from switchboard.services.messages import AcceptHook, SenderMode, SendRequest
from switchboard.services.whatsapp import WhatsappRequest

Rows = list[dict[str, Any]]


def _send_request(body: MessageSend) -> SendRequest:
    return SendRequest(
        to=body.to,
        from_=body.from_,
        messaging_profile_id=body.messaging_profile_id,
        text=body.text,
        media_urls=body.media_urls or [],
        subject=body.subject,
        type=body.type,
        auto_detect=body.auto_detect,
        encoding=body.encoding,
        use_profile_webhooks=body.use_profile_webhooks,
        webhook_url=body.webhook_url or None,
        webhook_failover_url=body.webhook_failover_url or None,
        send_at=body.send_at_time(),
    )


async def _accept(
    request: Request,
    account_id: str,
    key: str | None,
    send_request: SendRequest,
    mode: SenderMode,
    *,
    as_group: bool = False,
) -> Response:
    """Send under the request's Idempotency-Key and answer `{"data": <message>}`."""

    async def accept(on_accepted: AcceptHook | None) -> Rows:
        return await messages.accept_messages(
            request.app.state.runtime, account_id, send_request, mode, on_accepted=on_accepted
        )

    def render(rows: Rows) -> dict[str, Any]:
        return {"data": outbound_message(rows, account_id, as_group=as_group)}

    return await idempotency.accept_once(request, account_id, key, accept, render)


async def _send(request: Request, mode: SenderMode, *, schedule: bool = False) -> Response:
    account_id = await require_account(request)
    key = idempotency.key_of(request)
    body = validate(MessageSend, await json_body(request))
    if schedule and body.send_at is None:
        raise ApiError(
            errors.MISSING_PARAMETER,
            "The 'send_at' parameter is required to schedule a message.",
            pointer="/send_at",
        )
    if mode != "any" and body.send_at is not None:
        raise ApiError(
            errors.INVALID_PARAMETER,
            "send_at is accepted by POST /messages and /messages/schedule only.",
            pointer="/send_at",
        )
    return await _accept(request, account_id, key, _send_request(body), mode)


async def send(request: Request) -> Response:
    return await _send(request, "any")


async def send_long_code(request: Request) -> Response:
    return await _send(request, "long_code")


async def send_short_code(request: Request) -> Response:
    return await _send(request, "short_code")


async def send_alphanumeric(request: Request) -> Response:
    """SMS from an alphanumeric sender id of `messaging_profile_id`."""
    account_id = await require_account(request)
    key = idempotency.key_of(request)
    body = validate(MessageAlphanumeric, await json_body(request))
    if body.media_urls:
        raise ApiError(
            errors.INVALID_PARAMETER,
            "Alphanumeric sender ids send SMS only; leave out media_urls.",
            pointer="/media_urls",
        )
    send_request = SendRequest(
        to=body.to,
        from_=body.from_,
        messaging_profile_id=body.messaging_profile_id,
        text=body.text,
        type="SMS",
        use_profile_webhooks=body.use_profile_webhooks,
        webhook_url=body.webhook_url or None,
        webhook_failover_url=body.webhook_failover_url or None,
    )
    return await _accept(request, account_id, key, send_request, "alphanumeric")


async def send_number_pool(request: Request) -> Response:
    return await _send(request, "number_pool")


async def schedule(request: Request) -> Response:
    return await _send(request, "any", schedule=True)


async def send_group_mms(request: Request) -> Response:
    """One message to up to 8 recipients; `data.id` is the group id, `to[]` lists them all."""
    account_id = await require_account(request)
    key = idempotency.key_of(request)
    body = validate(MessageGroupMms, await json_body(request))
    send_request = SendRequest(
        to=body.to,
        from_=body.from_,
        text=body.text,
        media_urls=body.media_urls or [],
        subject=body.subject,
        use_profile_webhooks=body.use_profile_webhooks,
        webhook_url=body.webhook_url or None,
        webhook_failover_url=body.webhook_failover_url or None,
    )
    return await _accept(request, account_id, key, send_request, "group_mms", as_group=True)


async def send_whatsapp(request: Request) -> Response:
    """A WhatsApp message; the answer has the narrower WhatsApp shape (messages.md §5)."""
    account_id = await require_account(request)
    key = idempotency.key_of(request)
    body = validate(MessageWhatsapp, await json_body(request))
    send_request = WhatsappRequest(
        from_=body.from_,
        to=body.to,
        message=body.whatsapp_message,
        messaging_profile_id=body.messaging_profile_id,
        use_profile_webhooks=body.use_profile_webhooks,
        webhook_url=body.webhook_url or None,
        webhook_failover_url=body.webhook_failover_url or None,
    )

    async def accept(on_accepted: AcceptHook | None) -> Rows:
        return await whatsapp.send_whatsapp(
            request.app.state.runtime, account_id, send_request, on_accepted=on_accepted
        )

    def render(rows: Rows) -> dict[str, Any]:
        return {"data": whatsapp_resource(rows[0], account_id)}

    return await idempotency.accept_once(request, account_id, key, accept, render)


async def cancel_scheduled(request: Request) -> Response:
    """`DELETE /messages/{id}`: the cancelled message, *not* wrapped in `data` (spec, SDK)."""
    account_id = await require_account(request)
    row = await scheduling.cancel(request.app.state.runtime, account_id, request.path_params["id"])
    return responses.JSON(message_resource([row], account_id))


async def retrieve(request: Request) -> Response:
    """A message by id; a group MMS's id (as its send returned it) gives the whole group."""
    account_id = await require_account(request)
    rows, is_group = await messages.get_message_or_group(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    if is_group:
        return responses.data(outbound_message(rows, account_id, as_group=True))
    return responses.data(message_resource(rows, account_id))


async def retrieve_group(request: Request) -> Response:
    """`GET /messages/group/{id}`: every recipient's message of a group MMS (not paginated)."""
    account_id = await require_account(request)
    rows = await messages.get_group(
        request.app.state.runtime, account_id, request.path_params["message_id"]
    )
    return responses.data([outbound_message([r], account_id) for r in rows])


routes = [
    Route("/messages", send, methods=["POST"]),
    Route("/messages/long_code", send_long_code, methods=["POST"]),
    Route("/messages/short_code", send_short_code, methods=["POST"]),
    Route("/messages/number_pool", send_number_pool, methods=["POST"]),
    Route("/messages/alphanumeric_sender_id", send_alphanumeric, methods=["POST"]),
    Route("/messages/group_mms", send_group_mms, methods=["POST"]),
    Route("/messages/whatsapp", send_whatsapp, methods=["POST"]),
    Route("/messages/schedule", schedule, methods=["POST"]),
    Route("/messages/group/{message_id}", retrieve_group, methods=["GET"]),
    Route("/messages/{id}", retrieve, methods=["GET"]),
    Route("/messages/{id}", cancel_scheduled, methods=["DELETE"]),
]
