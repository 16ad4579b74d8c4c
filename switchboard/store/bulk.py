"""Guarded updates of many rows at once, each row with its own values.

Neither SQLite nor PostgreSQL (through SQLAlchemy) can run an executemany UPDATE with
RETURNING, and PostgreSQL's executemany does not say which rows it changed, yet a guarded
update must know exactly which rows still matched. So each group of rows that set the same
columns costs two statements whatever its size: one UPDATE … WHERE id IN (…) AND <guard>
RETURNING id, carrying the values every row shares (it takes the rows' locks and says which
still matched), then one executemany UPDATE by id, for those rows only, with the values that
differ (store/executemany.py).

The workers run these for every batch they record, so the statements are built once per
shape (table, shared columns, guard columns) with bind parameters and run on the driver
(store/prepared.py): building them per call, and SQLAlchemy's execution around them, cost
more than running them. A guard on `status` is written into the SQL (`schema.inline`), one
statement per status: bound, it would make SQLite prepare the statement again at every run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.executemany import ROW_ID, update_by_id
from switchboard.store.prepared import Prepared
from switchboard.store.schema import can_inline, inline

_IDS = "_bulk_ids"

Guard = tuple[tuple[str, str | None], ...]  # (column, its value if written inline)

_guarded: dict[tuple[sa.Table, tuple[str, ...], Guard], Prepared] = {}
_INLINE_GUARDS = frozenset({"status"})


def _set(column: str) -> str:
    return f"_set_{column}"


def _is(column: str) -> str:
    return f"_is_{column}"


def _guard(guard: Mapping[str, Any]) -> Guard:
    """The guard's columns, each with its value when that value goes into the SQL (a status
    that is a plain word; anything else stays bound)."""
    return tuple(
        (c, guard[c] if c in _INLINE_GUARDS and can_inline(guard[c]) else None)
        for c in sorted(guard)
    )


def _guarded_update(table: sa.Table, shared: tuple[str, ...], guard: Guard) -> Prepared:
    """UPDATE table SET <shared> WHERE id IN (…) AND <guard columns equal> RETURNING id."""
    key = (table, shared, guard)
    statement = _guarded.get(key)
    if statement is None:
        # With nothing in common the statement still has to touch (lock) the rows.
        assignments: dict[Any, Any] = {
            table.c[c]: sa.bindparam(_set(c), type_=table.c[c].type) for c in shared
        } or {table.c.id: table.c.id}
        statement = Prepared(
            table.update()
            .where(
                table.c.id.in_(sa.bindparam(_IDS, expanding=True)),
                *(
                    table.c[c]
                    == (sa.bindparam(_is(c), type_=table.c[c].type) if v is None else inline(v))
                    for c, v in guard
                ),
            )
            .values(assignments)
            .returning(table.c.id)
        )
        _guarded[key] = statement
    return statement


async def update_many(
    conn: AsyncConnection,
    table: sa.Table,
    changes: Sequence[tuple[str, Mapping[str, Any]]],
    guard: Mapping[str, Any],
) -> set[str]:
    """Set each `(id, values)` on its row if the row still has the `guard` values (column →
    value); the ids updated. An id must appear at most once in `changes`."""
    groups: dict[tuple[str, ...], list[tuple[str, Mapping[str, Any]]]] = {}
    for row_id, values in changes:
        groups.setdefault(tuple(sorted(values)), []).append((row_id, values))
    guard_shape = _guard(guard)
    updated: set[str] = set()
    for columns, group in groups.items():
        first = group[0][1]
        shared = {c: first[c] for c in columns if all(v[c] == first[c] for _, v in group)}
        varying = [c for c in columns if c not in shared]
        params: dict[str, Any] = {_IDS: [row_id for row_id, _ in group]}
        params.update((_set(c), value) for c, value in shared.items())
        params.update((_is(c), guard[c]) for c, inlined in guard_shape if inlined is None)
        statement = _guarded_update(table, tuple(shared), guard_shape)
        hit = {row["id"] for row in await statement.rows(conn, params)}
        if varying and hit:
            await update_by_id(
                conn,
                table,
                [{ROW_ID: i, **{c: v[c] for c in varying}} for i, v in group if i in hit],
            )
        updated |= hit
    return updated
