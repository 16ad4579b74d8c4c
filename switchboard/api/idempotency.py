"""The `Idempotency-Key` header on send endpoints (rules in services/idempotency.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api import responses
from switchboard.services import idempotency
from switchboard.services.messages import AcceptHook
from switchboard.services.runtime import Runtime

Rows = list[dict[str, Any]]
Accept = Callable[[AcceptHook | None], Awaitable[Rows]]
Render = Callable[[Rows], Any]

REPLAYED_HEADER = "Idempotent-Replayed"


def key_of(request: Request) -> str | None:
    """The request's Idempotency-Key, checked for shape (422 when malformed)."""
    key = request.headers.get("idempotency-key")
    return None if key is None else idempotency.check_key(key)


async def accept_once(
    request: Request, account_id: str, key: str | None, accept: Accept, render: Render
) -> Response:
    """Run `accept` and answer with `render(rows)`, at most once per Idempotency-Key.

    Without a key this is a plain call. With one, a repeat of a request that succeeded gets
    the stored answer again (header `Idempotent-Replayed: true`); the answer is stored by the
    transaction that accepts the messages, so the two cannot disagree.
    """
    if key is None:
        return responses.JSON(render(await accept(None)))
    rt: Runtime = request.app.state.runtime
    raw: bytes = getattr(request.state, "raw_body", b"")
    outcome = await idempotency.begin(
        rt,
        account_id,
        key,
        request.method,
        request.url.path,
        idempotency.fingerprint(request.url.query, raw),
    )
    if isinstance(outcome, idempotency.Replay):
        return Response(
            outcome.body,
            status_code=outcome.status,
            media_type=responses.JSON.media_type,
            headers={REPLAYED_HEADER: "true"},
        )
    answer: list[bytes] = []

    async def remember(conn: AsyncConnection, rows: Rows) -> None:
        body = bytes(responses.JSON(render(rows)).body)
        await idempotency.complete(conn, outcome, 200, body.decode("utf-8"))
        answer.append(body)

    try:
        await accept(remember)
    except BaseException:
        await idempotency.release(rt, outcome)
        raise
    return Response(answer[0], media_type=responses.JSON.media_type)
