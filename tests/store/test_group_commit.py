"""Group commit on SQLite: batched commits, isolated failures, and never a false success."""

from __future__ import annotations

import asyncio
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


def test_no_success_is_reported_when_the_commit_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injected between the batch and its commit: every caller of it gets the error."""

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
