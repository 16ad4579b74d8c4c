"""Time: UTC everywhere, rendered as ISO 8601 with milliseconds and `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


# The rows of a batch share their timestamps, and a resource has two or three of them
# (received, valid until): rendering is the costly part (~1 µs), so recent texts are kept,
# by instant (equal datetimes are the same instant, whatever their offset).
_MAX_KEPT = 512
_iso_texts: dict[datetime, str] = {}


def iso(value: datetime | None) -> str | None:
    """Render a timestamp the way Telnyx does: `2019-01-23T18:10:02.574Z`."""
    if value is None:
        return None
    text = _iso_texts.get(value)
    if text is not None:
        return text
    key = value
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # isoformat, not strftime: a quarter of the cost, and every resource has several times.
    # "2019-01-23T18:10:02.574+00:00" → "2019-01-23T18:10:02.574Z" (milliseconds truncated).
    text = value.isoformat(timespec="milliseconds")[:23] + "Z"
    if len(_iso_texts) >= _MAX_KEPT:
        _iso_texts.clear()
    _iso_texts[key] = text
    return text


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp (with `Z` or an offset); naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
