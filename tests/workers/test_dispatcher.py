"""The dispatcher's share of the carriers: how many messages it holds at once, and when it
claims; and the completion time a receipt gives its message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.carriers.base import (
    Accepted,
    CarrierEvents,
    DeliveryReport,
    OutboundSubmission,
    SubmitResult,
)
from switchboard.carriers.smpp import SmppCarrierConfig
from switchboard.config import CarrierSettings, DispatcherSettings, Settings
from switchboard.domain.routing import RoutingTable
from switchboard.services import delivery
from switchboard.store.schema import messages
from switchboard.workers.carriers import CarrierSet
from switchboard.workers.dispatcher import Dispatcher, concurrency_for
from tests.workers.conftest import World, run

pytestmark = pytest.mark.timeout(60)


def smpp(name: str, binds: int, window: int) -> SmppCarrierConfig:
    return SmppCarrierConfig(
        name=name, host="127.0.0.1", system_id="sb", binds=binds, window=window
    )


def test_concurrency_follows_the_smpp_windows() -> None:
    def carriers(*configs: SmppCarrierConfig) -> CarrierSet:
        settings = Settings(mode="gateway", carriers=CarrierSettings(smpp=list(configs)))
        return CarrierSet.from_settings(settings)

    assert concurrency_for(carriers()) == 64  # the sandbox alone
    assert concurrency_for(carriers(smpp("a", 1, 10))) == 64  # never below 64
    assert concurrency_for(carriers(smpp("a", 1, 64))) == 128
    assert concurrency_for(carriers(smpp("a", 2, 200), smpp("b", 3, 10))) == 2 * (400 + 30)


class HeldCarrier:
    """Accepts every submission, but only when the test lets it."""

    name = "held"

    def __init__(self) -> None:
        self.waiting: list[asyncio.Future[None]] = []
        self.submitted: list[str] = []
        self.most = 0

    async def start(self, events: CarrierEvents) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def submit(self, submission: OutboundSubmission) -> SubmitResult:
        gate = asyncio.get_running_loop().create_future()
        self.waiting.append(gate)
        self.most = max(self.most, sum(not g.done() for g in self.waiting))
        await gate
        self.submitted.append(submission.message_id)
        return Accepted(f"h-{submission.message_id}")

    def release(self, count: int) -> None:
        for gate in [g for g in self.waiting if not g.done()][:count]:
            gate.set_result(None)


async def until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_the_dispatcher_holds_at_most_its_concurrency_each_message_once(db_url: str) -> None:
    async def scenario(w: World) -> None:
        ids = [r["id"] for r in await w.queued(30)]
        carrier = HeldCarrier()
        carriers = CarrierSet({"held": carrier}, RoutingTable(default="held"))
        dispatcher = Dispatcher(w.rt, carriers, "w1", concurrency=4)
        running = asyncio.create_task(dispatcher.run())

        async def all_sent() -> bool:
            carrier.release(1)
            return set((await w.status(ids)).values()) == {"sent"}

        await until(all_sent)
        assert sorted(carrier.submitted) == sorted(ids)  # each exactly once
        assert carrier.most == 4
        await dispatcher.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    run(db_url, scenario)


def test_the_dispatcher_claims_only_what_it_can_hand_over(db_url: str) -> None:
    """Also on PostgreSQL, whose planner may run a claim's subquery more than once."""

    async def scenario(w: World) -> None:
        ids = [r["id"] for r in await w.queued(10)]
        carrier = HeldCarrier()
        carriers = CarrierSet({"held": carrier}, RoutingTable(default="held"))
        dispatcher = Dispatcher(w.rt, carriers, "w1", concurrency=4)
        assert dispatcher.concurrency == 4
        running = asyncio.create_task(dispatcher.run())

        async def statuses() -> dict[str, int]:
            found = await w.status(ids)
            return {s: list(found.values()).count(s) for s in set(found.values())}

        async def counts_are(expected: dict[str, int]) -> bool:
            return await statuses() == expected

        await until(lambda: counts_are({"sending": 4, "queued": 6}))
        await asyncio.sleep(0.2)  # still: claimed rows never wait for a slot
        assert await statuses() == {"sending": 4, "queued": 6}
        assert carrier.most == 4

        carrier.release(1)  # one slot free: below half of them, no claim of a single row
        await until(lambda: counts_are({"sent": 1, "sending": 3, "queued": 6}))
        await asyncio.sleep(0.2)
        assert await statuses() == {"sent": 1, "sending": 3, "queued": 6}

        carrier.release(1)  # two free: both are claimed together
        await until(lambda: counts_are({"sent": 2, "sending": 4, "queued": 4}))

        while (await statuses()).get("sent", 0) < 10:
            carrier.release(4)
            await asyncio.sleep(0.01)
        assert sorted(carrier.submitted) == sorted(ids)  # each exactly once
        assert carrier.most == 4
        await dispatcher.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    run(db_url, scenario)


def test_the_concurrency_setting_wins(db_url: str) -> None:
    async def scenario(w: World) -> None:
        carriers = CarrierSet.from_settings(w.rt.settings)
        assert Dispatcher(w.rt, carriers, "w1").concurrency == 64
        w.rt.settings.dispatcher = DispatcherSettings(concurrency=300)
        assert Dispatcher(w.rt, carriers, "w1").concurrency == 300

    run(db_url, scenario)


