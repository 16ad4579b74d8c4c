"""Webhook bodies (v2 envelope and the link-click shape), rendered per attempt.

The event part (``data``) is serialised once and cached; only ``meta`` (attempt number
and target URL) differs between attempts, so each attempt splices a fresh ``meta`` onto
the cached bytes. The bytes returned are exactly what gets signed and sent.

Serialisation is compact JSON with non-ASCII escaped: the body is then plain ASCII, so
a receiver that decodes it with the wrong charset before verifying still reproduces the
signed bytes. orjson writes it (a tenth of the stdlib's cost; every webhook renders its
event's payload); the stdlib's encoder only escapes the rare body with non-ASCII text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from switchboard.domain.clock import iso

LINK_CLICK_EVENT_TYPE = "message.link_click"
CONTENT_TYPE = "application/json"


def dumps(value: Any) -> bytes:
    """Compact, ASCII-only JSON bytes; NaN and Infinity, which JSON lacks, become null."""
    body = orjson.dumps(value)
    if body.isascii():
        return body
    # orjson cannot escape: re-encode what it wrote (NaN already null) with the stdlib.
    return json.dumps(orjson.loads(body), separators=(",", ":"), ensure_ascii=True).encode("ascii")


def format_timestamp(value: datetime | str) -> str:
    """ISO-8601 UTC with milliseconds and ``Z`` (``2026-01-05T10:00:03.210Z``).

    Strings pass through untouched so a stored, already formatted value is sent as is.
    Naive datetimes are taken as UTC.
    """
    if isinstance(value, str):
        return value
    text = iso(value)
    assert text is not None
    return text


@dataclass(frozen=True)
class StoredEvent:
    """A messaging event as kept by the store (one per event, shared by all attempts)."""

    id: str
    event_type: str
    occurred_at: datetime | str
    payload: Mapping[str, Any]
    _data: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def data(self) -> dict[str, Any]:
        """The ``data`` object; also the ``webhook`` field of a delivery record."""
        return {
            "record_type": "event",
            "id": self.id,
            "event_type": self.event_type,
            "occurred_at": format_timestamp(self.occurred_at),
            "payload": dict(self.payload),
        }

    def data_bytes(self) -> bytes:
        """Serialised ``data``, computed on first use and reused by every attempt."""
        if self._data is None:
            object.__setattr__(self, "_data", dumps(self.data()))
        assert self._data is not None
        return self._data

    def render(self, attempt: int, delivered_to: str) -> bytes:
        """Body for one attempt: ``{"data": ..., "meta": {"attempt", "delivered_to"}}``."""
        if attempt < 1:
            raise ValueError("attempt numbers start at 1")
        meta = dumps({"attempt": attempt, "delivered_to": delivered_to})
        return b'{"data":' + self.data_bytes() + b',"meta":' + meta + b"}"


@dataclass(frozen=True)
class LinkClickEvent:
    """A rewritten short link was clicked (webhooks.md §2.3, DECISIONS item 9).

    This shape has no ``id``, ``payload`` or ``meta``; ``id`` is kept here for the
    delivery record and the ``webhook-id`` header only. The body does not change
    between attempts, so ``render`` ignores its arguments.
    """

    id: str
    message_id: str
    to: str
    url: str
    time_clicked: datetime | str
    event_type: str = LINK_CLICK_EVENT_TYPE
    _body: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def data(self) -> dict[str, Any]:
        return {
            "record_type": "link_clicked",
            "event_type": self.event_type,
            "message_id": self.message_id,
            "to": self.to,
            "url": self.url,
            "time_clicked": format_timestamp(self.time_clicked),
        }

    def render(self, attempt: int, delivered_to: str) -> bytes:
        """Body for any attempt: ``{"data": {...}}``."""
        if attempt < 1:
            raise ValueError("attempt numbers start at 1")
        if self._body is None:
            object.__setattr__(self, "_body", dumps({"data": self.data()}))
        assert self._body is not None
        return self._body


WebhookEvent = StoredEvent | LinkClickEvent
