"""The inline SQLite driver: statements on the loop, waits for the write lock off it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from switchboard.store.change_watch import watch
from switchboard.store.database import create_engine

metadata = sa.MetaData()
items = sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True))
phone_numbers = sa.Table("phone_numbers", metadata, sa.Column("id", sa.Integer, primary_key=True))


async def engine_at(path: Path) -> sa.ext.asyncio.AsyncEngine:
    engine = create_engine(f"sqlite:///{path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


class Ticks:
    """Counts 10 ms ticks of the event loop while running: a stalled loop stops counting."""

    def __init__(self) -> None:
        self.count = 0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.count += 1

    def start(self) -> Ticks:
        self._task = asyncio.create_task(self._tick())
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def test_waiting_for_another_process_write_lock_does_not_block_the_loop(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        engine = await engine_at(tmp_path)
        other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def write() -> float:
            began = time.monotonic()
            async with engine.connect() as conn:
                await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    await conn.execute(items.insert().values(id=1))
            return time.monotonic() - began

        ticks = Ticks().start()
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.5)
        assert not writing.done(), "the write should wait for the lock"
        assert ticks.count >= 20, f"the loop stalled while waiting ({ticks.count} in 0.5 s)"
        other.execute("COMMIT")
        waited = await asyncio.wait_for(writing, 10)
        ticks.stop()
        assert waited >= 0.5
        async with engine.connect() as conn:
            assert (await conn.execute(sa.select(items.c.id))).scalars().all() == [1]
        other.close()
        await engine.dispose()

    asyncio.run(main())


def test_a_free_write_lock_is_taken_without_a_thread_and_the_commit_in_one(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        engine = await engine_at(tmp_path)
        loop = asyncio.get_running_loop()
        used: list[object] = []
        original = loop.run_in_executor

        def spy(*args: object) -> object:
            used.append(args)
            return original(*args)  # type: ignore[arg-type]

        loop.run_in_executor = spy  # type: ignore[method-assign]
        async with engine.connect() as conn:
            await conn.execution_options(sqlite_begin="IMMEDIATE")
            async with conn.begin():
                await conn.execute(items.insert().values(id=7))
        async with engine.connect() as conn:
            assert (await conn.execute(sa.select(items.c.id))).scalars().all() == [7]
        assert [getattr(args[1], "__name__", None) for args in used] == ["_commit"]
        await engine.dispose()

    asyncio.run(main())


class _SlowCommit:
    """A sqlite3 connection whose COMMIT takes `seconds` longer (a slow disk's fsync)."""

    def __init__(self, conn: sqlite3.Connection, seconds: float) -> None:
        self._conn, self._seconds = conn, seconds

    def commit(self) -> None:
        time.sleep(self._seconds)
        self._conn.commit()

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


def test_the_event_loop_runs_while_a_commit_waits_for_the_disk(tmp_path: Path) -> None:
    async def main() -> None:
        engine = await engine_at(tmp_path)
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            real = raw._conn  # type: ignore[union-attr]
            raw._conn = _SlowCommit(real, 0.5)  # type: ignore[union-attr]
            ticks = Ticks().start()
            try:
                async with conn.begin():
                    await conn.execute(items.insert().values(id=8))
            finally:
                ticks.stop()
                raw._conn = real  # type: ignore[union-attr]
        assert ticks.count >= 10  # inline, the loop would not have ticked during the commit
        async with engine.connect() as conn:
            assert (await conn.execute(sa.select(items.c.id))).scalars().all() == [8]
        await engine.dispose()

    asyncio.run(main())


def test_writes_to_sender_tables_move_the_change_watch(tmp_path: Path) -> None:
    async def main() -> None:
        engine = await engine_at(tmp_path)
        changes = watch(engine)
        async with engine.begin() as conn:
            await conn.execute(items.insert().values(id=1))
            await conn.execute(sa.select(phone_numbers.c.id))
        assert changes.generation == 0, "reads and other tables do not count"
        async with engine.begin() as conn:
            await conn.execute(phone_numbers.insert().values(id=1))
        assert changes.generation == 2, "bumped when written and again at commit"
        async with engine.connect() as conn:
            await conn.execute(phone_numbers.delete())
            await conn.rollback()
        assert changes.generation == 4
        await engine.dispose()

    asyncio.run(main())


def test_a_caller_cancelled_during_its_commit_learns_the_outcome_first(tmp_path: Path) -> None:
    """A begun COMMIT cannot be stopped: a cancelled caller waits for it, goes on to record
    that it committed, and is cancelled at its next await; the connection is never used
    while the commit still runs."""

    async def main() -> None:
        engine = await engine_at(tmp_path)
        reported: list[str] = []

        async def write() -> None:
            async with engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                real = raw._conn  # type: ignore[union-attr]
                raw._conn = _SlowCommit(real, 0.5)  # type: ignore[union-attr]
                try:
                    await conn.begin()
                    await conn.execute(items.insert().values(id=9))
                    await conn.commit()
                    reported.append("committed")  # what a caller would answer
                    await asyncio.sleep(5)  # the cancellation arrives here
                finally:
                    raw._conn = real  # type: ignore[union-attr]

        began = time.monotonic()
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.1)  # the commit is under way
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writing
        assert time.monotonic() - began >= 0.5  # it waited for the commit
        assert reported == ["committed"]
        async with engine.connect() as conn:
            assert (await conn.execute(sa.select(items.c.id))).scalars().all() == [9]
        await engine.dispose()

    asyncio.run(main())
