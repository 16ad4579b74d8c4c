"""Engine creation: the URL users give (`sqlite:///…`, `postgresql://…`) → an async engine."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from switchboard.store import driver_calls
from switchboard.store.sqlite_driver import connector


def async_url(url: str) -> str:
    """Map a plain database URL onto the asyncio driver for it."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    return url


def _drop_if_closed(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Hand out no pooled asyncpg connection the server has closed (a restart, an idle
    timeout, an administrator's `pg_terminate_backend`): the pool replaces it.

    SQLAlchemy's `pool_pre_ping` asks the server instead, and on asyncpg that is three round
    trips per checkout (BEGIN, an empty query, ROLLBACK): 10% of a message lookup's CPU and
    more of its time. A server that ends a connection closes its socket, which the event
    loop reads while the connection sits in the pool, so asyncpg already knows; a peer that
    vanished without closing is found by the first statement, as it would be by a ping
    waiting for its timeout, and SQLAlchemy then invalidates the pool's older connections.
    Raising `DisconnectionError` here is SQLAlchemy's documented way to have the pool
    discard a connection and check out another.
    """
    driver = record.driver_connection
    if driver is None or driver.is_closed():
        raise sa.exc.DisconnectionError("the database server closed this pooled connection")


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine tuned per backend: SQLite in WAL with a busy timeout, PostgreSQL pooled."""
    full = async_url(url)
    # JSON columns (media, errors, webhook payloads) through orjson: a tenth of the stdlib's
    # time, and the same values read back.
    kwargs: dict[str, Any] = {
        "json_serializer": _json_text,
        "json_deserializer": orjson.loads,
    }
    if full.startswith("sqlite"):
        database = make_url(full).database or ":memory:"
        kwargs["async_creator"] = connector(database, timeout=30)
    else:
        asyncpg = make_url(full).get_dialect().driver == "asyncpg"
        # Other drivers keep SQLAlchemy's ping; asyncpg's connections are checked locally.
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=not asyncpg)
    engine = create_async_engine(full, **kwargs)
    if engine.dialect.driver == "asyncpg":
        sa.event.listen(engine.sync_engine, "checkout", _drop_if_closed)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Writes run in SAVEPOINTs (group commit's later turns, checks that write), whose
            # undo journal SQLite keeps in a temporary file by default: an open, an unlink
            # and page writes per savepoint.
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()
            # Take transaction control away from the sqlite3 module, whose implicit BEGINs
            # break SAVEPOINTs (which group commit relies on); SQLAlchemy emits BEGIN below.
            if dbapi_conn.isolation_level is not None:
                dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers ask for IMMEDIATE: the write lock (and a fresh snapshot) from the start,
            # so a write can never fail on a snapshot another process made stale.
            mode = conn.get_execution_options().get("sqlite_begin", "")
            driver_calls.begin(conn, f"BEGIN {mode}".strip())

    return engine
