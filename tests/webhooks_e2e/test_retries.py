"""Retries and failover against receivers that fail, hang or reset, on a fast schedule.

The module's servers retry after 0.2 s and 0.5 s (three rounds) and give receivers 0.5 s.
"""

from __future__ import annotations

from typing import Any

import pytest
import telnyx

from tests.harness import Server
from tests.webhooks.servers import unused_port
from tests.webhooks_e2e.conftest import settled
from tests.webhooks_e2e.receiver import Receiver, verify

pytestmark = pytest.mark.timeout(30)


def send(client: telnyx.Telnyx, sender: str, to: str = "+13125550101", **urls: str) -> str:
    """A message to a number the sandbox refuses: exactly one event (`message.finalized`)."""
    data = client.messages.send(from_=sender, to=to, text="retry me", **urls).data
    assert data is not None and data.id
    return data.id


def one_delivery(client: telnyx.Telnyx, server: Server, message_id: str) -> Any:
    """The settled delivery of the message's only event, read through the API."""
    rows = server.query("SELECT id FROM webhook_deliveries WHERE message_id = :m", m=message_id)
    assert len(rows) == 1
    delivery = client.webhook_deliveries.retrieve(rows[0]["id"]).data
    assert delivery is not None
    return delivery


def test_500_then_recovers_with_failover_each_round(
    wh_server: Server,
    wh_client: telnyx.Telnyx,
    sender: str,
    receiver: Receiver,
    public_key: str,
) -> None:
    primary, failover = receiver.url("/flaky/2/primary"), receiver.url("/fail/failover")
    message_id = send(wh_client, sender, webhook_url=primary, webhook_failover_url=failover)
    hits = receiver.wait_hits(message_id, 5)
    receiver.wait_for(lambda: settled(wh_server, message_id, 1))

    # Round 1: primary, failover; round 2 (0.2 s later): both again; round 3: primary answers.
    assert [h.path for h in hits] == [
        "/flaky/2/primary",
        "/fail/failover",
        "/flaky/2/primary",
        "/fail/failover",
        "/flaky/2/primary",
    ]
    events = [verify(h, public_key) for h in hits]
    assert [e.meta.attempt for e in events] == [1, 2, 3, 4, 5]
    assert [e.meta.delivered_to for e in events] == [primary, failover] * 2 + [primary]
    assert len({e.data.id for e in events}) == 1, "the event id is stable across retries"
    assert {e.data.event_type for e in events} == {"message.finalized"}
    assert hits[2].at - hits[1].at >= 0.18
    assert hits[4].at - hits[3].at >= 0.45

    delivery = one_delivery(wh_client, wh_server, message_id)
    assert delivery.status == "delivered"
    assert delivery.record_type == "webhook_delivery"
    assert delivery.webhook.id == events[0].data.id
    assert delivery.webhook.event_type == "message.finalized"
    assert delivery.webhook.payload["id"] == message_id
    attempts = delivery.attempts
    assert [a.status for a in attempts] == ["delivered"] + ["failed"] * 4  # newest first
    assert [a.http.request.url for a in attempts] == [primary] + [failover, primary] * 2
    assert [a.http.response.status for a in attempts] == [200, 500, 500, 500, 500]
    assert attempts[0].errors == [] and attempts[1].errors == [75001]
    assert attempts[0].http.response.body == '{"received":true}'
    assert attempts[1].http.response.body == "receiver error"
    sent_headers = {name.lower(): value for name, value in attempts[0].http.request.headers}
    assert {"telnyx-signature-ed25519", "telnyx-timestamp", "webhook-signature"} <= set(
        sent_headers
    )
    assert delivery.started_at == attempts[-1].started_at
    assert delivery.finished_at == attempts[0].finished_at
    assert all(a.finished_at >= a.started_at for a in attempts)


def test_failover_takes_over_in_the_same_round(
    wh_server: Server,
    wh_client: telnyx.Telnyx,
    sender: str,
    receiver: Receiver,
    public_key: str,
) -> None:
    primary, failover = receiver.url("/fail/p"), receiver.url("/ok/fo")
    message_id = send(wh_client, sender, webhook_url=primary, webhook_failover_url=failover)
    hits = receiver.wait_hits(message_id, 2)
    receiver.wait_for(lambda: settled(wh_server, message_id, 1))
    event = verify(hits[1], public_key)
    assert (event.meta.attempt, event.meta.delivered_to) == (2, failover)
    assert len(receiver.hits_for(message_id)) == 2
    rounds = wh_server.query(
        "SELECT a.round FROM webhook_attempts a JOIN webhook_deliveries d "
        "ON d.id = a.delivery_id WHERE d.message_id = :m",
        m=message_id,
    )
    assert [r["round"] for r in rounds] == [1, 1], "failover is tried at once, not next round"


def test_every_round_fails_then_failed_and_kept(
    wh_server: Server, wh_client: telnyx.Telnyx, sender: str, receiver: Receiver
) -> None:
    message_id = send(wh_client, sender, webhook_url=receiver.url("/fail/always"))
    receiver.wait_for(lambda: settled(wh_server, message_id, 1))
    assert len(receiver.hits_for(message_id)) == 3  # one per round, no more
    delivery = one_delivery(wh_client, wh_server, message_id)
    assert delivery.status == "failed"
    assert delivery.finished_at is not None
    assert len(delivery.attempts) == 3
    assert all(a.status == "failed" and a.errors == [75001] for a in delivery.attempts)


def test_hanging_receiver_times_out_then_failover(
    wh_server: Server,
    wh_client: telnyx.Telnyx,
    sender: str,
    receiver: Receiver,
    public_key: str,
) -> None:
    receiver.hang_seconds = 3.0
    primary, failover = receiver.url("/hang/slow"), receiver.url("/ok/fo")
    message_id = send(wh_client, sender, webhook_url=primary, webhook_failover_url=failover)
    hits = receiver.wait_hits(message_id, 2)
    assert 0.45 <= hits[1].at - hits[0].at < 2.0, "the 0.5 s timeout ends the first attempt"
    receiver.wait_for(lambda: settled(wh_server, message_id, 1))
    delivery = one_delivery(wh_client, wh_server, message_id)
    assert delivery.status == "delivered"
    delivered, timed_out = delivery.attempts
    assert timed_out.status == "failed" and timed_out.errors == [75002]
    assert timed_out.http.request.url == primary
    assert timed_out.http.response is None
    assert (timed_out.finished_at - timed_out.started_at).total_seconds() < 1.5
    assert delivered.http.request.url == failover
    assert verify(hits[1], public_key).meta.attempt == 2


def test_connection_reset_and_refused_are_recorded(
    wh_server: Server, wh_client: telnyx.Telnyx, sender: str, receiver: Receiver
) -> None:
    reset_url = receiver.url("/reset/now")
    refused_url = f"http://127.0.0.1:{unused_port()}/nobody"
    message_id = send(wh_client, sender, webhook_url=reset_url, webhook_failover_url=refused_url)
    receiver.wait_for(lambda: settled(wh_server, message_id, 1))
    delivery = one_delivery(wh_client, wh_server, message_id)
    assert delivery.status == "failed"
    assert len(delivery.attempts) == 6  # three rounds of two targets
    by_url: dict[str, set[int]] = {}
    for attempt in delivery.attempts:
        assert attempt.http.response is None
        by_url.setdefault(attempt.http.request.url, set()).update(attempt.errors)
    assert by_url == {reset_url: {75004}, refused_url: {75003}}