def test_completion_is_never_before_sending_nor_after_the_receipt(db_url: str) -> None:
    """SMPP's `done date` has minutes only: a message delivered at 10:05:42 and sent at
    10:05:41 has a receipt saying 10:05. Its completion is when the receipt arrived."""

    async def scenario(w: World) -> None:
        await w.queued(4)
        claimed = await delivery.claim(w.rt, "w1", 100)
        rows = [
            await delivery.record_submit_result(w.rt, r, "sandbox", Accepted(f"c-{r['id']}"))
            for r in claimed
        ]
        assert len(rows) == 4 and all(r is not None for r in rows)
        sent_at = {r["id"]: r["sent_at"] for r in rows if r is not None}
        await asyncio.sleep(0.05)
        ids = list(sent_at)
        first_sent = min(sent_at.values())
        minute = first_sent.replace(second=0, microsecond=0)
        within = first_sent + (datetime.now(UTC) - first_sent) / 2
        cases = {
            ids[0]: minute - timedelta(seconds=1),  # before `sent`: cannot be
            ids[1]: datetime.now(UTC) + timedelta(hours=2),  # a clock two hours ahead
            ids[2]: None,  # no time at all
            ids[3]: max(within, sent_at[ids[3]]),  # plausible: kept
        }
        before = datetime.now(UTC)
        reports = [
            DeliveryReport(
                carrier="sandbox", carrier_message_id=f"c-{i}", status="delivered", occurred_at=at
            )
            for i, at in cases.items()
        ]
        assert await asyncio.gather(*(delivery.apply_delivery_report(w.rt, r) for r in reports))
        after = datetime.now(UTC)
        for i in ids[:3]:
            completed = (await w.message(i))["completed_at"]
            assert completed >= sent_at[i]
            assert before - timedelta(seconds=1) <= completed <= after, i
        assert (await w.message(ids[3]))["completed_at"] == cases[ids[3]]

    run(db_url, scenario)


def test_a_slow_submission_keeps_its_lease_and_is_sent_once(db_url: str) -> None:
    """A carrier may take longer than the lease to answer (an SMPP submit waits up to its
    `submit_timeout` for a bind); the live dispatcher renews its claims, so the lease
    recovery never takes the message for a dead worker's and sends it again."""

    async def scenario(w: World) -> None:
        (row,) = await w.queued(1)
        carrier = HeldCarrier()
        carriers = CarrierSet({"held": carrier}, RoutingTable(default="held"))
        dispatcher = Dispatcher(w.rt, carriers, "w1", concurrency=4)
        running = asyncio.create_task(dispatcher.run())
        await until(lambda: _is(w, row["id"], "sending"))
        for _ in range(8):  # four lease lengths, the recovery running all along
            await asyncio.sleep(0.15)
            assert await delivery.recover_stale(w.rt) == 0
        assert await w.status([row["id"]]) == {row["id"]: "sending"}
        carrier.release(1)
        await until(lambda: _is(w, row["id"], "sent"))
        assert carrier.submitted == [row["id"]]
        assert (await w.message(row["id"]))["attempts"] == 1
        await dispatcher.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    run(db_url, scenario, lease_seconds=0.3)


async def _is(w: World, message_id: str, status: str) -> bool:
    return (await w.status([message_id])).get(message_id) == status


def test_renewing_leases_moves_only_this_workers_sending_rows(db_url: str) -> None:
    async def scenario(w: World) -> None:
        await w.queued(3)
        claimed = await delivery.claim(w.rt, "w1", 100)
        ids = [r["id"] for r in claimed]
        before = {i: (await w.message(i))["claimed_at"] for i in ids}
        await asyncio.sleep(0.01)
        assert await delivery.renew_claims(w.rt, "w2", ids) == 0  # not w2's
        assert await delivery.renew_claims(w.rt, "w1", [*ids, "no-such-id"]) == 3
        after = {i: (await w.message(i))["claimed_at"] for i in ids}
        assert all(after[i] > before[i] for i in ids)

    run(db_url, scenario)


def test_renewing_skips_rows_another_transaction_is_recording(db_url: str) -> None:
    """On PostgreSQL the renewal does not wait for rows another transaction holds (waiting
    could deadlock with a batch recording their outcome); it leaves them to that batch."""
    if not db_url.startswith("postgresql"):
        pytest.skip("one writer at a time on SQLite: no row locks to skip")

    async def scenario(w: World) -> None:
        await w.queued(2)
        claimed = await delivery.claim(w.rt, "w1", 100)
        busy, free = claimed[0]["id"], claimed[1]["id"]
        async with w.rt.engine.connect() as other:
            holder = await other.begin()
            await other.execute(
                messages.update().where(messages.c.id == busy).values(updated_at=datetime.now(UTC))
            )
            renewed = await asyncio.wait_for(delivery.renew_claims(w.rt, "w1", [busy, free]), 5)
            await holder.rollback()
        assert renewed == 1

    run(db_url, scenario)
