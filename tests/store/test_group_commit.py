"""Group commit on SQLite: batched commits, isolated failures, and never a false success."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.database import create_engine
from switchboard.store.group_commit import GroupCommitter

items = sa.Table("items", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))


async def setup(path: Path) -> tuple[GroupCommitter, sa.ext.asyncio.AsyncEngine]:
    engine = create_engine(f"sqlite:///{path / 'gc.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(items.metadata.create_all)
    return GroupCommitter(engine), engine


def traced(engine: sa.ext.asyncio.AsyncEngine) -> list[str]:
    """The SQL of every statement the engine runs from now on, in order."""
    statements: list[str] = []

    @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
    def trace(*args: object) -> None:
        statements.append(str(args[2]))

    return statements


def sqlite_traced(committer: GroupCommitter) -> list[str]:
    """Every statement the committer's writer connection runs from now on, as SQLite sees
    them (those handed to the driver directly included)."""
    statements: list[str] = []
    assert committer._conn is not None and committer._conn.sync_connection is not None
    driver = committer._conn.sync_connection.connection.driver_connection
    driver.sqlite.set_trace_callback(statements.append)
    return statements


async def stored(engine: sa.ext.asyncio.AsyncEngine) -> set[int]:
    async with engine.connect() as conn:
        return {r[0] for r in await conn.execute(sa.select(items.c.id))}


def test_concurrent_transactions_share_commits_and_all_land(tmp_path: Path) -> None:
    async def main() -> None:
        committer, engine = await setup(tmp_path)

        async def insert(i: int) -> None:
            async with committer.transaction() as conn:
                await conn.execute(items.insert().values(id=i))

        await asyncio.gather(*(insert(i) for i in range(500)))
        assert await stored(engine) == set(range(500))
        assert committer.transactions == 500
        assert committer.batches < 100  # most commits carried many transactions
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_a_failing_transaction_rolls_back_alone(tmp_path: Path) -> None:
    async def main() -> None:
        committer, engine = await setup(tmp_path)

        async def insert(i: int) -> None:
            async with committer.transaction() as conn:
                await conn.execute(items.insert().values(id=i))
                if i % 10 == 0:
                    raise ValueError(f"refused {i}")

        results = await asyncio.gather(*(insert(i) for i in range(100)), return_exceptions=True)
        failed = {i for i, r in enumerate(results) if isinstance(r, ValueError)}
        assert failed == set(range(0, 100, 10))
        assert await stored(engine) == set(range(100)) - failed
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


@pytest.mark.parametrize("form", ["block", "body"])
def test_no_success_is_reported_when_the_commit_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    """Fault injected between the batch and its commit: every caller of it gets the error,
    whether its transaction was a `transaction()` block or a body given to `run()`."""

    async def main() -> None:
        committer, engine = await setup(tmp_path)
        real_commit = AsyncConnection.commit
        failures = {"left": 1}

        async def failing_commit(self: AsyncConnection) -> None:
            if failures["left"]:
                failures["left"] -= 1
                raise OSError("disk full")
            await real_commit(self)

        monkeypatch.setattr(AsyncConnection, "commit", failing_commit)
        answered: list[int] = []

        async def insert(i: int) -> None:
            if form == "body":
                await committer.run(lambda conn: conn.execute(items.insert().values(id=i)))
            else:
                async with committer.transaction() as conn:
                    await conn.execute(items.insert().values(id=i))
            answered.append(i)  # what an API handler would answer 200 for

        results = await asyncio.gather(*(insert(i) for i in range(50)), return_exceptions=True)
        assert any(isinstance(r, OSError) for r in results)
        assert set(answered) == await stored(engine)  # answered ⇔ durable, exactly
        async with committer.transaction() as conn:  # and the committer keeps working
            await conn.execute(items.insert().values(id=1000))
        assert 1000 in await stored(engine)
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_nested_transactions_and_child_tasks(tmp_path: Path) -> None:
    async def main() -> None:
        committer, engine = await setup(tmp_path)
        async with committer.transaction() as conn:
            await conn.execute(items.insert().values(id=1))
            async with committer.transaction() as inner:  # same task: a savepoint
                assert inner is conn
                await inner.execute(items.insert().values(id=2))
        child_done = asyncio.Event()

        async def child() -> None:
            async with committer.transaction() as conn:  # another task: its own turn
                await conn.execute(items.insert().values(id=4))
            child_done.set()

        async with committer.transaction() as conn:
            await conn.execute(items.insert().values(id=3))
            task = asyncio.create_task(child())
        await asyncio.wait_for(child_done.wait(), 5)
        await task
        assert await stored(engine) == {1, 2, 3, 4}
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_batches_keep_one_writer_connection(tmp_path: Path) -> None:
    """SQLite's page cache lives in its connection: a new one per batch would start cold."""

    async def main() -> None:
        committer, engine = await setup(tmp_path)
        seen: list[object] = []

        async def insert(i: int) -> None:
            async with committer.transaction() as conn:
                raw = await conn.get_raw_connection()
                seen.append(raw.driver_connection)
                await conn.execute(items.insert().values(id=i))

        for start in range(0, 30, 10):  # one after another: three batches at least
            async with engine.connect() as reader:  # reads hold pool connections meanwhile
                await reader.execute(sa.select(items.c.id))
                await asyncio.gather(*(insert(i) for i in range(start, start + 10)))
        assert await stored(engine) == set(range(30))
        assert committer.batches >= 3
        assert len({id(c) for c in seen}) == 1
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_a_batch_that_cannot_begin_fails_its_caller_and_the_next_one_works(
    tmp_path: Path,
) -> None:
    """The write lock held elsewhere past the busy timeout: an error, not a caller left
    waiting; the next transaction gets a fresh connection."""

    async def main() -> None:
        committer, engine = await setup(tmp_path)
        async with committer.transaction() as conn:  # the writer exists
            await conn.execute(items.insert().values(id=1))
        locker = sqlite3.connect(tmp_path / "gc.db", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        raw = await committer._conn.get_raw_connection()  # type: ignore[union-attr]
        raw.driver_connection._busy_timeout_ms = 50  # type: ignore[union-attr]
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            async with asyncio.timeout(10):
                async with committer.transaction() as conn:
                    await conn.execute(items.insert().values(id=2))
        locker.execute("ROLLBACK")
        locker.close()
        async with committer.transaction() as conn:
            await conn.execute(items.insert().values(id=3))
        assert await stored(engine) == {1, 3}
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_savepoint_names_repeat_from_batch_to_batch(tmp_path: Path) -> None:
    """Each new SAVEPOINT name is a statement SQLite prepares anew and the sqlite3 module's
    statement cache takes in: on the kept connection, names must not grow without end."""

    async def main() -> None:
        committer, engine = await setup(tmp_path)
        statements = traced(engine)

        async def insert(i: int) -> None:
            async with committer.transaction() as conn:
                nested = await conn.begin_nested()  # a savepoint inside the turn's own
                await conn.execute(items.insert().values(id=i))
                await nested.commit()

        for i in range(20):  # one after another: a batch each
            await insert(i)
        names = {s for s in statements if s.startswith("SAVEPOINT")}
        assert committer.batches == 20
        assert len(names) <= 2, names
        assert await stored(engine) == set(range(20))
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_a_failing_first_turn_leaves_nothing_and_the_batch_goes_on(tmp_path: Path) -> None:
    """The first turn of a batch runs without a savepoint: its failure rolls back the
    transaction whole, and the turns queued behind it still land in the same commit."""

    async def main() -> None:
        committer, engine = await setup(tmp_path)
        async with committer.transaction():
            pass  # the writer connection exists from here on
        statements = sqlite_traced(committer)

        async def insert(i: int, fail: bool) -> None:
            async with committer.transaction() as conn:
                await conn.execute(items.insert().values(id=i))
                if fail:
                    raise ValueError(f"refused {i}")

        results = await asyncio.gather(
            insert(1, True),
            insert(2, True),
            insert(3, False),
            insert(4, True),
            insert(5, False),
            return_exceptions=True,
        )
        assert [isinstance(r, ValueError) for r in results] == [True, True, False, True, False]
        assert await stored(engine) == {3, 5}
        assert committer.batches == 2
        # Savepoints only once a turn had succeeded: around 4 and 5, not 1, 2 or 3.
        savepoints = [s for s in statements if s.startswith("SAVEPOINT")]
        assert savepoints == ["SAVEPOINT group_commit_turn"] * 2
        assert committer.savepoints == 2
        assert "ROLLBACK TO group_commit_turn" in statements  # 4's work, undone alone
        await committer.close()
        await engine.dispose()

    asyncio.run(main())
