"""Receipts: parsing, id normalisation, status mapping, part tracking; MO reassembly."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from switchboard.carriers.smpp import message_ids, tlv
from switchboard.carriers.smpp.constants import EsmClass, Tag
from switchboard.carriers.smpp.pdu import ShortMessage
from switchboard.carriers.smpp.reassembly import Reassembler
from switchboard.carriers.smpp.receipts import (
    Outcome,
    is_receipt,
    outcome,
    parse_fields,
    parse_receipt,
)
from switchboard.carriers.smpp.throttle import TokenBucket
from switchboard.carriers.smpp.tracking import PartTracker
from tests.smpp.helpers import config_for

pytestmark = pytest.mark.timeout(20)

TEXT = (
    "id:0000065537 sub:001 dlvrd:001 submit date:2611271200 done date:2611271201 "
    "stat:DELIVRD err:000 text:Hello id:9 stat:X"
)


def _receipt(text: str, *tlvs: tlv.Tlv) -> ShortMessage:
    return ShortMessage(esm_class=EsmClass.DELIVERY_RECEIPT, short_message=text.encode(), tlvs=tlvs)


def test_parse_fields() -> None:
    fields = parse_fields(TEXT)
    assert fields["id"] == "0000065537"
    assert fields["submit_date"] == "2611271200"
    assert fields["stat"] == "DELIVRD"
    assert fields["text"] == "Hello id:9 stat:X"  # the message's own text is not parsed


def test_parse_receipt_text_only() -> None:
    receipt = parse_receipt(_receipt(TEXT), config_for(1, message_id_format="decimal"))
    assert receipt is not None
    assert receipt.carrier_message_id == "65537"
    assert receipt.done_date == datetime(2026, 11, 27, 12, 1, tzinfo=UTC)


def test_tlvs_win_over_text() -> None:
    body = _receipt(
        TEXT.replace("DELIVRD", "UNDELIV"),
        tlv.cstring(Tag.RECEIPTED_MESSAGE_ID, "00010001"),
        tlv.u8(Tag.MESSAGE_STATE, 2),
    )
    config = config_for(1, message_id_format="hex", receipt_id_format="decimal")
    receipt = parse_receipt(body, config)
    assert receipt is not None
    assert receipt.carrier_message_id == "65537"  # 0x10001
    result = outcome(receipt, config)
    assert result is not None and result.status == "delivered"


def test_receipt_without_id() -> None:
    assert parse_receipt(_receipt("stat:DELIVRD"), config_for(1)) is None


def test_is_receipt() -> None:
    assert is_receipt(EsmClass.DELIVERY_RECEIPT)
    assert is_receipt(EsmClass.DELIVERY_RECEIPT | EsmClass.UDHI)
    assert is_receipt(EsmClass.INTERMEDIATE_NOTIFICATION)
    assert not is_receipt(0)
    assert not is_receipt(EsmClass.UDHI)


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        ("0001A2B3", "hex", str(0x1A2B3)),
        ("1a2b3", "hex", str(0x1A2B3)),
        ("0000065537", "decimal", "65537"),
        (" abc-123 ", "string", "abc-123"),
        ("not-hex", "hex", "not-hex"),
    ],
)
def test_normalize(raw: str, fmt: str, expected: str) -> None:
    assert message_ids.normalize(raw, fmt) == expected


@pytest.mark.parametrize(
    ("stat", "status", "code"),
    [
        ("DELIVRD", "delivered", None),
        ("DELIVERED", "delivered", None),
        ("UNDELIV", "delivery_failed", "40008"),
        ("EXPIRED", "expired", "40005"),
        ("REJECTD", "delivery_failed", "40004"),
        ("DELETED", "delivery_failed", "40008"),
        ("UNKNOWN", "delivery_unconfirmed", None),
        ("ACCEPTD", None, None),
        ("ENROUTE", None, None),
    ],
)
def test_status_mapping(stat: str, status: str | None, code: str | None) -> None:
    receipt = parse_receipt(_receipt(f"id:1 stat:{stat} err:000"), config_for(1))
    assert receipt is not None
    result = outcome(receipt, config_for(1))
    if status is None:
        assert result is None
    else:
        assert result is not None
        assert (result.status, result.error_code) == (status, code)


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (2, "delivered"),
        (3, "expired"),
        (4, "delivery_failed"),
        (5, "delivery_failed"),
        (6, None),
        (7, "delivery_unconfirmed"),
        (8, "delivery_failed"),
        (1, None),
    ],
)
def test_message_state_mapping(state: int, status: str | None) -> None:
    receipt = parse_receipt(_receipt("id:1", tlv.u8(Tag.MESSAGE_STATE, state)), config_for(1))
    assert receipt is not None
    result = outcome(receipt, config_for(1))
    assert (result.status if result else None) == status


def test_error_codes() -> None:
    rejected = _receipt(
        "id:1 stat:REJECTD err:001", tlv.Tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x01")
    )
    receipt = parse_receipt(rejected, config_for(1))
    assert receipt is not None
    result = outcome(receipt, config_for(1))
    assert result is not None
    assert result.error_code == "40012"  # GSM "unknown subscriber"
    assert result.error_detail == "stat:REJECTD err:001 network_error:3/1"
    overridden = outcome(receipt, config_for(1, error_codes={"1": "40003"}))
    assert overridden is not None and overridden.error_code == "40003"


# --- part tracking ------------------------------------------------------------------------

DELIVERED = Outcome("delivered", None, None)
FAILED = Outcome("delivery_failed", "40008", "stat:UNDELIV")
UNKNOWN = Outcome("delivery_unconfirmed", None, "stat:UNKNOWN")
T1 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _sealed(tracker: PartTracker, *ids: str) -> None:
    group = tracker.open(len(ids))
    for index, part_id in enumerate(ids):
        tracker.add_part(group, index, part_id)
    assert tracker.seal(group) is None


def test_delivered_only_when_every_part_is() -> None:
    tracker = PartTracker(5)
    _sealed(tracker, "a", "b", "c")
    assert tracker.on_receipt("c", DELIVERED, T2) is None
    assert tracker.on_receipt("a", DELIVERED, T1) is None
    assert tracker.on_receipt("a", DELIVERED, T1) is None  # duplicate
    ready = tracker.on_receipt("b", DELIVERED, T1)
    assert ready is not None
    assert ready.carrier_message_id == "a,b,c"
    assert ready.outcome.status == "delivered"
    assert ready.occurred_at == T2  # when the last part arrived
    assert tracker.on_receipt("b", DELIVERED, T1) is None  # late duplicates are swallowed
    assert tracker.open_groups == 0


def test_one_failed_part_fails_the_message_at_once() -> None:
    tracker = PartTracker(5)
    _sealed(tracker, "a", "b")
    ready = tracker.on_receipt("b", FAILED, T1)
    assert ready is not None and ready.outcome == FAILED
    assert tracker.on_receipt("a", DELIVERED, T1) is None


def test_unknown_part_makes_it_unconfirmed() -> None:
    tracker = PartTracker(5)
    _sealed(tracker, "a", "b")
    assert tracker.on_receipt("a", UNKNOWN, T1) is None
    ready = tracker.on_receipt("b", DELIVERED, T1)
    assert ready is not None and ready.outcome.status == "delivery_unconfirmed"


def test_receipt_before_submit_resp_is_held_then_matched() -> None:
    clock = Clock()
    tracker = PartTracker(5, clock=clock)
    group = tracker.open(2)
    tracker.add_part(group, 0, "a")
    assert tracker.on_receipt("a", DELIVERED, T1) is None
    assert tracker.on_receipt("b", DELIVERED, T1) is None  # b's resp has not come yet
    assert tracker.held_receipts == 1
    tracker.add_part(group, 1, "b")
    ready = tracker.seal(group)  # decided before the caller got the id: handed back here
    assert ready is not None and ready.carrier_message_id == "a,b"
    assert tracker.held_receipts == 0


def test_held_receipts_are_released_by_part_id() -> None:
    clock = Clock()
    tracker = PartTracker(5, clock=clock)
    assert tracker.on_receipt("zz", FAILED, T1) is None
    clock.now = 4.9
    assert tracker.expire_held() == []
    clock.now = 5.0
    [ready] = tracker.expire_held()
    assert (ready.carrier_message_id, ready.outcome) == ("zz", FAILED)


def test_no_hold_reports_unknown_ids_at_once() -> None:
    ready = PartTracker(0).on_receipt("x", DELIVERED, None)
    assert ready is not None and ready.carrier_message_id == "x"


def test_restore_after_restart() -> None:
    tracker = PartTracker(5)
    tracker.restore("a,b")
    assert tracker.on_receipt("a", DELIVERED, T1) is None
    ready = tracker.on_receipt("b", DELIVERED, T1)
    assert ready is not None and ready.carrier_message_id == "a,b"


def test_abandoned_submission_swallows_receipts() -> None:
    tracker = PartTracker(5)
    group = tracker.open(2)
    tracker.add_part(group, 0, "a")
    tracker.abandon(group)
    assert tracker.on_receipt("a", DELIVERED, T1) is None
    assert tracker.held_receipts == 0


def test_tracker_is_bounded() -> None:
    tracker = PartTracker(5, max_groups=2)
    for name in ("a", "b", "c"):
        _sealed(tracker, name)
    assert tracker.open_groups == 2


# --- MO reassembly ------------------------------------------------------------------------


def test_reassembly_out_of_order() -> None:
    reassembler = Reassembler(10)
    key = ("+1555", "55555", "udh", 7, 3)
    assert reassembler.add(key, 3, b"!", 0) is None
    assert reassembler.add(key, 1, b"Hel", 0) is None
    done = reassembler.add(key, 2, b"lo", 0)
    assert done is not None and done.units == b"Hello!" and done.complete
    # kept until discarded, so a resent last part completes it again
    assert reassembler.add(key, 3, b"!", 0) is not None
    reassembler.discard(key)
    assert reassembler.pending == 0


def test_reassembly_expiry_releases_what_arrived() -> None:
    clock = Clock()
    reassembler = Reassembler(10, clock=clock)
    key = ("+1555", "55555", "sar", 9, 3)
    reassembler.add(key, 3, b"end", 0)
    reassembler.add(key, 1, b"start ", 0)
    clock.now = 10
    [partial] = reassembler.expire()
    assert partial.units == b"start end"
    assert not partial.complete
    assert reassembler.pending == 0


# --- token bucket -------------------------------------------------------------------------


def test_token_bucket_spaces_submits() -> None:
    async def scenario() -> float:
        bucket = TokenBucket(20.0, burst=1)
        start = time.monotonic()
        for _ in range(6):
            await bucket.acquire()
        return time.monotonic() - start

    elapsed = asyncio.run(scenario())
    assert 0.2 <= elapsed < 1.0  # five waits of 50 ms after the first token


def test_token_bucket_pause() -> None:
    async def scenario() -> float:
        bucket = TokenBucket(None)
        bucket.pause(0.2)
        bucket.pause(0.05)  # never shortens
        assert bucket.paused_for > 0.1
        start = time.monotonic()
        await bucket.acquire()
        return time.monotonic() - start

    assert asyncio.run(scenario()) >= 0.18


def test_token_bucket_try_acquire_never_jumps_the_queue() -> None:
    async def scenario() -> None:
        assert TokenBucket(None).try_acquire()  # unlimited
        bucket = TokenBucket(10.0, burst=1)
        assert bucket.try_acquire()
        assert not bucket.try_acquire()  # the next token is 100 ms away
        waiting = asyncio.create_task(bucket.acquire())
        await asyncio.sleep(0.12)
        assert waiting.done()
        assert TokenBucket(10.0, burst=1).try_acquire()
        paused = TokenBucket(None)
        paused.pause(1.0)
        assert not paused.try_acquire()
        queued = TokenBucket(10.0, burst=1)
        assert queued.try_acquire()
        first = asyncio.create_task(queued.acquire())
        await asyncio.sleep(0)  # it waits for the next token, in line
        assert not queued.try_acquire()  # nobody overtakes a waiting caller
        await first

    asyncio.run(scenario())
