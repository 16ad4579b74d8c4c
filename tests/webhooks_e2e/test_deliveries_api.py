"""`GET /webhook_deliveries` and `GET /webhook_deliveries/{id}` through the SDK, strictly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import telnyx

from tests.harness import Server
from tests.webhooks_e2e.conftest import final, settled
from tests.webhooks_e2e.receiver import Receiver

pytestmark = pytest.mark.timeout(30)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_list_filters_paging_and_retrieve(
    wh_server: Server, wh_client: telnyx.Telnyx, sender: str, receiver: Receiver
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    ok_url, bad_url = receiver.url("/ok/listing"), receiver.url("/fail/listing")
    good = wh_client.messages.send(from_=sender, to="+13125550100", text="a", webhook_url=ok_url)
    bad = wh_client.messages.send(from_=sender, to="+13125550101", text="b", webhook_url=bad_url)
    assert good.data is not None and good.data.id and bad.data is not None and bad.data.id
    good_id, bad_id = good.data.id, bad.data.id
    final(wh_client, good_id)
    receiver.wait_for(lambda: settled(wh_server, good_id, 2) and settled(wh_server, bad_id, 1))
    after = datetime.now(UTC) + timedelta(seconds=1)

    def listed(**filters: object) -> list[telnyx.types.WebhookDelivery]:
        page = wh_client.webhook_deliveries.list(filter=filters, page_size=250)  # type: ignore[arg-type]
        return [d for d in page.data if d.webhook and d.webhook.payload]

    def message_ids(items: list[telnyx.types.WebhookDelivery]) -> list[tuple[str, str]]:
        return [
            (str(d.webhook.payload["id"]), str(d.webhook.event_type))
            for d in items
            if d.webhook and d.webhook.payload and d.webhook.payload["id"] in (good_id, bad_id)
        ]

    # Every delivery of both messages, newest first.
    everything = listed()
    assert sorted(message_ids(everything)) == sorted(
        [(bad_id, "message.finalized"), (good_id, "message.finalized"), (good_id, "message.sent")]
    )
    times = [d.webhook.occurred_at for d in everything if d.webhook and d.webhook.occurred_at]
    assert times == sorted(times, reverse=True)
    assert message_ids(listed(status={"eq": "failed"})) == [(bad_id, "message.finalized")]
    assert (bad_id, "message.finalized") not in message_ids(listed(status={"eq": "delivered"}))
    assert message_ids(listed(event_type="message.sent")) == [(good_id, "message.sent")]
    assert len(message_ids(listed(event_type="message.sent,message.finalized"))) == 3
    assert message_ids(listed(webhook={"contains": good_id})) == [
        (good_id, "message.finalized"),
        (good_id, "message.sent"),
    ]
    assert message_ids(listed(attempts={"contains": "/fail/listing"})) == [
        (bad_id, "message.finalized")
    ]
    assert message_ids(listed(attempts={"contains": "/nothing/like/this"})) == []
    window = {"gte": iso(before), "lte": iso(after)}
    assert len(message_ids(listed(started_at=window, finished_at=window))) == 3
    assert message_ids(listed(started_at={"gte": iso(after)})) == []
    assert message_ids(listed(finished_at={"lte": iso(before)})) == []

    # Paging: meta counts and one item per page.
    first = wh_client.webhook_deliveries.list(page_size=1, page_number=1)
    assert first.meta is not None and first.meta.page_size == 1
    assert first.meta.total_results is not None and first.meta.total_results >= 3
    assert first.meta.total_pages == first.meta.total_results
    second = wh_client.webhook_deliveries.list(page_size=1, page_number=2)
    assert len(first.data) == len(second.data) == 1
    assert first.data[0].id != second.data[0].id

    # Retrieve matches the listing.
    failed = listed(status={"eq": "failed"}, webhook={"contains": bad_id})[0]
    assert failed.id is not None
    one = wh_client.webhook_deliveries.retrieve(failed.id).data
    assert one is not None
    assert one == failed
    assert one.user_id and one.status == "failed" and len(one.attempts or []) == 3


def test_in_progress_delivery_has_no_status(
    wh_server: Server, wh_client: telnyx.Telnyx, sender: str, receiver: Receiver
) -> None:
    receiver.hang_seconds = 0.4
    sent = wh_client.messages.send(
        from_=sender, to="+13125550101", text="x", webhook_url=receiver.url("/fail/progress")
    )
    assert sent.data is not None and sent.data.id
    message_id = sent.data.id
    receiver.wait_hits(message_id, 1)
    rows = wh_server.query("SELECT id FROM webhook_deliveries WHERE message_id = :m", m=message_id)
    delivery = wh_client.webhook_deliveries.retrieve(rows[0]["id"]).data
    assert delivery is not None
    if len(delivery.attempts or []) < 3:  # still retrying
        assert delivery.status is None and delivery.finished_at is None
    receiver.wait_for(lambda: settled(wh_server, message_id, 1))


def test_errors_and_isolation(wh_server: Server, wh_client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError):
        wh_client.webhook_deliveries.retrieve("0190a3d2-0000-7000-8000-000000000000")
    with pytest.raises(telnyx.NotFoundError):
        wh_client.webhook_deliveries.retrieve("not-a-uuid")
    for query in (
        {"filter[status][eq]": "pending"},
        {"filter[started_at][gte]": "yesterday"},
        {"filter[finished_at][lte]": "2026-13-45"},
        {"page[size]": "251"},
    ):
        response = httpx.get(
            f"{wh_server.api_url}/webhook_deliveries",
            params=query,
            headers={"Authorization": f"Bearer {wh_server.api_key}"},
        )
        assert response.status_code == 422, query
        error = response.json()["errors"][0]
        assert error["code"] == "10025"
        assert error["source"]["parameter"] == next(iter(query))
    unauthenticated = httpx.get(f"{wh_server.api_url}/webhook_deliveries")
    assert unauthenticated.status_code == 401

    other = wh_server.client(wh_server.new_account_key("webhooks-other"))
    page = other.webhook_deliveries.list()
    assert page.data == []
    mine = wh_client.webhook_deliveries.list(page_size=1).data
    if mine:
        assert mine[0].id is not None
        with pytest.raises(telnyx.NotFoundError):
            other.webhook_deliveries.retrieve(mine[0].id)
