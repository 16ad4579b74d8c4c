"""Many-row INSERTs and UPDATEs with the statement and its parameter converters prepared once.

`conn.execute(statement, rows)` rebuilds, for every row of every batch, SQLAlchemy's
parameter dictionary and runs each value through a lookup of its type's converter: on the
busiest tables (messages, their events, webhook events, deliveries and attempts) that cost
more than SQLite's own work for the row. Here each (statement, dialect, columns) is compiled
once, its converters kept in parameter order, and rows go to the driver as tuples
(store/driver_calls.py). Same SQL, same converters, same driver call as SQLAlchemy's
executemany.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store import driver_calls

Converter = Callable[[Any], Any]

ROW_ID = "_row_id"  # update_by_id's key for the row id (column names are reserved)


def _getter(keys: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of `keys` from a row, as a tuple (itemgetter, in C)."""
    if len(keys) == 1:
        key = keys[0]
        return lambda row: (row[key],)
    return cast(Callable[[Mapping[str, Any]], tuple[Any, ...]], operator.itemgetter(*keys))


class _ManyRows:
    """One prepared statement: its SQL and how a row becomes its parameters."""

    def __init__(
        self,
        sql: str,
        keys: tuple[str, ...],
        converters: tuple[Converter | None, ...],
        nullable: tuple[str, ...] = (),
    ) -> None:
        self.sql = sql
        # Insert only: the keys whose None the converter keeps None, so a NULL written into
        # the SQL stores what the parameter would have (not so for JSON: None is 'null').
        self.nullable = nullable
        self._values = _getter(keys)  # `keys`: the row keys, in the statement's order
        self._converted = tuple((i, c) for i, c in enumerate(converters) if c is not None)

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        values, converted = self._values, self._converted
        if not converted:
            return [values(row) for row in rows]
        out = []
        for row in rows:
            params = list(values(row))
            for i, convert in converted:
                params[i] = convert(params[i])
            out.append(tuple(params))
        return out

    def null_in_all(self, rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
        """The nullable keys that are None in every row."""
        first = rows[0]
        keys = tuple(k for k in self.nullable if first[k] is None)
        if not keys or len(rows) == 1:
            return keys
        nulls = (None,) * len(keys)
        values = _getter(keys)
        if all(values(row) == nulls for row in rows):
            return keys
        return tuple(k for k in keys if all(row[k] is None for row in rows))


_prepared: dict[
    tuple[str, sa.Table, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], _ManyRows
] = {}


def _prepare(
    kind: str,
    table: sa.Table,
    dialect: Dialect,
    keys: tuple[str, ...],
    unless_conflicting_on: tuple[str, ...] = (),
    null: tuple[str, ...] = (),
) -> _ManyRows:
    """The statement for rows with `keys`; those in `null` are written as NULL in its SQL.

    Parameters that are None cost the sqlite3 module an adapter lookup each (three
    dictionary and attribute lookups): a NULL in the SQL costs nothing per row.
    """
    cache_key = (
        kind,
        table,
        dialect.name + "+" + dialect.driver,
        keys,
        unless_conflicting_on,
        null,
    )
    found = _prepared.get(cache_key)
    if found is not None:
        return found
    if kind == "insert":
        statement: Any = table.insert()
        if unless_conflicting_on:
            statement = dialect_insert(dialect)(table).on_conflict_do_nothing(
                index_elements=list(unless_conflicting_on)
            )
        if null:
            statement = statement.values({key: sa.null() for key in null})
        columns = [k for k in keys if k not in null]
    else:
        statement = table.update().where(table.c.id == sa.bindparam(ROW_ID))
        columns = [k for k in keys if k != ROW_ID]
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    order = tuple(compiled.positiontup or ())
    bound = [k for k in keys if k not in null]
    if sorted(order) != sorted(bound):
        raise ValueError(f"cannot prepare a positional {kind} of {table.name} for {keys}")
    converters = tuple(
        compiled.binds[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order
    )
    nullable: tuple[str, ...] = ()
    if kind == "insert" and not null:
        nullable = tuple(
            key
            for key, convert in zip(order, converters, strict=True)
            if convert is None or _keeps_none(convert)
        )
    prepared = _ManyRows(compiled.string, order, converters, nullable)
    _prepared[cache_key] = prepared
    return prepared


def _keeps_none(convert: Converter) -> bool:
    try:
        return convert(None) is None
    except Exception:  # a converter that does not take None: leave its NULLs to it
        return False


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
        null = prepared.null_in_all(group) if prepared.nullable else ()
        if null:
            prepared = _prepare(kind, table, conn.dialect, keys, unless_conflicting_on, null)
        await driver_calls.executemany(conn, prepared.sql, prepared.parameters(group))


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
