"""`/v2/messages`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api import responses
from switchboard.api.auth import require_account
from switchboard.api.models import MessageSend
from switchboard.api.parsing import json_body, validate
from switchboard.domain import errors
from switchboard.domain.errors import ApiError
from switchboard.domain.resources import message_resource
from switchboard.services import messages
from switchboard.services.messages import SenderMode, SendRequest


def _send_request(body: MessageSend) -> SendRequest:
    if body.send_at is not None:
        raise ApiError(
            errors.INVALID_PARAMETER,
            "Scheduled sending is not available on this server yet.",
            pointer="/send_at",
        )
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
    )


async def _send(request: Request, mode: SenderMode) -> Response:
    account_id = await require_account(request)
    body = validate(MessageSend, await json_body(request))
    row = await messages.send_message(
        request.app.state.runtime, account_id, _send_request(body), mode
    )
    return responses.data(message_resource([row], account_id))


async def send(request: Request) -> Response:
    return await _send(request, "any")


async def send_long_code(request: Request) -> Response:
    return await _send(request, "long_code")


async def retrieve(request: Request) -> Response:
    account_id = await require_account(request)
    row = await messages.get_message(
        request.app.state.runtime, account_id, request.path_params["id"]
    )
    return responses.data(message_resource([row], account_id))


routes = [
    Route("/messages", send, methods=["POST"]),
    Route("/messages/long_code", send_long_code, methods=["POST"]),
    Route("/messages/{id}", retrieve, methods=["GET"]),
]
