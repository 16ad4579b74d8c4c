"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; `timestamptz` on PostgreSQL, sortable text on SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # On SQLite the value is text in SQLAlchemy's DATETIME storage format
    # ("2026-01-05 10:00:03.210000"); writing and reading it directly, instead of through
    # the DATETIME type's %-formatting of a dict per value, took ~5% of a busy server's CPU.
    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _to_sqlite_text

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _from_sqlite_text


# The rows of one batch share their timestamps (one `now` per transaction): formatting is
# the costly part (~1 µs), so recent texts are kept, by instant (equal aware datetimes are
# the same instant whatever their offset; a naive one never equals an aware one).
_MAX_KEPT = 512
_sqlite_texts: dict[datetime, str] = {}


def _to_sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = _sqlite_texts.get(value)
    if text is not None:
        return text
    aware = value if value.tzinfo is None or value.tzinfo is UTC else value.astimezone(UTC)
    # "YYYY-MM-DD HH:MM:SS.ffffff", dropping a "+00:00" suffix. Positional arguments: the
    # keywords' parsing was a third of the call.
    text = aware.isoformat(" ", "microseconds")[:26]
    if len(_sqlite_texts) >= _MAX_KEPT:
        _sqlite_texts.clear()
    _sqlite_texts[value] = text
    return text


def _from_sqlite_text(value: str | None) -> datetime | None:
    if value is None:
        return None
    if len(value) == 26:  # what `_to_sqlite_text` writes: parsed with a UTC offset added,
        try:  # a tenth of the cost of `.replace(tzinfo=UTC)` afterwards
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
