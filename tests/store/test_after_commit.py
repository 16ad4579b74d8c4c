"""Work waiting for a commit runs after it, never after a rollback, and leaves nothing behind
on a connection that is kept for good (the group committer's writer)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

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
