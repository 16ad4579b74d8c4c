"""Work waiting for a commit runs after it, never after a rollback, and leaves nothing behind
on a connection that is kept for good (the group committer's writer)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.config import load_settings
from switchboard.services.runtime import Runtime
from switchboard.store.after_commit import after_commit
from switchboard.store.group_commit import GroupCommitter
from tests.store.conftest import fresh_tables

meta = sa.MetaData()
rows = sa.Table("after_commit_rows", meta, sa.Column("id", sa.Integer, primary_key=True))


def test_callbacks_run_on_commit_only(own_database_url: str) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            calls: list[str] = []
            async with engine.connect() as conn:
                after_commit(conn, lambda: calls.append("no transaction: at once"))
                assert calls == ["no transaction: at once"]
                await conn.begin()
                await conn.execute(rows.insert().values(id=1))
                after_commit(conn, lambda: calls.append("committed"))
                assert calls == ["no transaction: at once"]  # not before the commit
                await conn.commit()
                await conn.begin()
                await conn.execute(rows.insert().values(id=2))
                after_commit(conn, lambda: calls.append("rolled back"))
                await conn.rollback()
                await conn.begin()
                await conn.commit()  # a later commit does not run a rolled-back one's
            assert calls == ["no transaction: at once", "committed"]

    asyncio.run(main())


def test_a_kept_connection_gathers_no_listeners(tmp_path: Path) -> None:
    async def main() -> None:
        async with fresh_tables(f"sqlite:///{tmp_path / 'kept.db'}", meta) as engine:
            committer = GroupCommitter(engine)
            woken: list[int] = []

            async def queue(i: int) -> None:
                async with committer.transaction() as conn:
                    await conn.execute(rows.insert().values(id=i))
                    after_commit(conn, lambda: woken.append(i))

            await queue(0)
            listeners = len(engine.sync_engine.dispatch.commit)
            for i in range(1, 200):  # one batch each, on the one kept writer connection
                await queue(i)
            assert woken == list(range(200))
            assert committer.batches == 200
            assert len(engine.sync_engine.dispatch.commit) == listeners
            writer = committer._conn
            assert writer is not None and writer.sync_connection is not None
            assert len(writer.sync_connection.dispatch.commit) == listeners
            await committer.close()

    asyncio.run(main())


def test_on_postgresql_callbacks_run_once_the_commit_has_returned(postgres_url: str) -> None:
    """A worker woken by a callback must find the rows: on PostgreSQL the callback runs once
    the server has committed (SQLAlchemy's commit event comes before the COMMIT is sent)."""

    async def main(url: str) -> None:
        async with fresh_tables(url, meta) as engine:
            rt = Runtime(settings=load_settings(database_url=url), engine=engine)
            seen: list[tuple[str, bool, int]] = []

            async def count() -> int:
                async with rt.read_one() as other:
                    return int(
                        (
                            await other.execute(sa.select(sa.func.count()).select_from(rows))
                        ).scalar_one()
                    )

            async def write(conn: AsyncConnection, i: int, form: str) -> None:
                await conn.execute(rows.insert().values(id=i))
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None

                def woken() -> None:
                    seen.append((form, driver.is_in_transaction(), i))

                after_commit(conn, woken)

            await rt.run_transaction(lambda conn: write(conn, 1, "run_transaction"))
            async with rt.transaction() as conn:
                await write(conn, 2, "transaction")
            with pytest.raises(ValueError):
                async with rt.transaction() as conn:
                    await write(conn, 3, "rolled back")
                    raise ValueError("never committed")
            assert seen == [("run_transaction", False, 1), ("transaction", False, 2)]
            assert await count() == 2
            await rt.close()

    asyncio.run(main(postgres_url))


def test_on_postgresql_a_failed_commit_calls_nothing_then_or_later(postgres_url: str) -> None:
    """A COMMIT the server refuses (here a deferred foreign key) is followed by no rollback
    event: its callbacks must be dropped there, not run by the connection's next commit."""

    async def main(url: str) -> None:
        async with fresh_tables(url, meta) as engine:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(
                    "CREATE TABLE refs (row_id integer REFERENCES after_commit_rows (id)"
                    " DEFERRABLE INITIALLY DEFERRED)"
                )
            rt = Runtime(settings=load_settings(database_url=url), engine=engine)
            called: list[str] = []

            async def refer_to_nothing(conn: AsyncConnection) -> None:
                await conn.exec_driver_sql("INSERT INTO refs VALUES (404)")
                after_commit(conn, lambda: called.append("refused"))

            with pytest.raises(sa.exc.IntegrityError):
                await rt.run_transaction(refer_to_nothing)
            with pytest.raises(sa.exc.IntegrityError):
                async with rt.transaction() as conn:
                    await refer_to_nothing(conn)
            assert called == []

            for _ in range(2):  # the pool's connections that saw the refused COMMITs
                async with rt.transaction() as conn:
                    await conn.execute(rows.insert().values(id=len(called) + 1))
                    after_commit(conn, lambda: called.append("committed"))
            assert called == ["committed", "committed"]
            await rt.close()

    asyncio.run(main(postgres_url))
