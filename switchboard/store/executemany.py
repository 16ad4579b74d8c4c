"""Many-row INSERTs and UPDATEs with the statement and its parameter converters prepared once.

`conn.execute(statement, rows)` rebuilds, for every row of every batch, SQLAlchemy's
parameter dictionary and runs each value through a lookup of its type's converter: on the
busiest tables (messages, their events, webhook events, deliveries and attempts) that cost
more than SQLite's own work for the row. Here each (statement, dialect, columns) is compiled
once, its converters kept in parameter order, and rows go to the driver as tuples through
`exec_driver_sql`. Same SQL, same converters, same driver call as SQLAlchemy's executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

Converter = Callable[[Any], Any]

ROW_ID = "_row_id"  # update_by_id's key for the row id (column names are reserved)


@dataclass(frozen=True)
class _ManyRows:
    sql: str
    keys: tuple[str, ...]  # the row keys, in the statement's parameter order
    converters: tuple[Converter | None, ...]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        pairs = tuple(zip(self.keys, self.converters, strict=True))
        return [
            tuple(row[key] if convert is None else convert(row[key]) for key, convert in pairs)
            for row in rows
        ]


_prepared: dict[tuple[str, sa.Table, str, tuple[str, ...], tuple[str, ...]], _ManyRows] = {}


def _prepare(
    kind: str,
    table: sa.Table,
    dialect: Dialect,
    keys: tuple[str, ...],
    unless_conflicting_on: tuple[str, ...] = (),
) -> _ManyRows:
    cache_key = (kind, table, dialect.name + "+" + dialect.driver, keys, unless_conflicting_on)
    found = _prepared.get(cache_key)
    if found is not None:
        return found
    if kind == "insert":
        statement: Any = table.insert()
        if unless_conflicting_on:
            statement = dialect_insert(dialect)(table).on_conflict_do_nothing(
                index_elements=list(unless_conflicting_on)
            )
        columns = list(keys)
    else:
        statement = table.update().where(table.c.id == sa.bindparam(ROW_ID))
        columns = [k for k in keys if k != ROW_ID]
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(keys):
        raise ValueError(f"cannot prepare a positional {kind} of {table.name} for {keys}")
    converters = tuple(
        compiled.binds[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order
    )
    prepared = _ManyRows(compiled.string, order, converters)
    _prepared[cache_key] = prepared
    return prepared


def dialect_insert(dialect: Dialect) -> Callable[[sa.Table], Any]:
    """The dialect's own INSERT construct, which has ON CONFLICT."""
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


async def _run(
    kind: str,
    conn: AsyncConnection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    unless_conflicting_on: tuple[str, ...] = (),
) -> None:
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for keys, group in groups.items():
        prepared = _prepare(kind, table, conn.dialect, keys, unless_conflicting_on)
        await conn.exec_driver_sql(prepared.sql, prepared.parameters(group))


async def insert_many(
    conn: AsyncConnection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    unless_conflicting_on: Sequence[str] = (),
) -> None:
    """INSERT `rows` (dicts keyed by column name) into `table`, one executemany per key set.

    A column a row leaves out gets its server default, as with `table.insert()`. With
    `unless_conflicting_on` (the columns of a unique index), a row that would duplicate an
    existing one is skipped (ON CONFLICT DO NOTHING).
    """
    await _run("insert", conn, table, rows, tuple(unless_conflicting_on))


async def update_by_id(
    conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """UPDATE each row of `table` whose id is the row's `ROW_ID`, setting its other keys
    (column names); one executemany per key set."""
    await _run("update", conn, table, rows)
