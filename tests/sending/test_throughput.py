"""Throughput limits per sender, counted in parts (DECISIONS item 5, messages.md §8.4)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from switchboard.domain.throughput import reserve
from tests.harness import Server, new_number, wait_for
from tests.sending.conftest import ServerFactory
from tests.sending.helpers import (
    as_utc,
    final_row,
    in_seconds,
    loose_client,
    new_sender,
    row,
    statuses,
)

SLOW = "+13125558001"  # 0.05 part/s: a second message waits 20 s
VERY_SLOW = "+13125558002"  # 0.01 part/s: a second message would wait past valid_until
UNLIMITED = "+13125558003"  # per-sender override of the long-code rate

ENV = {
    "SWITCHBOARD_THROUGHPUT__LONG_CODE": "2",  # one part every 0.5 s per long code
    "SWITCHBOARD_THROUGHPUT__PER_SENDER": json.dumps(
        {SLOW: 0.05, VERY_SLOW: 0.01, UNLIMITED: 100000}
    ),
    "SWITCHBOARD_SCHEDULING__MIN_LEAD_SECONDS": "1",
}


def next_attempts(server: Server, ids: list[str]) -> list[datetime]:
    return [as_utc(row(server, i)["next_attempt_at"]) for i in ids]


def gaps(times: list[datetime]) -> list[float]:
    return [round((b - a).total_seconds(), 3) for a, b in itertools.pairwise(times)]


def test_long_code_parts_wait_their_turn(make_server: ServerFactory) -> None:
    srv = make_server(ENV)
    client = srv.client()
    _, sender = new_sender(client)
    long_text = "x" * 400  # 3 GSM-7 parts
    ids, waits = [], []
    for text in ("one", "two", long_text, "four"):
        sent = client.messages.send(from_=sender, to="+13125550100", text=text).data
        assert sent is not None and sent.id and sent.to
        assert sent.to[0].status == "queued"
        ids.append(sent.id)
        waits.append(sent.wait_seconds or 0.0)
    # Each part holds the sender for 0.5 s: 1 part, 1 part, 3 parts, then the fourth.
    assert gaps(next_attempts(srv, ids)) == [0.5, 0.5, 1.5]
    assert waits[0] < 0.1
    assert 0.3 < waits[1] < 0.55 and 0.8 < waits[2] < 1.05 and 2.2 < waits[3] < 2.55
    finals = [final_row(srv, i) for i in ids]
    assert {f["status"] for f in finals} == {"delivered"}
    sent_at = [as_utc(f["sent_at"]) for f in finals]
    assert sent_at == sorted(sent_at)
    # Never earlier than its turn.
    for final, turn in zip(finals, next_attempts(srv, ids), strict=True):
        assert as_utc(final["sent_at"]) >= turn
    assert statuses(srv, ids[3]) == ["queued", "sending", "sent", "delivered"]


def test_limits_are_per_sender_and_per_type(make_server: ServerFactory) -> None:
    srv = make_server(ENV)
    client = srv.client()
    profile_id, long_a = new_sender(client)
    long_b, toll_free = new_number(), new_number("+1844555")
    client.number_orders.create(
        phone_numbers=[
            {"phone_number": long_b},
            {"phone_number": toll_free},
            {"phone_number": UNLIMITED},
        ],
        messaging_profile_id=profile_id,
    )
    waits: dict[str, list[float]] = {}
    for sender in (long_a, long_b, toll_free, UNLIMITED):
        for i in range(3):
            sent = client.messages.send(from_=sender, to="+13125550100", text=f"m{i}").data
            assert sent is not None
            waits.setdefault(sender, []).append(sent.wait_seconds or 0.0)
    # Two long codes: each has its own turn, 0.5 s per part.
    for sender in (long_a, long_b):
        assert waits[sender][0] < 0.1 and waits[sender][2] > 0.8
    # Toll-free (harness default: effectively unlimited) and the per-sender override.
    assert max(waits[toll_free]) < 0.01
    assert max(waits[UNLIMITED]) < 0.01
    kinds = srv.query(
        "SELECT DISTINCT sender_type FROM messages WHERE from_address = :f", f=toll_free
    )
    assert kinds == [{"sender_type": "toll_free"}]


def test_group_mms_recipients_share_the_sender(make_server: ServerFactory) -> None:
    srv = make_server(ENV)
    client = srv.client()
    _, sender = new_sender(client)
    sent = client.messages.send_group_mms(
        from_=sender, to=["+13125550100", "+13125550111", "+13125550122"], text="hi"
    ).data
    assert sent is not None and sent.id
    rows = srv.query("SELECT id FROM messages WHERE group_id = :g ORDER BY id", g=sent.id)
    assert gaps(next_attempts(srv, [r["id"] for r in rows])) == [0.5, 0.5]


def test_scheduled_messages_take_their_turn_when_released(make_server: ServerFactory) -> None:
    srv = make_server(ENV)
    client = srv.client()
    _, sender = new_sender(client)
    send_at = in_seconds(1.5)
    loose = loose_client(srv)  # scheduled responses: see helpers.loose_client
    ids = []
    for i in range(3):
        sent = loose.messages.send(from_=sender, to="+13125550100", text=f"s{i}", send_at=send_at)
        assert sent.data is not None and sent.data.id
        assert sent.data.wait_seconds == 0
        ids.append(sent.data.id)
    for message_id in ids:
        assert final_row(srv, message_id)["status"] == "delivered"
    assert gaps(next_attempts(srv, ids)) == [0.5, 0.5]
    waits = [row(srv, i)["wait_seconds"] for i in ids]
    assert waits[0] < 0.1 and 0.4 < waits[1] < 0.6 and 0.9 < waits[2] < 1.1


def test_waiting_past_valid_until_fails_with_40014(make_server: ServerFactory) -> None:
    srv = make_server(ENV)
    client = srv.client()
    profile_id, _ = new_sender(client)
    client.number_orders.create(
        phone_numbers=[{"phone_number": SLOW}], messaging_profile_id=profile_id
    )
    first = client.messages.send(
        from_=SLOW, to="+13125550100", text="first", webhook_url="http://127.0.0.1:9/h"
    ).data
    second = client.messages.send(
        from_=SLOW, to="+13125550100", text="second", webhook_url="http://127.0.0.1:9/h"
    ).data
    assert first is not None and first.id and second is not None and second.id
    assert second.wait_seconds is not None and 19 < second.wait_seconds <= 20
    assert final_row(srv, first.id)["status"] == "delivered"
    assert row(srv, second.id)["status"] == "queued"
    # Its deadline passes while it waits for its turn.
    srv.execute(
        "UPDATE messages SET valid_until = :t WHERE id = :i",
        t=datetime.now(UTC) - timedelta(seconds=1),
        i=second.id,
    )
    expired = final_row(srv, second.id, timeout=5)
    assert expired["status"] == "sending_failed"
    stored_errors = expired["errors"]
    if isinstance(stored_errors, str):  # SQLite hands JSON columns back as text here
        stored_errors = json.loads(stored_errors)
    assert [e["code"] for e in stored_errors] == ["40014"]
    assert statuses(srv, second.id) == ["queued", "sending_failed"]
    fetched = client.messages.retrieve(second.id).data
    assert fetched is not None and fetched.to and fetched.to[0].status == "sending_failed"
    assert fetched.errors and fetched.errors[0].code == "40014"

    def finalized() -> bool:
        rows = srv.query("SELECT event_type FROM webhook_events WHERE message_id = :i", i=second.id)
        return [r["event_type"] for r in rows] == ["message.finalized"]

    wait_for(finalized)


def test_a_message_that_cannot_start_in_time_does_not_hold_the_sender(
    make_server: ServerFactory,
) -> None:
    srv = make_server(ENV)
    client = srv.client()
    profile_id, _ = new_sender(client)
    client.number_orders.create(
        phone_numbers=[{"phone_number": VERY_SLOW}], messaging_profile_id=profile_id
    )
    ids = []
    for i in range(3):
        sent = client.messages.send(from_=VERY_SLOW, to="+13125550100", text=f"v{i}").data
        assert sent is not None and sent.id
        ids.append(sent.id)
    first, second, third = next_attempts(srv, ids)
    # 100 s per part, but valid_until is 4 h away: all three fit.
    assert gaps([first, second, third]) == [100.0, 100.0]

    srv2 = make_server({**ENV, "SWITCHBOARD_VALID_FOR_SECONDS": "60"})
    client2 = srv2.client()
    profile2, _ = new_sender(client2)
    client2.number_orders.create(
        phone_numbers=[{"phone_number": VERY_SLOW}], messaging_profile_id=profile2
    )
    ids2 = []
    for i in range(3):
        sent = client2.messages.send(from_=VERY_SLOW, to="+13125550100", text=f"w{i}").data
        assert sent is not None and sent.id
        ids2.append(sent.id)
    a, b, c = next_attempts(srv2, ids2)
    # The 2nd would start after its valid_until (60 s): it will expire, and the 3rd is not
    # pushed back behind it.
    assert (b - a).total_seconds() == 100.0 and b == c
    taken = srv2.query("SELECT next_free_at FROM sender_throughput WHERE address = :a", a=VERY_SLOW)
    assert as_utc(taken[0]["next_free_at"]) == b


def test_reserve_rules() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    slot = reserve(None, now, 2, 0.5)
    assert (slot.starts_at, slot.next_free_at, slot.wait_seconds) == (
        now,
        now + timedelta(seconds=4),
        0.0,
    )
    later = reserve(slot.next_free_at, now, 1, 0.5)
    assert later.starts_at == now + timedelta(seconds=4) and later.wait_seconds == 4.0
    # A sender free in the past starts at once.
    assert reserve(now - timedelta(hours=1), now, 1, 1).starts_at == now
    # Past valid_until: the slot is not taken.
    late = reserve(now + timedelta(seconds=10), now, 1, 1, valid_until=now + timedelta(seconds=5))
    assert late.next_free_at == now + timedelta(seconds=10)


def test_default_rates_are_telnyx_per_type_limits() -> None:
    from switchboard.config import ThroughputSettings

    limits = ThroughputSettings()
    assert (limits.long_code, limits.toll_free, limits.short_code, limits.alphanumeric) == (
        0.1,
        20.0,
        1000.0,
        0.1,
    )
    assert limits.rate_for("+13125550000", "toll_free") == 20.0
    override = ThroughputSettings(per_sender={"+13125550000": 5})
    assert override.rate_for("+13125550000", "long_code") == 5.0
    assert override.rate_for("MyShop", "alphanumeric") == 0.1
