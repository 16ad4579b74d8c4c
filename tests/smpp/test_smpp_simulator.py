"""End to end against a real SMSC implementation: the node-smpp simulator."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.carriers.base import Accepted, Refused, SubmitResult
from switchboard.carriers.smpp import SmppCarrier
from tests.smpp.helpers import Recorder, Simulator, config_for, eventually, sms

pytestmark = pytest.mark.timeout(20)

Scenario = Callable[[SmppCarrier, Recorder], Awaitable[None]]


def run(sim: Simulator, scenario: Scenario, **settings: Any) -> None:
    async def main() -> None:
        carrier = SmppCarrier(config_for(sim.smpp_port, **settings))
        sink = Recorder()
        await carrier.start(sink)
        try:
            await scenario(carrier, sink)
        finally:
            await asyncio.wait_for(carrier.stop(), 5)

    asyncio.run(asyncio.wait_for(main(), 18))


def accepted(result: SubmitResult) -> str:
    assert isinstance(result, Accepted), result
    return result.carrier_message_id


def test_bind_submit_and_receipt(sim: Simulator) -> None:
    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        until = datetime.now(UTC) + timedelta(hours=1)
        message_id = accepted(
            await carrier.submit(sms(text="Hello €uro [x] {y}", valid_until=until))
        )
        await eventually(lambda: sink.report_for(message_id) is not None, what="receipt")
        report = sink.report_for(message_id)
        assert report is not None
        assert (report.carrier, report.status, report.error_code) == ("sim", "delivered", None)
        state = await sim.astate()
        [message] = state["messages"]
        assert message["text"] == "Hello €uro [x] {y}"
        assert (message["from"], message["from_ton"], message["from_npi"]) == (
            "15550001111",
            1,
            1,
        )
        assert (message["to"], message["to_ton"], message["to_npi"]) == ("15559990000", 1, 1)
        assert (message["data_coding"], message["registered_delivery"]) == (0, 1)
        assert message["validity_period"] == until.strftime("%y%m%d%H%M%S") + (
            f"{until.microsecond // 100_000}00+"
        )
        [bind] = [e for e in state["events"] if e["type"] == "bind"]
        assert (bind["role"], bind["interface_version"]) == ("transceiver", 0x34)
        status = carrier.status()
        assert status.bound == 1
        counters = status.counters
        assert (counters.submitted, counters.acked, counters.receipts, counters.reports) == (
            1,
            1,
            1,
            1,
        )
        as_json = json.loads(json.dumps(status.to_dict()))
        assert as_json["binds"][0]["state"] == "bound"
        assert as_json["binds"][0]["window_size"] == 64
        assert "secret" not in json.dumps(as_json)

    run(sim, scenario)


def test_receipt_statuses_by_destination(sim: Simulator) -> None:
    expected = {
        "+15550000001": ("delivery_failed", "40008"),  # UNDELIV
        "+15550000002": ("expired", "40005"),  # EXPIRED
        "+15550000003": ("delivery_failed", "40004"),  # REJECTD
        "+15550000004": ("delivery_unconfirmed", None),  # UNKNOWN
        "+15550000005": ("delivery_failed", "40008"),  # DELETED
        "+15550000006": ("delivered", None),  # ACCEPTD first, then DELIVRD
        "+15550000011": ("delivery_failed", "40012"),  # REJECTD, unknown subscriber
        "+15550000010": ("delivered", None),
    }

    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        results = await asyncio.gather(*(carrier.submit(sms(to=to)) for to in expected))
        ids = {to: accepted(result) for to, result in zip(expected, results, strict=True)}
        refused = await carrier.submit(sms(to="+15550000008"))
        assert isinstance(refused, Refused)
        assert (refused.code, refused.retry_after) == ("40012", None)
        await eventually(lambda: len(sink.reports) >= len(expected), what="all receipts")
        await asyncio.sleep(0.2)  # nothing more may come (ACCEPTD is not final)
        assert len(sink.reports) == len(expected)
        for to, (status, code) in expected.items():
            report = sink.report_for(ids[to])
            assert report is not None, to
            assert (report.status, report.error_code) == (status, code), to
        undeliv = sink.report_for(ids["+15550000001"])
        assert undeliv is not None and undeliv.error_detail is not None
        assert "stat:UNDELIV" in undeliv.error_detail

    run(sim, scenario)


@pytest.mark.parametrize("configured", [True, False], ids=["normalised", "unconfigured"])
def test_hex_submit_ids_and_decimal_receipts(sim: Simulator, configured: bool) -> None:
    sim.configure(id_format="hex", receipt_text_id_format="decimal", receipt_tlvs=False)
    settings: dict[str, Any] = {"receipt_hold": 0.3}
    if configured:
        settings.update(message_id_format="hex", receipt_id_format="decimal")

    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        message_id = accepted(await carrier.submit(sms()))
        await eventually(lambda: len(sink.reports) == 1, what="receipt")
        if configured:
            assert message_id == "70000"  # 0x00011170 from the SMSC, canonical decimal
            assert sink.reports[0].carrier_message_id == message_id
        else:
            assert message_id == "00011170"
            assert sink.reports[0].carrier_message_id == "0000070000"  # cannot match

    run(sim, scenario, **settings)


def test_receipt_before_submit_resp(sim: Simulator) -> None:
    sim.configure(receipt_before_resp=True)

    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        started = time.monotonic()
        message_id = accepted(await carrier.submit(sms()))
        assert sink.reports == []  # never reported before the caller has the id
        await eventually(lambda: sink.report_for(message_id) is not None, what="receipt")
        assert time.monotonic() - started < 1.5  # matched, not released by the hold timer
        assert carrier.status().receipts_held == 0

    run(sim, scenario)


def test_window_backpressure(sim: Simulator) -> None:
    sim.configure(resp_delay_ms=80)
    seen: list[int] = []

    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        async def watch() -> None:
            while True:
                seen.append(carrier.status().binds[0].window_used)
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        results = await asyncio.gather(*(carrier.submit(sms(text=f"n{i}")) for i in range(24)))
        watcher.cancel()
        assert all(isinstance(r, Accepted) for r in results)
        state = await sim.astate()
        assert state["max_inflight"] == 4
        assert max(seen) == 4

    run(sim, scenario, window=4)


def test_round_robin_across_binds(sim: Simulator) -> None:
    sim.configure(resp_delay_ms=50)

    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        assert carrier.status().bound == 2
        await asyncio.gather(*(carrier.submit(sms(text=f"n{i}")) for i in range(12)))
        state = await sim.astate()
        per_session: dict[int, int] = {}
        for event in state["events"]:
            if event["type"] == "submit_sm":
                per_session[event["session"]] = per_session.get(event["session"], 0) + 1
        assert sorted(per_session.values()) == [6, 6]
        assert all(s["max_inflight"] <= 3 for s in state["sessions"])

    run(sim, scenario, binds=2, window=3)


@pytest.mark.parametrize("status", [0x58, 0x14], ids=["ESME_RTHROTTLED", "ESME_RMSGQFUL"])
def test_throttling_slows_down_and_resubmits(sim: Simulator, status: int) -> None:
    sim.configure(throttle_next=3, throttle_status=status)

    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        started = time.monotonic()
        message_id = accepted(await carrier.submit(sms()))
        elapsed = time.monotonic() - started
        assert elapsed >= 0.5  # paused 0.1 + 0.2 + 0.4 s (±10 %) before the last try
        assert carrier.status().counters.throttled == 3
        assert len(await sim.events("throttled")) == 3
        await eventually(lambda: sink.report_for(message_id) is not None, what="receipt")

    run(sim, scenario)


def test_throttled_past_submit_timeout_is_given_back(sim: Simulator) -> None:
    sim.configure(throttle_next=1000)

    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        result = await carrier.submit(sms())
        assert isinstance(result, Refused)
        assert (result.code, result.retry_after) == ("40011", 5.0)
        assert carrier.status().throttled_for > 0

    run(sim, scenario, submit_timeout=1.0)


def test_reconnect_after_the_smsc_drops_the_connection(sim: Simulator) -> None:
    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        accepted(await carrier.submit(sms()))
        await sim.drop()
        await eventually(lambda: carrier.status().binds[0].binds == 2, what="second bind")
        message_id = accepted(await carrier.submit(sms(text="after reconnect")))
        await eventually(lambda: sink.report_for(message_id) is not None, what="receipt")
        assert len(await sim.events("bind")) == 2

    run(sim, scenario)


def test_reconnect_after_the_smsc_unbinds(sim: Simulator) -> None:
    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        await sim.unbind()
        await eventually(lambda: carrier.status().binds[0].binds == 2, what="second bind")
        assert carrier.status().binds[0].last_error == "unbound by peer"
        accepted(await carrier.submit(sms()))

    run(sim, scenario)


def test_wrong_password(sim: Simulator) -> None:
    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        bind = carrier.status().binds[0]
        assert bind.state != "bound"
        assert "ESME_RINVPASWD" in (bind.last_error or "")
        result = await carrier.submit(sms())
        assert isinstance(result, Refused)
        assert (result.code, result.retry_after) == ("40006", 5.0)

    run(sim, scenario, password="wrong", submit_timeout=0.3)


GSM_LONG = "Parts {with} [escapes] and €uro signs travel together. " * 7  # 3 parts
UCS2_LONG = "Привет, мир! Emoji travel too 😀. " * 5  # 3 parts
LATIN1_LONG = "Olé! Ça marche, £5 à Zürich. " * 12  # 3 parts


@pytest.mark.parametrize(
    ("mode", "text", "encoding", "settings", "sim_mode", "data_coding"),
    [
        ("udh", GSM_LONG, "GSM-7", {}, "udh8", 0),
        ("udh", GSM_LONG, "GSM-7", {"gsm7_packed": True}, "udh8", 0),
        ("sar", GSM_LONG, "GSM-7", {}, "sar", 0),
        ("sar", GSM_LONG, "GSM-7", {"gsm7_packed": True}, "sar", 0),
        ("payload", GSM_LONG, "GSM-7", {}, "payload", 0),
        ("payload", GSM_LONG, "GSM-7", {"gsm7_packed": True}, "payload", 0),
        ("udh", UCS2_LONG, "UCS-2", {}, "udh8", 8),
        ("sar", UCS2_LONG, "UCS-2", {}, "sar", 8),
        ("payload", UCS2_LONG, "UCS-2", {}, "payload", 8),
        ("udh", LATIN1_LONG, "GSM-7", {"default_data_coding": 3}, "udh8", 3),
    ],
    ids=[
        "udh",
        "udh-packed",
        "sar",
        "sar-packed",
        "payload",
        "payload-packed",
        "udh-ucs2",
        "sar-ucs2",
        "payload-ucs2",
        "udh-latin1",
    ],
)
def test_long_messages(
    sim: Simulator,
    mode: str,
    text: str,
    encoding: str,
    settings: dict[str, Any],
    sim_mode: str,
    data_coding: int,
) -> None:
    sim.configure(hold_receipts=True, gsm7_packed=settings.get("gsm7_packed", False))

    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        message_id = accepted(await carrier.submit(sms(text=text, encoding=encoding, parts=3)))
        parts = message_id.split(",")
        state = await sim.astate()
        [message] = state["messages"]
        assert message["text"] == text
        assert (message["mode"], message["data_coding"]) == (sim_mode, data_coding)
        assert message["message_ids"] == parts
        assert len(parts) == (1 if mode == "payload" else 3)
        if mode == "payload":
            assert state["submits"][0]["short_message_hex"] == ""  # all in message_payload
        else:
            assert all(s["octets"] <= 160 for s in state["submits"])
        await eventually(lambda: sim.state()["held"] == len(parts), what="held receipts")
        if len(parts) > 1:
            await sim.release(len(parts) - 1)
            await eventually(
                lambda: carrier.status().counters.receipts == len(parts) - 1, what="first receipts"
            )
            await asyncio.sleep(0.1)
            assert sink.reports == []  # not delivered while a part is outstanding
        await sim.release()
        await eventually(lambda: len(sink.reports) == 1, what="the one report")
        assert (sink.reports[0].carrier_message_id, sink.reports[0].status) == (
            message_id,
            "delivered",
        )

    run(sim, scenario, long_message_mode=mode, **settings)


def test_long_message_with_a_failed_part(sim: Simulator) -> None:
    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        message_id = accepted(await carrier.submit(sms(to="+15550000007", text=GSM_LONG)))
        await eventually(lambda: carrier.status().counters.receipts == 3, what="3 receipts")
        await asyncio.sleep(0.1)
        assert [(r.carrier_message_id, r.status, r.error_code) for r in sink.reports] == [
            (message_id, "delivery_failed", "40008"),
        ]

    run(sim, scenario)


def test_receipts_after_a_restart_are_joined_again(sim: Simulator) -> None:
    sim.configure(hold_receipts=True)

    async def main() -> None:
        first = SmppCarrier(config_for(sim.smpp_port))
        await first.start(Recorder())
        message_id = accepted(await first.submit(sms(text=GSM_LONG)))
        await first.stop()
        second = SmppCarrier(config_for(sim.smpp_port))
        second.restore(message_id)  # what the store persisted
        sink = Recorder()
        await second.start(sink)
        try:
            await sim.release()
            await eventually(lambda: second.status().counters.receipts == 3, what="receipts")
            await asyncio.sleep(0.1)
            assert [(r.carrier_message_id, r.status) for r in sink.reports] == [
                (message_id, "delivered"),
            ]
        finally:
            await second.stop()

    asyncio.run(asyncio.wait_for(main(), 18))


MO_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("gsm", {"text": "Hi there {ok} €5 @home"}, {}),
    ("ucs2", {"text": "Привет 😀", "coding": "ucs2"}, {}),
    ("latin1", {"text": "Olé, ça va?", "coding": "latin1"}, {}),
    ("udh8", {"text": "A" * 150 + "B" * 150 + "C" * 20, "concat": "udh8"}, {}),
    ("udh8-reversed", {"text": "1" * 153 + "2" * 153 + "3", "concat": "udh8", "reverse": True}, {}),
    (
        "udh16-ucs2",
        {"text": "Ж" * 67 + "😀" + "Ы" * 40, "coding": "ucs2", "concat": "udh16", "part_chars": 34},
        {},
    ),
    ("sar", {"text": "S" * 200, "concat": "sar"}, {}),
    ("payload", {"text": "P" * 300, "concat": "payload"}, {}),
    ("data_sm", {"text": "via data_sm", "command": "data_sm"}, {}),
    ("data_sm-udh8", {"text": "D" * 200, "command": "data_sm", "concat": "udh8"}, {}),
    (
        "packed-udh8",
        {"text": "Packed {septets} " * 20, "concat": "udh8", "packed": True},
        {"gsm7_packed": True},
    ),
    ("packed-7-chars", {"text": "1234567", "packed": True}, {"gsm7_packed": True}),
]


@pytest.mark.parametrize(("case", "message", "settings"), MO_CASES, ids=[c[0] for c in MO_CASES])
def test_mobile_originated(
    sim: Simulator, case: str, message: dict[str, Any], settings: dict[str, Any]
) -> None:
    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        await sim.mo(**{"from": "15551112222", "to": "15550001111"}, **message)
        await eventually(lambda: len(sink.mo) == 1, what="MO")
        await asyncio.sleep(0.1)
        [mo] = sink.mo
        assert (mo.carrier, mo.from_, mo.to) == ("sim", "+15551112222", "+15550001111")
        assert mo.text == message["text"]
        assert carrier.status().counters.mo == 1
        assert carrier.status().mo_pending == 0
        answers = await sim.events(f"{message.get('command', 'deliver_sm')}_resp")
        assert answers and all(a["status"] == 0 for a in answers)

    run(sim, scenario, **settings)


def test_mo_from_a_short_code(sim: Simulator) -> None:
    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        await sim.mo(**{"from": "55555", "to": "15550001111", "from_ton": 3, "text": "STOP"})
        await eventually(lambda: len(sink.mo) == 1, what="MO")
        assert (sink.mo[0].from_, sink.mo[0].text) == ("55555", "STOP")

    run(sim, scenario)


def test_transmitter_and_receiver_binds(sim: Simulator) -> None:
    async def scenario(carrier: SmppCarrier, sink: Recorder) -> None:
        roles = sorted(s["role"] for s in (await sim.astate())["sessions"])
        assert roles == ["receiver", "receiver", "transmitter", "transmitter"]
        ids = [accepted(await carrier.submit(sms(text=f"n{i}"))) for i in range(4)]
        await eventually(lambda: all(sink.report_for(i) for i in ids), what="receipts")
        await sim.mo(**{"from": "15551112222", "to": "15550001111", "text": "hello rx"})
        await eventually(lambda: len(sink.mo) == 1, what="MO")
        state = await sim.astate()
        roles_by_session = {s["id"]: s["role"] for s in state["sessions"]}
        submit_sessions = {e["session"] for e in state["events"] if e["type"] == "submit_sm"}
        deliver_sessions = {e["session"] for e in state["events"] if e["type"] == "deliver_sm"}
        assert {roles_by_session[s] for s in submit_sessions} == {"transmitter"}
        assert len(submit_sessions) == 2
        assert {roles_by_session[s] for s in deliver_sessions} == {"receiver"}

    run(sim, scenario, bind_mode="transmitter_receiver", binds=2)


def test_clean_unbind_on_stop(sim: Simulator) -> None:
    async def main() -> None:
        carrier = SmppCarrier(config_for(sim.smpp_port, binds=2))
        await carrier.start(Recorder())
        accepted(await carrier.submit(sms()))
        await carrier.stop()
        state = await sim.astate()
        unbinds = [e for e in state["events"] if e["type"] == "unbind"]
        closes = [e for e in state["events"] if e["type"] == "close"]
        assert sorted(e["session"] for e in unbinds) == [1, 2]
        assert sorted(e["session"] for e in closes) == [1, 2]
        assert all(u["role"] == "transceiver" for u in unbinds)
        assert not [e for e in state["events"] if e["type"] == "error"]
        assert {b.state for b in carrier.status().binds} == {"stopped"}
        after = await carrier.submit(sms())
        assert isinstance(after, Refused) and after.retry_after is not None

    asyncio.run(asyncio.wait_for(main(), 18))
