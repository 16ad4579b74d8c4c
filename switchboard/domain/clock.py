"""Time: UTC everywhere, rendered as ISO 8601 with milliseconds and `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


_last_iso: tuple[datetime | None, str | None] = (None, None)


def iso(value: datetime | None) -> str | None:
    """Render a timestamp the way Telnyx does: `2019-01-23T18:10:02.574Z`."""
    global _last_iso
    if value is None:
        return None
    last, text = _last_iso
    if value is last:  # the rows of a batch share their timestamps; datetimes are immutable
        return text
    original = value
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # isoformat, not strftime: a quarter of the cost, and every resource has several times.
    # "2019-01-23T18:10:02.574+00:00" → "2019-01-23T18:10:02.574Z" (milliseconds truncated).
    text = value.isoformat(timespec="milliseconds")[:23] + "Z"
    _last_iso = (original, text)
    return text


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp (with `Z` or an offset); naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
