"""Time: UTC everywhere, rendered as ISO 8601 with milliseconds and `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


# The rows of a batch share their timestamps, and a resource has two or three of them
# (received, valid until): the texts of the last two values are kept. Datetimes are
# immutable, so the same object always gives the same text.
_recent_iso: tuple[tuple[datetime | None, str], tuple[datetime | None, str]] = (
    (None, ""),
    (None, ""),
)


def iso(value: datetime | None) -> str | None:
    """Render a timestamp the way Telnyx does: `2019-01-23T18:10:02.574Z`."""
    global _recent_iso
    if value is None:
        return None
    latest, earlier = _recent_iso
    if value is latest[0]:
        return latest[1]
    if value is earlier[0]:
        return earlier[1]
    original = value
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # isoformat, not strftime: a quarter of the cost, and every resource has several times.
    # "2019-01-23T18:10:02.574+00:00" → "2019-01-23T18:10:02.574Z" (milliseconds truncated).
    text = value.isoformat(timespec="milliseconds")[:23] + "Z"
    _recent_iso = ((original, text), latest)
    return text


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp (with `Z` or an offset); naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
