"""Timestamps render as Telnyx renders them: UTC, milliseconds (truncated), `Z`."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from switchboard.domain.clock import iso, parse_iso


def test_iso_matches_the_strftime_rendering_for_any_instant_and_offset() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        instant = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(0, 60 * 365 * 86400), microseconds=rng.randrange(1_000_000)
        )
        expected = instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
        offset = timezone(timedelta(minutes=rng.randrange(-12 * 60, 14 * 60)))
        assert iso(instant) == expected
        assert iso(instant.astimezone(offset)) == expected  # same instant, other offset
        assert iso(instant.replace(tzinfo=None)) == expected  # naive is taken as UTC
        whole_ms = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
        assert parse_iso(expected) == whole_ms


def test_iso_of_none_and_whole_seconds() -> None:
    assert iso(None) is None
    assert iso(datetime(2026, 1, 5, 10, 0, 3, tzinfo=UTC)) == "2026-01-05T10:00:03.000Z"
    assert iso(datetime(2026, 1, 5, 10, 0, 3, 999999, tzinfo=UTC)) == "2026-01-05T10:00:03.999Z"


def test_repeated_and_alternating_values_each_get_their_own_text() -> None:
    a = datetime(2026, 1, 5, 10, 0, 3, 1000, tzinfo=UTC)
    b = datetime(2026, 1, 5, 10, 0, 3, 2000, tzinfo=UTC)
    east = a.astimezone(timezone(timedelta(hours=3)))
    texts = [iso(v) for v in (a, a, b, a, east, east, None, b)]
    assert texts == [
        "2026-01-05T10:00:03.001Z",
        "2026-01-05T10:00:03.001Z",
        "2026-01-05T10:00:03.002Z",
        "2026-01-05T10:00:03.001Z",
        "2026-01-05T10:00:03.001Z",
        "2026-01-05T10:00:03.001Z",
        None,
        "2026-01-05T10:00:03.002Z",
    ]


def test_values_cycling_past_the_kept_texts_are_rendered_afresh() -> None:
    times = [datetime(2026, 1, 5, 10, 0, 3, 1000 * n, tzinfo=UTC) for n in (1, 2, 3)]
    texts = [iso(times[i % 3]) for i in range(9)]
    assert texts == [f"2026-01-05T10:00:03.00{i % 3 + 1}Z" for i in range(9)]
