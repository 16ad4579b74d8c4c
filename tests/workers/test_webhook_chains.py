"""A claim takes a message's later webhook deliveries with its earliest, in order, and never
one whose earlier delivery is still waiting or held by another worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.domain.ids import new_id
from switchboard.services import webhooks
from switchboard.webhooks.client import AttemptResult
from switchboard.webhooks.envelope import StoredEvent
from tests.workers.conftest import HOOK_URL, World, run


async def queue(w: World, message_id: str, *event_types: str) -> list[str]:
    """One delivery per event type, queued in that order a millisecond apart; their ids."""
    ids = []
    at = datetime.now(UTC) - timedelta(seconds=1)
    for i, event_type in enumerate(event_types):
        now = at + timedelta(milliseconds=i)
        async with w.rt.transaction() as conn:
            delivery = await webhooks.enqueue_event(
                w.rt,
                conn,
                account_id=w.account_id,
                event=StoredEvent(new_id(), event_type, now, {"id": message_id}),
                targets=[HOOK_URL],
                now=now,
                message_id=message_id,
            )
        assert delivery is not None
        ids.append(delivery)
    return ids


def event_types(claimed: list[webhooks.Claimed]) -> list[str]:
    return [c.event.event_type for c in claimed]


def test_one_claim_takes_a_messages_later_events_in_order(db_url: str) -> None:
    async def scenario(w: World) -> None:
        first, second = new_id(), new_id()
        await queue(w, first, "message.sent", "message.finalized")
        await queue(w, second, "message.sent", "message.finalized")

        # Asked for one delivery, the claim takes the oldest and the rest of its message.
        claimed = await webhooks.claim(w.rt, "worker-a", 1)
        assert [(c.delivery["message_id"], c.event.event_type) for c in claimed] == [
            (first, "message.sent"),
            (first, "message.finalized"),
        ]
        chains = webhooks.chains(claimed)
        assert [event_types(chain) for chain in chains] == [["message.sent", "message.finalized"]]

        claimed = await webhooks.claim(w.rt, "worker-a", 10)
        assert [event_types(chain) for chain in webhooks.chains(claimed)] == [
            ["message.sent", "message.finalized"]
        ]
        assert {c.delivery["message_id"] for c in claimed} == {second}
        assert await webhooks.claim(w.rt, "worker-a", 10) == []

    run(db_url, scenario)


def test_a_later_event_waits_while_another_worker_holds_the_earlier(db_url: str) -> None:
    async def scenario(w: World) -> None:
        message = new_id()
        await queue(w, message, "message.sent")
        held = await webhooks.claim(w.rt, "worker-a", 10)
        assert event_types(held) == ["message.sent"]

        await queue(w, message, "message.finalized")
        # worker-a's message.sent is in flight: nobody may take message.finalized yet.
        assert await webhooks.claim(w.rt, "worker-b", 10) == []

        [outcome] = await webhooks.record_attempts(
            w.rt, "worker-a", [webhooks.Attempt(held[0], delivered(), b"{}", True)]
        )
        assert outcome == "delivered"
        later = await webhooks.claim(w.rt, "worker-b", 10)
        assert event_types(later) == ["message.finalized"]

    run(db_url, scenario)


def delivered() -> AttemptResult:
    now = datetime.now(UTC)
    return AttemptResult(
        url=HOOK_URL,
        status=200,
        error=None,
        detail=None,
        started_at=now,
        finished_at=now,
        elapsed_ms=1,
        request_headers=(),
        response_headers=(),
        response_body="",
        body_truncated=False,
    )
