"""Many-row INSERTs with the statement and its parameter converters prepared once.

`conn.execute(table.insert(), rows)` rebuilds, for every row of every batch, SQLAlchemy's
parameter dictionary and runs each value through a lookup of its type's converter: on the
busiest tables (messages, their events, webhook events, deliveries and attempts) that cost
more than SQLite's own work for the row. Here each (table, dialect, columns) is compiled
once, its converters kept in column order, and rows go to the driver as tuples through
`exec_driver_sql`. Same SQL, same converters, same driver call as SQLAlchemy's executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class _PreparedInsert:
    sql: str
    keys: tuple[str, ...]  # the row keys, in the statement's parameter order
    converters: tuple[Converter | None, ...]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        pairs = tuple(zip(self.keys, self.converters, strict=True))
        return [
            tuple(row[key] if convert is None else convert(row[key]) for key, convert in pairs)
            for row in rows
        ]


_prepared: dict[tuple[sa.Table, str, tuple[str, ...]], _PreparedInsert] = {}


def _prepare(table: sa.Table, dialect: Dialect, keys: tuple[str, ...]) -> _PreparedInsert:
    cache_key = (table, dialect.name + "+" + dialect.driver, keys)
    found = _prepared.get(cache_key)
    if found is not None:
        return found
    compiled = table.insert().compile(dialect=dialect, column_keys=list(keys))
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(keys):
        raise ValueError(f"cannot prepare a positional INSERT into {table.name} for {keys}")
    converters = tuple(
        table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order
    )
    prepared = _PreparedInsert(compiled.string, order, converters)
    _prepared[cache_key] = prepared
    return prepared


async def insert_many(
    conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT `rows` (dicts keyed by column name) into `table`, one executemany per key set.

    A column a row leaves out gets its server default, as with `table.insert()`.
    """
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for keys, group in groups.items():
        prepared = _prepare(table, conn.dialect, keys)
        await conn.exec_driver_sql(prepared.sql, prepared.parameters(group))
