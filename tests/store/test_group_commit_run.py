"""`GroupCommitter.run`: a body run by the committer itself, with the guarantees of
`transaction()` (shared commits, failures alone, never a false success)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.store.test_group_commit import items, setup, stored


def test_bodies_share_commits_and_return_their_results(tmp_path: Path) -> None:
    async def main() -> None:
        committer, engine = await setup(tmp_path)

        async def insert(i: int) -> int:
            async def body(conn: AsyncConnection) -> int:
                await conn.execute(items.insert().values(id=i))
                return i * 2

            return await committer.run(body)

        results = await asyncio.gather(*(insert(i) for i in range(300)))
        assert results == [i * 2 for i in range(300)]
        assert await stored(engine) == set(range(300))
        assert committer.transactions == 300
        assert committer.batches < 60  # most commits carried many bodies
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_a_failing_body_rolls_back_alone_beside_blocks(tmp_path: Path) -> None:
    """Bodies and `transaction()` blocks mixed in one batch; every tenth fails alone."""

    async def main() -> None:
        committer, engine = await setup(tmp_path)

        async def by_body(i: int) -> None:
            async def body(conn: AsyncConnection) -> None:
                await conn.execute(items.insert().values(id=i))
                if i % 10 == 0:
                    raise ValueError(f"refused {i}")

            await committer.run(body)

        async def by_block(i: int) -> None:
            async with committer.transaction() as conn:
                await conn.execute(items.insert().values(id=i))
                if i % 10 == 5:
                    raise ValueError(f"refused {i}")

        calls = [by_body(i) if i % 2 == 0 else by_block(i) for i in range(100)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        failed = {i for i, r in enumerate(results) if isinstance(r, ValueError)}
        assert failed == {i for i in range(100) if i % 10 in (0, 5)}
        assert await stored(engine) == set(range(100)) - failed
        assert committer.batches < 50
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_transactions_inside_a_body_are_savepoints_of_it(tmp_path: Path) -> None:
    async def main() -> None:
        committer, engine = await setup(tmp_path)

        async def body(conn: AsyncConnection) -> None:
            await conn.execute(items.insert().values(id=1))
            with pytest.raises(ValueError):
                async with committer.transaction() as inner:  # the committer's task: nested
                    assert inner is conn
                    await inner.execute(items.insert().values(id=2))
                    raise ValueError("only the savepoint")

            async def nested(inner: AsyncConnection) -> None:
                assert inner is conn
                await inner.execute(items.insert().values(id=3))

            await committer.run(nested)

        await committer.run(body)
        assert await stored(engine) == {1, 3}
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_a_caller_cancelled_before_its_turn_leaves_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        committer, engine = await setup(tmp_path)
        release = asyncio.Event()
        ran: list[int] = []

        async def slow(conn: AsyncConnection) -> None:
            await conn.execute(items.insert().values(id=1))
            await release.wait()  # holds the writer: the next caller waits for its turn

        async def dropped(conn: AsyncConnection) -> None:
            ran.append(2)
            await conn.execute(items.insert().values(id=2))

        first = asyncio.create_task(committer.run(slow))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(committer.run(dropped))
        await asyncio.sleep(0.05)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        release.set()
        await first
        assert ran == [] and await stored(engine) == {1}
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


def test_without_a_group_committer_a_body_runs_in_its_own_transaction(tmp_path: Path) -> None:
    """PostgreSQL's path (no group committer), run here on SQLite through the runtime."""
    from switchboard.config import load_settings
    from switchboard.services.runtime import Runtime

    async def main() -> None:
        committer, engine = await setup(tmp_path)
        await committer.close()
        rt = Runtime(settings=load_settings(database_url=str(engine.url)), engine=engine)
        rt.group_commit = None

        async def body(conn: AsyncConnection) -> int:
            await conn.execute(items.insert().values(id=7))
            return 7

        assert await rt.run_transaction(body) == 7
        with pytest.raises(ValueError):
            await rt.run_transaction(_failing)
        assert await stored(engine) == {7}
        await engine.dispose()

    asyncio.run(main())


async def _failing(conn: AsyncConnection) -> None:
    await conn.execute(items.insert().values(id=8))
    raise ValueError("rolled back")


def test_a_caller_cancelled_during_the_commit_leaves_the_others_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block's caller that stops waiting while its batch commits: the batch still commits
    and every other caller of it gets its answer."""

    async def main() -> None:
        committer, engine = await setup(tmp_path)
        real_commit = AsyncConnection.commit
        committing = asyncio.Event()
        proceed = asyncio.Event()

        async def slow_commit(self: AsyncConnection) -> None:
            committing.set()
            await proceed.wait()
            await real_commit(self)

        monkeypatch.setattr(AsyncConnection, "commit", slow_commit)

        async def insert(i: int) -> None:
            async with committer.transaction() as conn:
                await conn.execute(items.insert().values(id=i))

        tasks = [asyncio.create_task(insert(i)) for i in range(5)]
        await committing.wait()
        tasks[2].cancel()
        await asyncio.sleep(0)
        proceed.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
        assert isinstance(results[2], asyncio.CancelledError)
        assert [r for i, r in enumerate(results) if i != 2] == [None] * 4
        assert await stored(engine) == set(range(5))  # the cancelled one committed too
        await committer.close()
        await engine.dispose()

    asyncio.run(main())


@pytest.mark.parametrize("body_fails", [False, True])
def test_a_caller_cancelled_while_its_body_runs(tmp_path: Path, body_fails: bool) -> None:
    """The body, begun, finishes (its work kept or, failing, undone) and nobody hears of it;
    the other callers of its batch, before and after it, get their answers."""

    async def main() -> None:
        committer, engine = await setup(tmp_path)
        release = asyncio.Event()
        running = asyncio.Event()
        proceed = asyncio.Event()

        async def first(conn: AsyncConnection) -> int:
            await release.wait()  # the rest queue meanwhile: one batch for all
            await conn.execute(items.insert().values(id=99))
            return 99

        async def slow(conn: AsyncConnection) -> None:
            await conn.execute(items.insert().values(id=100))
            running.set()
            await proceed.wait()
            if body_fails:
                raise ValueError("undone, and nobody to tell")

        async def insert(conn: AsyncConnection, i: int) -> int:
            await conn.execute(items.insert().values(id=i))
            return i

        def run_insert(i: int) -> asyncio.Task[int]:
            return asyncio.create_task(committer.run(lambda c: insert(c, i)))

        tasks = [asyncio.create_task(committer.run(first))]
        await asyncio.sleep(0)
        tasks += [run_insert(0), run_insert(1)]
        cancelled = asyncio.create_task(committer.run(slow))
        tasks.append(run_insert(2))
        await asyncio.sleep(0)
        release.set()
        await running.wait()
        cancelled.cancel()
        await asyncio.sleep(0)
        proceed.set()
        assert await asyncio.wait_for(asyncio.gather(*tasks), 10) == [99, 0, 1, 2]
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert committer.batches == 1
        expected = {99, 0, 1, 2} | (set() if body_fails else {100})
        assert await stored(engine) == expected
        await committer.close()
        await engine.dispose()

    asyncio.run(main())
