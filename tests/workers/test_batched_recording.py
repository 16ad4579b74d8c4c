"""The workers' outcomes recorded in batches: carriers' answers, receipts, webhook attempts.

Each batch is one transaction; what must hold is what held one message at a time: a status
change commits with its events and webhook rows, nothing is reported before the commit, the
state machine and the status guard still decide each message alone, and a failed commit
leaves the messages where lease recovery finds them.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from switchboard.carriers.base import Accepted, DeliveryReport, FinalStatus, Refused
from switchboard.domain.status import InvalidTransition
from switchboard.services import delivery, webhooks
from switchboard.store import messages as message_store
from switchboard.store.schema import webhook_attempts, webhook_deliveries
from switchboard.webhooks.client import AttemptResult
from switchboard.workers.batcher import Batcher
from switchboard.workers.carriers import CarrierSet
from switchboard.workers.dispatcher import Dispatcher
from switchboard.workers.intake import CarrierIntake
from tests.workers.conftest import World, run

pytestmark = pytest.mark.timeout(60)

Outcome = delivery.SubmitOutcome


def accepted(row: dict[str, Any]) -> Outcome:
    return Outcome(row, "sandbox", Accepted(carrier_message_id=f"c-{row['id']}"))


def receipt(row: dict[str, Any], status: FinalStatus = "delivered", **extra: Any) -> DeliveryReport:
    return DeliveryReport(
        carrier="sandbox", carrier_message_id=f"c-{row['id']}", status=status, **extra
    )


def results_batcher(w: World) -> Batcher[Outcome, dict[str, Any] | None]:
    return Batcher(functools.partial(delivery.record_submit_results, w.rt), name="results")


async def claim(w: World, count: int, worker: str = "w1") -> list[dict[str, Any]]:
    ids = {r["id"] for r in await w.queued(count)}
    claimed = await delivery.claim(w.rt, worker, 100)
    assert {r["id"] for r in claimed} == ids
    return claimed


def test_answers_and_receipts_commit_per_batch_with_their_events_and_webhooks(
    db_url: str,
) -> None:
    async def scenario(w: World) -> None:
        claimed = await claim(w, 12)
        ids = [r["id"] for r in claimed]
        outcomes = [accepted(r) for r in claimed[:10]]
        outcomes.append(Outcome(claimed[10], "sandbox", Refused("40008", "Unreachable")))
        outcomes.append(Outcome(claimed[11], "sandbox", Refused("40006", "Busy", retry_after=60)))
        recorder = results_batcher(w)
        rows = await asyncio.gather(*(recorder.submit(o) for o in outcomes))
        assert recorder.batches == 1  # one transaction for all twelve

        stored = {i: await w.message(i) for i in ids}
        for row in rows:  # what callers get is what was stored
            assert row is not None
            for column in ("status", "carrier", "carrier_message_id", "sent_at", "claimed_by"):
                assert row[column] == stored[row["id"]][column], column
        assert [stored[i]["carrier_message_id"] for i in ids[:10]] == [f"c-{i}" for i in ids[:10]]
        assert {stored[i]["status"] for i in ids[:10]} == {"sent"}
        assert stored[ids[10]]["status"] == "sending_failed"
        assert stored[ids[10]]["errors"][0]["code"] == "40008"
        assert stored[ids[11]]["status"] == "queued"
        assert stored[ids[11]]["next_attempt_at"] > datetime.now(UTC) + timedelta(seconds=50)
        assert await w.events_of(ids, "sent") == dict.fromkeys(ids[:10], 1)
        assert await w.webhooks_of(ids, "message.sent") == dict.fromkeys(ids[:10], 1)
        assert await w.webhooks_of(ids, "message.finalized") == {ids[10]: 1}

        # The carrier's time is kept when it lies between `sent` and the receipt's arrival.
        await asyncio.sleep(0.01)
        at = (stored[ids[9]]["sent_at"] + timedelta(milliseconds=1)).astimezone(
            timezone(timedelta(hours=2))
        )
        reports = [receipt(r) for r in claimed[:9]]
        reports.append(receipt(claimed[9], "delivery_failed", error_code="40002", occurred_at=at))
        receipts = Batcher(functools.partial(delivery.apply_delivery_reports, w.rt), name="r")
        assert await asyncio.gather(*(receipts.submit(r) for r in reports)) == [True] * 10
        assert receipts.batches == 1
        assert await w.status(ids[:10]) == {
            **dict.fromkeys(ids[:9], "delivered"),
            ids[9]: "delivery_failed",
        }
        failed = await w.message(ids[9])
        assert failed["completed_at"] == at and failed["errors"][0]["code"] == "40002"
        assert await w.events_of(ids, "delivered") == dict.fromkeys(ids[:9], 1)
        assert await w.webhooks_of(ids, "message.finalized") == dict.fromkeys(ids[:11], 1)
        await recorder.close()
        await receipts.close()

    run(db_url, scenario)


def test_a_move_the_state_machine_refuses_fails_alone(db_url: str) -> None:
    async def scenario(w: World) -> None:
        claimed = await claim(w, 4)
        ids = [r["id"] for r in claimed]
        stale = {**claimed[1], "status": "queued"}  # queued → sent is not a transition
        outcomes = [
            accepted(claimed[0]),
            accepted(stale),
            accepted(claimed[2]),
            accepted(claimed[3]),
        ]
        recorder = results_batcher(w)
        results = await asyncio.gather(
            *(recorder.submit(o) for o in outcomes), return_exceptions=True
        )
        assert isinstance(results[1], InvalidTransition)
        assert all(
            isinstance(r, dict) and r["status"] == "sent" for r in results[::2] + results[3:]
        )
        assert recorder.batches == 1
        assert await w.status(ids) == {
            ids[0]: "sent",
            ids[1]: "sending",
            ids[2]: "sent",
            ids[3]: "sent",
        }
        assert await w.events_of(ids, "sent") == {ids[0]: 1, ids[2]: 1, ids[3]: 1}
        assert ids[1] not in await w.webhooks_of(ids, "message.sent")
        await recorder.close()

    run(db_url, scenario)


def test_a_message_another_actor_moved_first_is_left_alone(db_url: str) -> None:
    async def scenario(w: World) -> None:
        claimed = await claim(w, 3)
        ids = [r["id"] for r in claimed]
        async with w.rt.transaction() as conn:  # lease recovery got there first
            await message_store.transition(conn, ids[1], ["sending"], {"status": "queued"})
        rows = await delivery.record_submit_results(w.rt, [accepted(r) for r in claimed])
        assert rows[1] is None
        assert rows[0] is not None and rows[2] is not None
        assert await w.status(ids) == {ids[0]: "sent", ids[1]: "queued", ids[2]: "sent"}
        assert await w.events_of(ids, "sent") == {ids[0]: 1, ids[2]: 1}

    run(db_url, scenario)


class CommitFault:
    """Makes the database's commits fail while armed (`left` of them; None: all)."""

    def __init__(self, w: World) -> None:
        self.dialect = w.rt.engine.sync_engine.dialect
        self.real = self.dialect.do_commit
        self.left: int | None = 0
        self.failed = 0

    def __call__(self, dbapi_connection: Any) -> None:
        if self.left is None or self.left > 0:
            if self.left is not None:
                self.left -= 1
            self.failed += 1
            raise OSError("injected: the disk is gone")
        self.real(dbapi_connection)

    def __enter__(self) -> CommitFault:
        self.dialect.do_commit = self  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.dialect.do_commit = self.real  # type: ignore[method-assign]


