"""Guarded updates of many rows at once, each row with its own values.

Neither SQLite nor PostgreSQL (through SQLAlchemy) can run an executemany UPDATE with
RETURNING, and PostgreSQL's executemany does not say which rows it changed, yet a guarded
update must know exactly which rows still matched. So each group of rows that set the same
columns costs two statements whatever its size: one UPDATE … WHERE id IN (…) AND <guard>
RETURNING id, carrying the values every row shares (it takes the rows' locks and says which
still matched), then one executemany UPDATE by id, for those rows only, with the values that
differ. Both compile once and hit SQLAlchemy's statement cache (the IN list expands).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

_ID = "_bulk_id"  # the executemany's key for the row id (column names are reserved)


async def update_many(
    conn: AsyncConnection,
    table: sa.Table,
    changes: Sequence[tuple[str, Mapping[str, Any]]],
    *guard: sa.ColumnElement[bool],
) -> set[str]:
    """Set each `(id, values)` on its row if the row still matches `guard`; the ids updated.

    An id must appear at most once in `changes`.
    """
    groups: dict[tuple[str, ...], list[tuple[str, Mapping[str, Any]]]] = {}
    for row_id, values in changes:
        groups.setdefault(tuple(sorted(values)), []).append((row_id, values))
    updated: set[str] = set()
    for columns, group in groups.items():
        first = group[0][1]
        shared = {c: first[c] for c in columns if all(v[c] == first[c] for _, v in group)}
        varying = [c for c in columns if c not in shared]
        # With nothing in common the guarded statement still has to touch (lock) the rows.
        assignments: dict[Any, Any] = dict(shared) or {table.c.id: table.c.id}
        result = await conn.execute(
            table.update()
            .where(table.c.id.in_([row_id for row_id, _ in group]), *guard)
            .values(assignments)
            .returning(table.c.id)
        )
        hit = {row[0] for row in result}
        if varying and hit:
            await conn.execute(
                table.update().where(table.c.id == sa.bindparam(_ID)),
                [{_ID: i, **{c: v[c] for c in varying}} for i, v in group if i in hit],
            )
        updated |= hit
    return updated
