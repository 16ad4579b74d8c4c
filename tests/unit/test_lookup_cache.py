"""The request path's lookup cache: single-flight loads, expiry, invalidation by writes."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.services.lookup_cache import LookupCache
from switchboard.store.change_watch import ChangeWatch


def test_concurrent_misses_share_one_load() -> None:
    async def main() -> None:
        cache: LookupCache[int] = LookupCache(ttl=60)
        loads = 0

        async def load() -> int:
            nonlocal loads
            loads += 1
            await asyncio.sleep(0.01)
            return 42

        values = await asyncio.gather(*(cache.get_or_load("k", load) for _ in range(50)))
        assert values == [42] * 50
        assert loads == 1
        assert await cache.get_or_load("k", load) == 42 and loads == 1

    asyncio.run(main())


def test_entries_expire_and_a_change_drops_them() -> None:
    async def main() -> None:
        changes = ChangeWatch()
        cache: LookupCache[int] = LookupCache(ttl=0.05, changes=changes)
        counter = iter(range(100))

        async def load() -> int:
            return next(counter)

        assert await cache.get_or_load("k", load) == 0
        assert await cache.get_or_load("k", load) == 0
        changes.bump()
        assert await cache.get_or_load("k", load) == 1
        await asyncio.sleep(0.06)
        assert await cache.get_or_load("k", load) == 2

    asyncio.run(main())


def test_a_change_during_the_load_is_not_cached_over() -> None:
    async def main() -> None:
        changes = ChangeWatch()
        cache: LookupCache[str] = LookupCache(ttl=60, changes=changes)

        async def stale_load() -> str:
            changes.bump()  # a write lands while the old value is being read
            return "old"

        assert await cache.get_or_load("k", stale_load) == "old"
        assert cache.get("k") == (False, None)

    asyncio.run(main())


def test_a_failed_load_is_not_cached_and_reaches_every_waiter() -> None:
    async def main() -> None:
        cache: LookupCache[int] = LookupCache(ttl=60)

        async def failing() -> int:
            await asyncio.sleep(0.01)
            raise LookupError("database down")

        results = await asyncio.gather(
            *(cache.get_or_load("k", failing) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, LookupError) for r in results)

        async def working() -> int:
            return 7

        assert await cache.get_or_load("k", working) == 7

    asyncio.run(main())


def test_waiters_load_again_when_the_loading_caller_is_cancelled() -> None:
    async def main() -> None:
        cache: LookupCache[int] = LookupCache(ttl=60)
        started = asyncio.Event()

        async def slow() -> int:
            started.set()
            await asyncio.sleep(10)
            return 1

        async def quick() -> int:
            return 2

        first = asyncio.create_task(cache.get_or_load("k", slow))
        await started.wait()
        waiter = asyncio.create_task(cache.get_or_load("k", quick))
        await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await waiter == 2

    asyncio.run(main())
