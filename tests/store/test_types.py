"""UTCDateTime on SQLite writes the text SQLAlchemy's DATETIME would, and reads it back as UTC."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.dialects.sqlite.base import DATETIME
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from switchboard.store.types import UTCDateTime

SQLITE = SQLiteDialect_pysqlite()


def processors() -> tuple[Any, Any]:
    to_text = UTCDateTime().bind_processor(SQLITE)
    from_text = UTCDateTime().result_processor(SQLITE, None)
    assert to_text is not None and from_text is not None
    return to_text, from_text


def test_sqlite_text_is_the_datetime_storage_format_both_ways() -> None:
    ours_in, ours_out = processors()
    theirs = DATETIME().bind_processor(SQLITE)
    assert theirs is not None
    rng = random.Random(7)
    for _ in range(2000):
        naive = datetime(2000, 1, 1) + timedelta(
            seconds=rng.randrange(0, 100 * 365 * 86400),
            microseconds=rng.choice([0, rng.randrange(1_000_000)]),
        )
        text = ours_in(naive)
        assert text == theirs(naive), naive  # rows written before and after compare alike
        assert ours_out(text) == naive.replace(tzinfo=UTC)


def test_aware_times_are_stored_in_utc_and_none_passes() -> None:
    to_text, from_text = processors()
    paris = datetime(2026, 1, 5, 11, 0, 3, 210000, tzinfo=timezone(timedelta(hours=1)))
    assert to_text(paris) == "2026-01-05 10:00:03.210000"
    assert from_text("2026-01-05 10:00:03") == datetime(2026, 1, 5, 10, 0, 3, tzinfo=UTC)
    assert to_text(None) is None and from_text(None) is None


def test_repeated_and_alternating_values_each_get_their_own_text() -> None:
    # The processor remembers the texts of recent values; another value must never get
    # one of them by mistake (an equal one, the same instant at another offset, may).
    to_text, _ = processors()
    a = datetime(2026, 1, 5, 10, 0, 3, 1, tzinfo=UTC)
    b = datetime(2026, 1, 5, 10, 0, 3, 2, tzinfo=UTC)
    paris = datetime(2026, 1, 5, 11, 0, 3, 1, tzinfo=timezone(timedelta(hours=1)))
    c = datetime(2026, 1, 5, 10, 0, 3, 3, tzinfo=UTC)
    sequence = [a, a, b, a, paris, paris, b, None, b, c, a, b, c]
    assert [to_text(v) for v in sequence] == [
        "2026-01-05 10:00:03.000001",
        "2026-01-05 10:00:03.000001",
        "2026-01-05 10:00:03.000002",
        "2026-01-05 10:00:03.000001",
        "2026-01-05 10:00:03.000001",
        "2026-01-05 10:00:03.000001",
        "2026-01-05 10:00:03.000002",
        None,
        "2026-01-05 10:00:03.000002",
        "2026-01-05 10:00:03.000003",
        "2026-01-05 10:00:03.000001",
        "2026-01-05 10:00:03.000002",
        "2026-01-05 10:00:03.000003",
    ]


def test_many_distinct_values_past_the_kept_texts() -> None:
    to_text, _ = processors()
    start = datetime(2026, 1, 5, 10, 0, 3, tzinfo=UTC)
    values = [start + timedelta(microseconds=n) for n in range(2000)]
    for _ in range(2):  # the second pass finds some texts kept, recomputes the others
        assert [to_text(v) for v in values] == [f"2026-01-05 10:00:03.{n:06d}" for n in range(2000)]


def test_texts_of_other_shapes_are_read_as_ever() -> None:
    """Texts not in the written shape (dates alone, a `T`, an offset) take the general
    parse: the naive time as UTC; an offset is replaced, not converted."""
    _, from_text = processors()
    for text in (
        "2026-01-01",
        "2026-01-01 00:00:00",
        "2026-01-01T00:00:00.000001",
        "2026-11-28T05:02:11.106700",
        "2026-11-28 05:02:11.1+05:00",
    ):
        value = from_text(text)
        assert value == datetime.fromisoformat(text).replace(tzinfo=UTC), text
        assert value.tzinfo is UTC
