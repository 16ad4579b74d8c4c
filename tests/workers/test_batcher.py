"""The Batcher: concurrent calls share handler calls; failures stay with their own items."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from switchboard.workers.batcher import Batcher, BatcherClosed

pytestmark = pytest.mark.timeout(10)


class Doubler:
    """A handler that doubles numbers, refuses 13 alone, and breaks whole batches with 666."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    async def __call__(self, items: list[int]) -> Sequence[int | Exception]:
        self.calls.append(list(items))
        await asyncio.sleep(0)  # a real handler waits for its commit
        if 666 in items:
            raise RuntimeError("the whole batch failed")
        return [ValueError("13 refused") if i == 13 else i * 2 for i in items]


def test_concurrent_calls_share_batches_and_each_gets_its_own_result() -> None:
    async def main() -> None:
        handler = Doubler()
        batcher: Batcher[int, int] = Batcher(handler, name="t", max_batch=40)
        results = await asyncio.gather(*(batcher.submit(i) for i in range(100, 200)))
        assert results == [i * 2 for i in range(100, 200)]
        assert [len(c) for c in handler.calls] == [40, 40, 20]
        assert batcher.batches == 3 and batcher.items == 100
        await batcher.close()

    asyncio.run(main())


def test_an_item_that_fails_alone_fails_only_its_caller() -> None:
    async def main() -> None:
        handler = Doubler()
        batcher: Batcher[int, int] = Batcher(handler, name="t")
        results = await asyncio.gather(
            *(batcher.submit(i) for i in (12, 13, 14)), return_exceptions=True
        )
        assert results[0] == 24 and results[2] == 28
        assert isinstance(results[1], ValueError)
        assert handler.calls == [[12, 13, 14]]
        await batcher.close()

    asyncio.run(main())


def test_a_failed_batch_is_retried_item_by_item_so_the_others_still_succeed() -> None:
    async def main() -> None:
        handler = Doubler()
        batcher: Batcher[int, int] = Batcher(handler, name="t")
        results = await asyncio.gather(
            *(batcher.submit(i) for i in (1, 666, 2)), return_exceptions=True
        )
        assert results[0] == 2 and results[2] == 4
        assert isinstance(results[1], RuntimeError)
        assert handler.calls == [[1, 666, 2], [1], [666], [2]]
        await batcher.close()

    asyncio.run(main())


def test_no_caller_hears_back_before_the_handler_has_finished() -> None:
    async def main() -> None:
        release = asyncio.Event()
        handled: list[int] = []

        async def slow(items: list[int]) -> list[int | Exception]:
            await release.wait()
            handled.extend(items)
            return list(items)

        batcher: Batcher[int, int] = Batcher(slow, name="t")
        calls = [asyncio.create_task(batcher.submit(i)) for i in range(5)]
        await asyncio.sleep(0.05)
        assert not any(c.done() for c in calls)
        release.set()
        assert await asyncio.gather(*calls) == list(range(5))
        assert handled == list(range(5))
        await batcher.close()

    asyncio.run(main())


def test_items_keep_arriving_while_a_batch_runs_and_form_the_next_batch() -> None:
    async def main() -> None:
        release = asyncio.Event()
        sizes: list[int] = []

        async def gated(items: list[int]) -> list[int | Exception]:
            sizes.append(len(items))
            await release.wait()
            return list(items)

        batcher: Batcher[int, int] = Batcher(gated, name="t")
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0.01)  # the first batch (of one) is running
        rest = [asyncio.create_task(batcher.submit(i)) for i in range(1, 8)]
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(first, *rest)
        assert sizes == [1, 7]
        await batcher.close()

    asyncio.run(main())


def test_a_cancelled_caller_s_item_is_still_handled() -> None:
    async def main() -> None:
        release = asyncio.Event()
        handled: list[int] = []

        async def gated(items: list[int]) -> list[int | Exception]:
            await release.wait()
            handled.extend(items)
            return list(items)

        batcher: Batcher[int, int] = Batcher(gated, name="t")
        call = asyncio.create_task(batcher.submit(7))
        await asyncio.sleep(0.01)
        call.cancel()
        release.set()
        await asyncio.sleep(0.01)
        assert handled == [7]
        await batcher.close()

    asyncio.run(main())


def test_close_finishes_what_is_waiting_then_refuses_new_items() -> None:
    async def main() -> None:
        handler = Doubler()
        batcher: Batcher[int, int] = Batcher(handler, name="t")
        pending = [asyncio.create_task(batcher.submit(i)) for i in range(3)]
        await asyncio.sleep(0)
        await batcher.close()
        assert [p.result() for p in pending] == [0, 2, 4]
        with pytest.raises(BatcherClosed):
            await batcher.submit(1)

    asyncio.run(main())
