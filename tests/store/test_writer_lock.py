"""The lock file before SQLite's write lock: the next writer starts as soon as it is free.

Two engines on one file stand for two processes: each connection opens the lock file for
itself, and `flock` treats separate opens exactly as it treats separate processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from switchboard.store.database import create_engine
from switchboard.store.writer_lock import WriterLock, lock_path

metadata = sa.MetaData()
items = sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True))


def test_a_database_file_has_a_lock_file_beside_it_and_memory_none() -> None:
    assert lock_path("/data/switchboard.db") == "/data/switchboard.db-writer.lock"
    assert lock_path(":memory:") is None


def test_a_waiting_writer_starts_as_soon_as_the_holder_commits(tmp_path: Path) -> None:
    """SQLite's busy handler alone would notice ~90 ms late (it sleeps 100 ms at a time by
    then); the lock file wakes the waiter at once."""
    hold = 0.44

    async def main() -> None:
        url = f"sqlite:///{tmp_path / 'w.db'}"
        holder_engine, waiter_engine = create_engine(url), create_engine(url)
        async with holder_engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        holder = await holder_engine.connect()
        await holder.execution_options(sqlite_begin="IMMEDIATE")
        await holder.begin()
        await holder.execute(items.insert().values(id=1))

        async def write() -> float:
            async with waiter_engine.connect() as conn:
                await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    await conn.execute(items.insert().values(id=2))
            return time.monotonic()

        waiter = asyncio.create_task(write())
        await asyncio.sleep(hold)
        assert not waiter.done()
        await holder.commit()
        released = time.monotonic()
        finished = await waiter
        assert finished - released < 0.05
        async with waiter_engine.connect() as conn:
            assert (await conn.execute(sa.select(items.c.id))).scalars().all() == [1, 2]
        await holder.close()
        await holder_engine.dispose()
        await waiter_engine.dispose()

    asyncio.run(main())


def test_a_rolled_back_or_failed_transaction_gives_the_lock_file_back(tmp_path: Path) -> None:
    async def main() -> None:
        url = f"sqlite:///{tmp_path / 'w.db'}"
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(items.insert().values(id=1))
        async with engine.connect() as conn:
            await conn.execution_options(sqlite_begin="IMMEDIATE")
            with pytest.raises(sa.exc.IntegrityError):
                async with conn.begin():
                    await conn.execute(items.insert().values(id=1))  # a duplicate key
        probe = WriterLock(str(tmp_path / "w.db-writer.lock"))
        assert probe.try_acquire()
        probe.close()
        await engine.dispose()

    asyncio.run(main())


def test_a_writer_that_waits_too_long_fails_as_sqlite_would_and_leaves_no_lock(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        path = str(tmp_path / "x.lock")
        holder, waiter, later = WriterLock(path), WriterLock(path), WriterLock(path)
        assert holder.try_acquire()
        began = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await waiter.acquire(timeout=0.2)
        assert 0.15 < time.monotonic() - began < 2
        assert not waiter.held
        holder.release()
        # The abandoned wait takes the lock in its thread and gives it back at once.
        deadline = time.monotonic() + 5
        while not later.try_acquire():
            assert time.monotonic() < deadline, "the abandoned wait kept the lock"
            await asyncio.sleep(0.01)
        # The waiter's next acquisition works, once the lock is free again.
        later.release()
        await waiter.acquire(timeout=1)
        assert waiter.held
        for lock in (holder, waiter, later):
            lock.close()

    asyncio.run(main())


def test_a_cancelled_wait_leaves_no_lock_behind(tmp_path: Path) -> None:
    async def main() -> None:
        path = str(tmp_path / "x.lock")
        holder, waiter, later = WriterLock(path), WriterLock(path), WriterLock(path)
        assert holder.try_acquire()
        task = asyncio.create_task(waiter.acquire(timeout=30))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        holder.release()
        deadline = time.monotonic() + 5
        while not later.try_acquire():
            assert time.monotonic() < deadline, "the cancelled wait kept the lock"
            await asyncio.sleep(0.01)
        for lock in (holder, waiter, later):
            lock.close()

    asyncio.run(main())
