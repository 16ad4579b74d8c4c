"""Deliveries survive a killed server; a slow receiver delays neither messages nor others."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import telnyx

from tests.harness import Server, wait_for
from tests.webhooks_e2e.conftest import TERMINAL, database_for, make_sender, settled
from tests.webhooks_e2e.receiver import Receiver, verify

pytestmark = pytest.mark.timeout(30)


def as_time(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def max_overlap(spans: list[dict[str, Any]], slack: float = 0.005) -> int:
    """Most intervals open at one moment (each shortened by `slack` at its end, so one
    request ending as the next starts is not counted as two at once)."""
    edges: list[tuple[datetime, int]] = []
    for span in spans:
        start, end = as_time(span["started_at"]), as_time(span["finished_at"])
        edges += [(start, 1), (max(start, end - timedelta(seconds=slack)), -1)]
    open_now = most = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        open_now += step
        most = max(most, open_now)
    return most


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_for(str(request.param), tmp_path)


def test_kill_with_deliveries_in_flight_then_restart(
    fresh_db: str, tmp_path: Path, receiver: Receiver
) -> None:
    # Receivers get 5 s, and this one hangs for 10: when the process dies, every delivery
    # is claimed and in flight, or waiting behind its message's earlier event.
    server = Server(
        fresh_db,
        tmp_path,
        env={
            "SWITCHBOARD_WEBHOOKS__TIMEOUT": "5",
            "SWITCHBOARD_WEBHOOKS__RETRY_SCHEDULE": "0,0.2s,0.5s",
        },
    )
    receiver.hang_seconds = 10
    server.start()
    try:
        client = server.client()
        number, _ = make_sender(client)
        url = receiver.url("/hang/restart")
        ids = []
        for i in range(3):
            data = client.messages.send(
                from_=number, to="+13125550100", text=f"r{i}", webhook_url=url
            ).data
            assert data is not None and data.id
            ids.append(data.id)
        receiver.wait_for(lambda: len(receiver.hits) >= 3)
        server.kill()
        rows = server.query("SELECT status FROM webhook_deliveries")
        assert {r["status"] for r in rows} <= {"delivering", "pending"}
        assert any(r["status"] == "delivering" for r in rows)

        receiver.release()  # from now on it answers at once
        server.start()
        public_key = server.cli("keys", "show").strip()
        receiver.wait_for(lambda: all(settled(server, m, 2) for m in ids), timeout=15)
        statuses = server.query("SELECT status FROM webhook_deliveries")
        assert {r["status"] for r in statuses} == {"delivered"}
        for message_id in ids:
            hits = receiver.hits_for(message_id)
            assert {h.event_type for h in hits} == {"message.sent", "message.finalized"}
            assert hits[-1].event_type == "message.finalized"
            for hit in hits:
                verify(hit, public_key)
    finally:
        server.stop()


def test_slow_receiver_delays_neither_messages_nor_other_receivers(
    wh_server: Server, wh_client: telnyx.Telnyx, receiver: Receiver, public_key: str
) -> None:
    receiver.hang_seconds = 0.3  # answers, but slowly: 24 events at 4 at a time take ~1.8 s
    slow_number, _ = make_sender(wh_client)
    fast_number, _ = make_sender(wh_client)
    slow_url = receiver.url("/hang/slow")
    # Another customer's endpoint: the same receiver, reached under another host name.
    fast_url = receiver.url("/ok/fast", host="localhost")

    started = time.monotonic()
    slow_ids = []
    for i in range(12):
        data = wh_client.messages.send(
            from_=slow_number, to="+13125550100", text=f"s{i}", webhook_url=slow_url
        ).data
        assert data is not None and data.id
        slow_ids.append(data.id)
    fast = wh_client.messages.send(
        from_=fast_number, to="+13125550100", text="fast", webhook_url=fast_url
    ).data
    assert fast is not None and fast.id
    fast_id = fast.id

    def all_final() -> bool:
        for message_id in [*slow_ids, fast_id]:
            data = wh_client.messages.retrieve(message_id).data
            if data is None or not data.to or data.to[0].status not in TERMINAL:
                return False
        return True

    wait_for(all_final, timeout=5)
    messages_done = time.monotonic() - started
    fast_hits = receiver.wait_hits(fast_id, 2, timeout=5)
    fast_done = fast_hits[-1].at - started
    assert [h.event_type for h in fast_hits] == ["message.sent", "message.finalized"]
    verify(fast_hits[-1], public_key)

    receiver.wait_for(lambda: all(settled(wh_server, m, 2) for m in slow_ids), timeout=15)
    slow_done = max(h.at for m in slow_ids for h in receiver.hits_for(m)) - started
    # Every message was final, and the other customer had both its events, well before the
    # slow endpoint had worked through its queue.
    assert messages_done < min(slow_done, 5.0), (messages_done, slow_done)
    assert fast_done + 0.5 < slow_done, (fast_done, slow_done)
    # The slow host never had more requests open at once than the per-host limit (4 here),
    # as the sender timed its attempts.
    in_ids = ",".join(f"'{m}'" for m in slow_ids)
    spans = wh_server.query(
        "SELECT a.started_at, a.finished_at FROM webhook_attempts a "
        "JOIN webhook_deliveries d ON d.id = a.delivery_id "
        f"WHERE d.message_id IN ({in_ids})"
    )
    assert 2 <= max_overlap(spans) <= 4
    assert {h.headers.get("Host", "").split(":")[0] for h in fast_hits} == {"localhost"}
    slow_rows = wh_server.query(
        "SELECT status FROM webhook_deliveries WHERE target_host = '127.0.0.1' "
        f"AND message_id IN ({in_ids})"
    )
    assert len(slow_rows) == 24 and {r["status"] for r in slow_rows} == {"delivered"}
