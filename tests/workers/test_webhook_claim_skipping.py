"""The webhook sender does not search the queue again while it could only find work for
hosts already at their limit, and searches again as soon as that may have changed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

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
