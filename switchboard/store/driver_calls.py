"""Prepared SQL handed to the database driver, skipping SQLAlchemy's per-statement work on SQLite.

The statements the workers and the accept batch run most (store/prepared.py,
store/executemany.py) are compiled once, so all SQLAlchemy still does for each run through
`exec_driver_sql` is bookkeeping: an execution context, events, a cursor wrapper, a result
object, and on SQLite two greenlet switches into the async driver. That costs 35–65 µs of
CPU a statement (by the machine's phase), against 2–3 µs for the `sqlite3` call itself
(`python -m bench.micro`). The pipeline runs dozens of such statements per message, so at
the rates a sandbox sees (a message or a few per batch) this bookkeeping was most of a
message's CPU.

On the inline SQLite driver (store/sqlite_driver.py), whose statements already run on the
event loop's thread, `execute` and `executemany` call the `sqlite3` connection directly, and
`begin` runs the BEGIN that SQLAlchemy's `begin` event emits for every transaction
(store/database.py). What SQLAlchemy would have done around them is kept: a statement on a
connection with no transaction open begins one first (SQLAlchemy's autobegin), errors come
out as SQLAlchemy's exception classes (`IntegrityError`, `OperationalError`, …), and
statements that write the tables `store/change_watch.py` watches still go through
SQLAlchemy, whose event tells the caches.

On PostgreSQL, a prepared SELECT on a connection outside any transaction (a single read,
`Runtime.read_one`: a message lookup) goes to the asyncpg connection directly, once its
columns' types are known: SQLAlchemy's execution context and result around it were a
quarter of the lookup's database time. asyncpg prepares it once per connection, as
SQLAlchemy's adapter would have, and converts values with the same codecs. Everything else
on PostgreSQL, where SQLAlchemy's adapter starts transactions and translates errors, goes
through `exec_driver_sql` as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import await_only

from switchboard.store.change_watch import writes_watched
from switchboard.store.sqlite_driver import InlineConnection


@dataclass(frozen=True)
class DriverResult:
    """The rows (tuples) a statement returned, and the driver's description of them."""

    rows: Sequence[Sequence[Any]]
    description: Sequence[Sequence[Any]] | None


def _direct_connection(conn: AsyncConnection, sql: str) -> sqlite3.Connection | None:
    """The `sqlite3` connection under `conn`, if this statement may be run on it directly."""
    if conn.dialect.name != "sqlite":
        return None
    driver = conn.sync_connection.connection.driver_connection if conn.sync_connection else None
    if not isinstance(driver, InlineConnection) or writes_watched(sql):
        return None
    return driver.sqlite


async def _begun(conn: AsyncConnection) -> None:
    """Begin a transaction if none is open, as SQLAlchemy's autobegin would."""
    if not conn.in_transaction():
        await conn.begin()


def _translated(exc: sqlite3.Error, sql: str, params: Any) -> Exception:
    """The SQLAlchemy exception `exec_driver_sql` would have raised for `exc`."""
    return sa.exc.DBAPIError.instance(sql, params, exc, sqlite3.Error)


def _autocommit_asyncpg(conn: AsyncConnection, sql: str) -> Any | None:
    """The asyncpg connection under `conn`, if `sql` is a SELECT that may run on it directly:
    the connection holds no transaction and starts none (`Runtime.read_one`'s)."""
    if conn.dialect.driver != "asyncpg" or conn.sync_connection is None:
        return None
    if sql.lstrip()[:6].upper() != "SELECT":
        return None
    pooled = conn.sync_connection.connection
    if not getattr(pooled.dbapi_connection, "autocommit", False):
        return None
    return pooled.driver_connection


async def execute(
    conn: AsyncConnection, sql: str, params: Sequence[Any], *, describe: bool = True
) -> DriverResult:
    """Run one statement with positional `params`; its rows (none for most DML), and their
    description if `describe` (else it may be None)."""
    raw = _direct_connection(conn, sql)
    if raw is None:
        pg = None if describe else _autocommit_asyncpg(conn, sql)
        if pg is not None:
            try:
                return DriverResult(await pg.fetch(sql, *params), None)
            except Exception:
                # A SELECT outside a transaction changed nothing: through SQLAlchemy it fails
                # again with its usual exception (and a lost connection invalidates the pool).
                pass
        result = await conn.exec_driver_sql(sql, tuple(params))
        description = result.cursor.description if result.cursor is not None else None
        rows = result.all() if result.returns_rows else []
        return DriverResult(rows, description)
    await _begun(conn)
    try:
        cursor = raw.execute(sql, params)
        return DriverResult(cursor.fetchall(), cursor.description)
    except sqlite3.Error as exc:
        raise _translated(exc, sql, params) from exc


async def executemany(conn: AsyncConnection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement once per parameter tuple in `rows`."""
    raw = _direct_connection(conn, sql)
    if raw is None:
        await conn.exec_driver_sql(sql, list(rows))
        return
    await _begun(conn)
    try:
        raw.executemany(sql, rows)
    except sqlite3.Error as exc:
        raise _translated(exc, sql, rows) from exc


def begin(conn: sa.Connection, sql: str) -> None:
    """Run `sql` (a BEGIN) for SQLAlchemy's `begin` event, which is synchronous and runs
    inside SQLAlchemy's greenlet; on the inline driver without its per-statement work."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, InlineConnection):
        conn.exec_driver_sql(sql)
        return
    try:
        await_only(driver.begin(sql))
    except sqlite3.Error as exc:
        raise _translated(exc, sql, ()) from exc