def test_a_failed_commit_reports_nothing_and_leaves_the_rows_to_lease_recovery(
    db_url: str,
) -> None:
    async def scenario(w: World) -> None:
        claimed = await claim(w, 5)
        ids = [r["id"] for r in claimed]
        recorder = results_batcher(w)
        with CommitFault(w) as fault:
            fault.left = None
            results = await asyncio.gather(
                *(recorder.submit(accepted(r)) for r in claimed), return_exceptions=True
            )
        assert all(isinstance(r, OSError) for r in results), results
        assert fault.failed >= 1 and recorder.batches == 0
        assert await w.status(ids) == dict.fromkeys(ids, "sending")
        assert await w.events_of(ids, "sent") == {}
        assert await w.webhooks_of(ids, "message.sent") == {}

        await asyncio.sleep(0.05)  # past the (tiny) lease
        assert await delivery.recover_stale(w.rt) == 5
        again = await delivery.claim(w.rt, "w2", 100)
        assert sorted(r["id"] for r in again) == sorted(ids)
        rows = await asyncio.gather(*(recorder.submit(accepted(r)) for r in again))
        assert all(r is not None and r["status"] == "sent" for r in rows)
        assert await w.events_of(ids, "sent") == dict.fromkeys(ids, 1)
        assert await w.webhooks_of(ids, "message.sent") == dict.fromkeys(ids, 1)
        await recorder.close()

    run(db_url, scenario, lease_seconds=0.01)


def test_after_a_commit_fails_once_each_message_is_recorded_once(db_url: str) -> None:
    async def scenario(w: World) -> None:
        claimed = await claim(w, 6)
        ids = [r["id"] for r in claimed]
        recorder = results_batcher(w)
        with CommitFault(w) as fault:
            fault.left = 1  # the batch's commit fails; the retries one by one succeed
            rows = await asyncio.gather(*(recorder.submit(accepted(r)) for r in claimed))
        assert fault.failed == 1
        assert all(r is not None and r["status"] == "sent" for r in rows)
        assert await w.events_of(ids, "sent") == dict.fromkeys(ids, 1)
        assert await w.webhooks_of(ids, "message.sent") == dict.fromkeys(ids, 1)
        await recorder.close()

    run(db_url, scenario)


