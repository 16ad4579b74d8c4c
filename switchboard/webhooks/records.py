"""Stored events and attempts ↔ what is sent and what `/webhook_deliveries` shows.

Pure functions: an event row's `data` text back into a renderable event, an attempt's
outcome into the row kept for it, and stored rows into `telnyx.types.WebhookDelivery`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from switchboard.domain.clock import iso
from switchboard.webhooks.client import AttemptResult
from switchboard.webhooks.codes import error_codes
from switchboard.webhooks.envelope import LinkClickEvent, StoredEvent, WebhookEvent, dumps

HEADER_LIST_CAP = 10 * 1024  # bytes of `[name, value]` pairs kept, as Telnyx documents


def event_text(event: WebhookEvent) -> str:
    """The event's `data` object as stored: serialised once, the same for every attempt."""
    if isinstance(event, StoredEvent):
        return event.data_bytes().decode("ascii")
    return dumps(event.data()).decode("ascii")


def event_from_text(event_id: str, text: str) -> WebhookEvent:
    """Rebuild the event from its stored `data`; `render` then gives the bytes to send."""
    data = orjson.loads(text)
    if data.get("record_type") == "link_clicked":
        return LinkClickEvent(
            id=event_id,
            message_id=data["message_id"],
            to=data["to"],
            url=data["url"],
            time_clicked=data["time_clicked"],
            event_type=data.get("event_type") or LinkClickEvent.event_type,
        )
    event = StoredEvent(
        id=data["id"],
        event_type=data["event_type"],
        occurred_at=data["occurred_at"],
        payload=data["payload"],
    )
    if text.isascii():
        # The stored text is what `data_bytes` wrote: reuse it instead of serialising again.
        object.__setattr__(event, "_data", text.encode("ascii"))
    return event


def cap_headers(pairs: Sequence[tuple[str, str]], cap: int = HEADER_LIST_CAP) -> list[list[str]]:
    kept: list[list[str]] = []
    used = 0
    for name, value in pairs:
        used += len(name) + len(value) + 4
        if used > cap:
            break
        kept.append([name, value])
    return kept


def attempt_row(
    result: AttemptResult,
    *,
    attempt_id: str,
    delivery_id: str,
    number: int,
    round_no: int,
    body: bytes,
) -> dict[str, Any]:
    """What is kept of one attempt (every attempt is kept)."""
    return {
        "id": attempt_id,
        "delivery_id": delivery_id,
        "number": number,
        "round": round_no,
        "url": result.url,
        "status": "delivered" if result.ok else "failed",
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "elapsed_ms": result.elapsed_ms,
        "request_headers": cap_headers(result.request_headers),
        "request_body": body.decode("utf-8", errors="replace"),
        "response_status": result.status,
        "response_headers": cap_headers(result.response_headers),
        "response_body": result.response_body,
        "body_truncated": result.body_truncated,
        "error": result.error,
        "error_detail": result.detail,
        "error_codes": error_codes(result),
    }


def webhook_component(event_id: str, event_type: str, text: str) -> dict[str, Any]:
    """The `webhook` field: the original event (`id`, `event_type`, `occurred_at`, ...)."""
    data = orjson.loads(text)
    if data.get("record_type") == "link_clicked":
        return {
            "record_type": "event",
            "id": event_id,
            "event_type": event_type,
            "occurred_at": data.get("time_clicked"),
            "payload": data,
        }
    assert isinstance(data, dict)
    return data


def attempt_resource(row: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] | None = None
    if row["response_status"] is not None:
        response = {
            "status": row["response_status"],
            "headers": row["response_headers"] or [],
            "body": row["response_body"],
        }
    return {
        "status": row["status"],
        "started_at": iso(row["started_at"]),
        "finished_at": iso(row["finished_at"]),
        "http": {
            "request": {"url": row["url"], "headers": row["request_headers"] or []},
            "response": response,
        },
        "errors": list(row["error_codes"] or []),
    }


def delivery_resource(row: dict[str, Any], attempts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`telnyx.types.WebhookDelivery`; `attempts` newest first. No status while in progress."""
    status = row["status"] if row["status"] in ("delivered", "failed") else None
    return {
        "record_type": "webhook_delivery",
        "id": row["id"],
        "user_id": row["account_id"],
        "status": status,
        "started_at": iso(row["started_at"]),
        "finished_at": iso(row["finished_at"]),
        "webhook": webhook_component(row["event_id"], row["event_type"], row["event_data"]),
        "attempts": [attempt_resource(a) for a in attempts],
    }
