"""The webhook sender does not search the queue again while it could only find work for
hosts already at their limit, and searches again as soon as that may have changed; a claim
that empties the queue of due deliveries says when the next one comes due."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from switchboard.domain.ids import new_id
from switchboard.services import webhooks
from switchboard.webhooks.envelope import StoredEvent
from switchboard.workers.webhook_sender import WebhookSender
from tests.workers.conftest import World, run


def test_claims_are_skipped_only_while_nothing_can_have_changed(db_url: str) -> None:
    async def scenario(w: World) -> None:
        sender = WebhookSender(w.rt, "ws")
        rt = w.rt
        assert sender._worth_claiming(["busy.example"])  # nothing known yet: claim

        def fruitless(seconds_ago: float = 0.0) -> None:
            sender._fruitless = (frozenset({"busy.example"}), time.monotonic() - seconds_ago)
            rt.webhook_hosts_queued = set()

        fruitless()
        assert not sender._worth_claiming(["busy.example"])  # nothing new since
        rt.wake_webhook_sender(["busy.example"])
        assert not sender._worth_claiming(["busy.example"])  # more, but for the busy host
        assert sender._worth_claiming([])  # the busy host freed a slot
        rt.wake_webhook_sender(["other.example"])
        assert sender._worth_claiming(["busy.example"])  # work for another host

        fruitless()
        rt.local_wakeups()["webhooks"]()  # another process queued something, host unknown
        assert sender._worth_claiming(["busy.example"])

        fruitless(seconds_ago=rt.settings.webhooks.poll_interval)
        assert sender._worth_claiming(["busy.example"])  # retries may have come due

        # Queueing an event tells the sender its host once the transaction commits.
        fruitless()
        now = datetime.now(UTC)
        async with rt.transaction() as conn:
            await webhooks.enqueue_event(
                rt,
                conn,
                account_id=w.account_id,
                event=StoredEvent(new_id(), "message.received", now, {"id": "m"}),
                targets=["http://other.example:8080/hook", "http://fallback.example/"],
                now=now,
            )
        assert rt.webhook_hosts_queued == {"other.example"}
        assert sender._worth_claiming(["busy.example"])

    run(db_url, scenario)


def test_a_claim_that_drains_the_queue_says_when_the_next_delivery_is_due(db_url: str) -> None:
    async def scenario(w: World) -> None:
        rt = w.rt
        now = datetime.now(UTC)
        later = now + timedelta(minutes=5)

        async def queue(at: datetime) -> None:
            async with rt.transaction() as conn:
                await webhooks.enqueue_event(
                    rt,
                    conn,
                    account_id=w.account_id,
                    event=StoredEvent(new_id(), "message.received", at, {"id": new_id()}),
                    targets=["http://receiver.example/hook"],
                    now=at,  # queued as if at `at`: due then
                )

        await queue(now - timedelta(seconds=1))
        await queue(later)
        await queue(now - timedelta(seconds=2))

        first = await webhooks.claim(rt, "ws", 1)
        assert len(first.claimed) == 1 and not first.drained  # took all it asked for
        second = await webhooks.claim(rt, "ws", 10)
        assert len(second.claimed) == 1 and second.drained
        assert second.next_due_at == later
        assert second.claimed[0].signer is first.claimed[0].signer  # key pairs derived once
        empty = await webhooks.claim(rt, "ws", 10)
        assert empty.claimed == [] and empty.drained and empty.next_due_at == later

    run(db_url, scenario)