def test_receipts_unknown_repeated_and_too_late_are_told_apart_in_one_batch(
    db_url: str,
) -> None:
    async def scenario(w: World) -> None:
        claimed = await claim(w, 3)
        ids = [r["id"] for r in claimed]
        await delivery.record_submit_results(w.rt, [accepted(r) for r in claimed])
        a, b, done = claimed
        assert await delivery.apply_delivery_reports(w.rt, [receipt(done)]) == [True]
        unknown = DeliveryReport(
            carrier="sandbox", carrier_message_id="c-nobody", status="delivered"
        )
        reports = [
            receipt(a),
            receipt(a, "delivery_failed"),  # a repeat, and contradicting: the first one won
            unknown,
            receipt(done, "delivery_failed"),  # already final
            receipt(b, "delivery_failed", error_code="40002"),
        ]
        known = await delivery.apply_delivery_reports(w.rt, reports)
        assert known == [True, True, False, True, True]
        assert await w.status(ids) == {
            a["id"]: "delivered",
            b["id"]: "delivery_failed",
            done["id"]: "delivered",
        }
        assert await w.events_of(ids, "delivered") == {a["id"]: 1, done["id"]: 1}
        assert await w.events_of(ids, "delivery_failed") == {b["id"]: 1}
        assert await w.webhooks_of(ids, "message.finalized") == dict.fromkeys(ids, 1)

    run(db_url, scenario)


def attempt(ok: bool = True) -> AttemptResult:
    now = datetime.now(UTC)
    return AttemptResult(
        url="http://127.0.0.1:9/hooks",
        status=200 if ok else 500,
        error=None if ok else "http_status",
        detail=None if ok else "HTTP 500",
        started_at=now,
        finished_at=now,
        elapsed_ms=1,
        request_headers=(),
        response_headers=(),
        response_body="ok",
        body_truncated=False,
    )


def test_webhook_attempts_are_recorded_together_and_a_lost_claim_is_not_overwritten(
    db_url: str,
) -> None:
    async def scenario(w: World) -> None:
        claimed = await claim(w, 3)
        await delivery.record_submit_results(w.rt, [accepted(r) for r in claimed])
        held = (await webhooks.claim(w.rt, "ws", 10)).claimed
        assert len(held) == 3
        lost = held[1].delivery["id"]
        async with w.rt.transaction() as conn:  # another worker took it over meanwhile
            await conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id == lost)
                .values(claimed_by="someone-else")
            )
        batch = [
            webhooks.Attempt(held[0], attempt(), b"{}", last_in_round=True),
            webhooks.Attempt(held[1], attempt(), b"{}", last_in_round=True),
            webhooks.Attempt(held[2], attempt(ok=False), b"{}", last_in_round=True),
        ]
        outcomes = await webhooks.record_attempts(w.rt, "ws", batch)
        assert outcomes == ["delivered", "delivered", "pending"]
        # Only the failed round leaves its message a pending delivery (its own retry, which
        # also lets the message's later events go): the sender claims again for it alone.
        assert [h.delivery["later_pending"] for h in held] == [False, False, True]
        ids = [h.delivery["id"] for h in held]
        async with w.rt.read() as conn:
            d = webhook_deliveries.c
            rows = {
                r.id: r
                for r in await conn.execute(sa.select(webhook_deliveries).where(d.id.in_(ids)))
            }
            attempts = (
                await conn.execute(
                    sa.select(sa.func.count()).where(webhook_attempts.c.delivery_id.in_(ids))
                )
            ).scalar()
        assert attempts == 3  # every attempt is kept
        assert rows[ids[0]].status == "delivered" and rows[ids[0]].attempt_count == 1
        assert rows[ids[0]].finished_at is not None and rows[ids[0]].claimed_by is None
        assert rows[lost].status == "delivering" and rows[lost].claimed_by == "someone-else"
        assert rows[lost].attempt_count == 0
        assert rows[ids[2]].status == "pending" and rows[ids[2]].rounds == 1
        assert rows[ids[2]].next_attempt_at is not None and rows[ids[2]].finished_at is None

    run(db_url, scenario)


def test_a_receipt_that_overtakes_its_sent_waits_for_it_instead_of_retrying(
    db_url: str,
) -> None:
    async def scenario(w: World) -> None:
        (row,) = await claim(w, 1)
        dispatcher = Dispatcher(w.rt, CarrierSet.from_settings(w.rt.settings), "w1")
        intake = CarrierIntake(w.rt, sent_recorded=dispatcher.recorded)
        release = asyncio.Event()
        record_batch = dispatcher.recorder.handler

        async def held_back(outcomes: list[Outcome]) -> Any:
            await release.wait()
            return await record_batch(outcomes)

        dispatcher.recorder.handler = held_back
        recording = asyncio.create_task(dispatcher.record(accepted(row)))
        await asyncio.sleep(0.01)
        reporting = asyncio.create_task(intake.delivery_report(receipt(row)))
        await asyncio.sleep(0.1)
        assert not reporting.done()  # found nothing, waits for the `sent` being recorded
        release.set()
        await asyncio.gather(recording, reporting)
        assert not intake._retries  # applied at once, not on the retry schedule
        assert await w.status([row["id"]]) == {row["id"]: "delivered"}

        stray = DeliveryReport(carrier="sandbox", carrier_message_id="c-nobody", status="delivered")
        await intake.delivery_report(stray)  # nobody records it: the timed retries take over
        assert len(intake._retries) == 1
        await intake.stop()
        await dispatcher.stop()

    run(db_url, scenario)
