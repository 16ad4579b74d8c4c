"""Statements handed to the driver behave as through SQLAlchemy: same transaction (its BEGIN
handed over too), same exception classes, and the caches still hear of writes to the tables
they watch."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.store import driver_calls
from switchboard.store.change_watch import watch
from tests.store.conftest import fresh_tables

meta = sa.MetaData()
notes = sa.Table("driver_notes", meta, sa.Column("id", sa.Integer, primary_key=True))
# Named like a watched table: statements on it must reach SQLAlchemy's events.
profiles = sa.Table("messaging_profiles", meta, sa.Column("id", sa.Integer, primary_key=True))


def insert_sql(engine: AsyncEngine, table: sa.Table) -> str:
    """The dialect's INSERT of one id, with its own placeholder style."""
    return str(table.insert().values(id=sa.bindparam("id")).compile(dialect=engine.dialect))


def test_direct_statements_share_the_transaction_and_raise_sqlalchemy_errors(
    own_database_url: str,
) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            seen: list[str] = []

            @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
            def trace(*args: object) -> None:
                seen.append(str(args[2]))

            insert = insert_sql(engine, notes)
            async with engine.connect() as conn:
                await driver_calls.executemany(conn, insert, [(1,), (2,)])
                assert conn.in_transaction()  # begun as autobegin would
                with pytest.raises(sa.exc.IntegrityError):
                    await driver_calls.execute(conn, insert, (1,))
                await conn.rollback()
            async with engine.connect() as conn:
                count = await driver_calls.execute(conn, "SELECT count(*) FROM driver_notes", ())
                assert count.rows[0][0] == 0  # the rollback took the direct inserts too
            statements = [s for s in seen if "driver_notes" in s]
            if engine.dialect.name == "sqlite":
                assert statements == []  # run on the sqlite3 connection itself
                assert not [s for s in seen if s.startswith("BEGIN")]  # and so is BEGIN
            else:
                assert len(statements) == 3

    asyncio.run(main())


def test_writes_to_watched_tables_still_tell_the_caches(own_database_url: str) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            changes = watch(engine)
            before = changes.generation
            insert = insert_sql(engine, profiles)
            async with engine.begin() as conn:
                await driver_calls.execute(conn, insert, (1,))
            assert changes.generation >= before + 2  # the statement, then its commit

    asyncio.run(main())
