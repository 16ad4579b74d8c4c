"""Profile metrics and number health against a known message history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import telnyx

from tests.harness import Server, new_number, wait_for
from tests.numbers.helpers import account_of, message_row, new_profile, provision, store_messages

FINAL = {"delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed", "expired"}

# Sandbox destinations (domain/sandbox.py) and how each message ends.
HISTORY = [
    ("+13125550100", "Hello", "delivered"),
    ("+13125550100", "Hello again", "delivered"),
    ("+13125550111", "Third", "delivered"),
    ("+13125550100", "x" * 200, "delivered"),  # two parts
    ("+13125550102", "unreachable", "delivery_failed"),
    ("+13125550105", "spam", "delivery_failed"),
    ("+13125550101", "refused", "sending_failed"),
    ("+13125550103", "silent", "delivery_unconfirmed"),
]


@pytest.fixture
def history(server: Server, client: telnyx.Telnyx) -> dict[str, Any]:
    """A profile whose sender sent HISTORY now, got 2 replies, and sent 1 message 2 days ago."""
    profile = new_profile(client, "Metrics")
    sender = new_number()
    provision(client, [sender], profile)
    ids = []
    for to, text, _ in HISTORY:
        sent = client.messages.send(from_=sender, to=to, text=text).data
        assert sent is not None and sent.id
        ids.append(sent.id)

    def all_final() -> bool:
        statuses = [client.messages.retrieve(i).data.to[0].status for i in ids]  # type: ignore[union-attr,index]
        return all(s in FINAL for s in statuses)

    wait_for(all_final, timeout=15)
    account = account_of(client, profile)
    now = datetime.now(UTC)
    store_messages(
        server,
        [
            *(
                message_row(
                    account_id=account,
                    profile_id=profile,
                    direction="inbound",
                    from_="+13125550100",
                    to=sender,
                    status="received",
                )
                for _ in range(2)
            ),
            message_row(
                account_id=account,
                profile_id=profile,
                direction="outbound",
                from_=sender,
                to="+13125550100",
                status="delivered",
                received_at=now - timedelta(days=2),
                cost="0.0040",
            ),
        ],
    )
    return {"profile": profile, "sender": sender}


def test_profile_metrics(server: Server, client: telnyx.Telnyx, history: dict[str, Any]) -> None:
    profile = history["profile"]
    day = client.messaging_profiles.retrieve_metrics(profile).data
    assert day is not None
    assert day["messaging_profile_id"] == profile
    assert day["time_frame"] == "24h"
    assert day["outbound"] == {
        "messages": 8,
        "parts": 9,
        "delivered": 4,
        "failed": 3,
        "unconfirmed": 1,
        "in_progress": 0,
        "by_status": {
            "scheduled": 0,
            "queued": 0,
            "sending": 0,
            "sent": 0,
            "delivered": 4,
            "delivery_failed": 2,
            "delivery_unconfirmed": 1,
            "sending_failed": 1,
            "expired": 0,
            "cancelled": 0,
        },
    }
    assert day["inbound"] == {"messages": 2, "parts": 2}
    assert day["delivery_rate"] == 0.5
    assert day["cost"] == {"amount": "0.0360", "currency": "USD"}  # 9 parts at 0.0040
    intervals: list[dict[str, Any]] = day["intervals"]  # type: ignore[assignment]
    assert day["interval_seconds"] == 3600 and len(intervals) == 24
    assert intervals[0]["start_time"] == day["start_time"]
    assert intervals[-1]["end_time"] == day["end_time"]
    assert [i["outbound"] for i in intervals[:-1]] == [0] * 23
    assert intervals[-1] | {"start_time": None, "end_time": None} == {
        "start_time": None,
        "end_time": None,
        "outbound": 8,
        "inbound": 2,
        "parts": 11,
        "delivered": 4,
        "failed": 3,
        "cost": "0.0360",
    }

    hour = client.messaging_profiles.retrieve_metrics(profile, time_frame="1h").data
    assert hour is not None and len(hour["intervals"]) == 12  # type: ignore[arg-type]
    assert hour["outbound"] == day["outbound"]
    week = client.messaging_profiles.retrieve_metrics(profile, time_frame="7d").data
    assert week is not None
    assert week["outbound"]["messages"] == 9  # type: ignore[index]
    assert week["delivery_rate"] == 0.5556
    assert week["cost"] == {"amount": "0.0400", "currency": "USD"}
    assert len(week["intervals"]) == 7  # type: ignore[arg-type]

    listed = client.messaging_profile_metrics.list(time_frame="24h")
    assert listed.data is not None and listed.meta is not None
    assert listed.meta.total_results == len(listed.data) == listed.meta.page_size
    (mine,) = [m for m in listed.data if m["messaging_profile_id"] == profile]
    assert "intervals" not in mine
    assert {k: mine[k] for k in ("outbound", "inbound", "delivery_rate", "cost")} == {
        k: day[k] for k in ("outbound", "inbound", "delivery_rate", "cost")
    }
    default = client.messaging_profile_metrics.list().data
    assert default is not None and all(m["time_frame"] == "24h" for m in default)

    for bad in ("2h", "24H", "1d"):
        with pytest.raises(telnyx.BadRequestError):
            client.messaging_profiles.retrieve_metrics(profile, extra_query={"time_frame": bad})
        with pytest.raises(telnyx.BadRequestError):
            client.messaging_profile_metrics.list(extra_query={"time_frame": bad})
    empty = httpx.get(  # the SDK drops empty query values; a raw client sends them
        f"{server.api_url}/messaging_profile_metrics?time_frame=",
        headers={"Authorization": f"Bearer {server.api_key}"},
    )
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["source"] == {"parameter": "time_frame"}
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.retrieve_metrics("00000000-0000-7000-8000-000000000000")

    other = server.client(api_key=server.new_account_key("metrics-other"))
    with pytest.raises(telnyx.NotFoundError):
        other.messaging_profiles.retrieve_metrics(profile)
    theirs = other.messaging_profile_metrics.list().data
    assert theirs is not None and all(m["messaging_profile_id"] != profile for m in theirs)


def test_number_health(client: telnyx.Telnyx, history: dict[str, Any]) -> None:
    health = client.phone_numbers.messaging.retrieve(history["sender"]).data.health  # type: ignore[union-attr]
    assert health is not None
    # 9 outbound this week (5 delivered, 1 blocked as spam, 3 otherwise failed), 2 inbound.
    assert health.message_count == 11
    assert health.success_ratio == 0.5556
    assert health.spam_ratio == 0.1111
    assert health.inbound_outbound_ratio == 0.2222


def test_metrics_indexes_exist(server: Server, backend: str) -> None:
    if backend == "sqlite":
        rows = server.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    else:
        rows = server.query("SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'")
    names = {r["name"] for r in rows}
    assert {
        "ix_messages_profile_received",
        "ix_messages_from_received",
        "ix_messages_to_received",
        "ix_bulk_update_orders_unfinished",
    } <= names
