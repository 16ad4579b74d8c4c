"""A raw TCP peer feeds the connector what a real SMSC never should: the connector answers
with the right negative response and carries on, or drops and reconnects when framing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from switchboard.carriers.smpp import SmppCarrier
from switchboard.carriers.smpp.constants import CommandId, EsmClass, Status
from switchboard.carriers.smpp.framing import read_frame
from switchboard.carriers.smpp.pdu import BindResp, MessageIdResp, Pdu, ShortMessage, decode, encode
from tests.smpp.helpers import Recorder, config_for, eventually, sms

pytestmark = pytest.mark.timeout(20)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def read(self, timeout: float = 3.0) -> Pdu:
        return decode(await asyncio.wait_for(read_frame(self.reader, 1 << 20), timeout))

    async def read_until(self, command_id: int, timeout: float = 3.0) -> Pdu:
        """Next PDU of one kind, answering keep-alives met on the way."""
        while True:
            pdu = await self.read(timeout)
            if pdu.command_id == command_id:
                return pdu
            if pdu.command_id == CommandId.ENQUIRE_LINK:
                await self.send(Pdu(CommandId.ENQUIRE_LINK_RESP, pdu.sequence_number))

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, pdu: Pdu) -> None:
        await self.send_raw(encode(pdu))

    async def accept_bind(self) -> Pdu:
        bind = await self.read()
        assert bind.command_id == CommandId.BIND_TRANSCEIVER
        await self.send(
            Pdu(CommandId.BIND_TRANSCEIVER_RESP, bind.sequence_number, body=BindResp("raw"))
        )
        return bind

    async def closed_by_peer(self, timeout: float = 3.0) -> bool:
        try:
            while True:
                data = await asyncio.wait_for(self.reader.read(4096), timeout)
                if not data:
                    return True
        except TimeoutError:
            return False


class RawSmsc:
    """Accepts connections and hands each to the test, which scripts every byte."""

    def __init__(self) -> None:
        self.connections: asyncio.Queue[Connection] = asyncio.Queue()
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RawSmsc:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.connections.put(Connection(reader, writer))

    async def next(self, timeout: float = 3.0) -> Connection:
        return await asyncio.wait_for(self.connections.get(), timeout)


Scenario = Callable[[RawSmsc, SmppCarrier, Recorder], Awaitable[None]]


def run(scenario: Scenario, **settings: Any) -> None:
    async def main() -> None:
        async with RawSmsc() as smsc:
            # The scripted peer never answers unbind: keep stop() from waiting long for it.
            settings.setdefault("response_timeout", 0.5)
            carrier = SmppCarrier(config_for(smsc.port, **settings))
            sink = Recorder()
            starting = asyncio.create_task(carrier.start(sink))
            try:
                await scenario(smsc, carrier, sink)
            finally:
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
                await asyncio.wait_for(carrier.stop(), 5)

    asyncio.run(asyncio.wait_for(main(), 18))


def header(length: int, command_id: int, status: int = 0, seq: int = 1) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in (length, command_id, status, seq))


def deliver_body(source: bytes = b"15551112222", text: bytes = b"hi", tail: bytes = b"") -> bytes:
    return (
        b"\x00"
        + b"\x01\x01"
        + source
        + b"\x00"
        + b"\x01\x01"
        + b"15550001111\x00"
        + b"\x00\x00\x00"
        + b"\x00"
        + b"\x00"
        + b"\x00\x00\x00\x00"
        + bytes([len(text)])
        + text
        + tail
    )


def deliver(seq: int, body: bytes) -> bytes:
    return header(16 + len(body), CommandId.DELIVER_SM, 0, seq) + body


def test_truncated_and_unknown_pdus_are_nacked_and_the_session_carries_on() -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        conn = await smsc.next()
        await conn.accept_bind()
        # A deliver_sm whose body stops inside source_addr.
        await conn.send_raw(header(16 + 6, CommandId.DELIVER_SM, 0, 11) + b"\x00\x01\x01155")
        nack = await conn.read()
        assert (nack.command_id, nack.command_status, nack.sequence_number) == (
            CommandId.GENERIC_NACK,
            Status.ESME_RINVCMDLEN,
            11,
        )
        await conn.send_raw(header(16, 0x0000_0777, 0, 12))
        nack = await conn.read()
        assert (nack.command_id, nack.command_status, nack.sequence_number) == (
            CommandId.GENERIC_NACK,
            Status.ESME_RINVCMDID,
            12,
        )
        # Still alive: keep-alive answered, a valid MO goes through.
        await conn.send(Pdu(CommandId.ENQUIRE_LINK, 13))
        assert (await conn.read()).command_id == CommandId.ENQUIRE_LINK_RESP
        await conn.send_raw(deliver(14, deliver_body(text=b"still here")))
        resp = await conn.read()
        assert (resp.command_id, resp.command_status) == (CommandId.DELIVER_SM_RESP, 0)
        assert [m.text for m in sink.mo] == ["still here"]
        assert carrier.status().binds[0].binds == 1  # never reconnected

    run(scenario)


@pytest.mark.parametrize(
    ("tail", "status"),
    [
        (b"\x04\x24\x00\x40short", Status.ESME_RINVOPTPARSTREAM),
        (b"\x04\x27\x00\x02\x00\x02", Status.ESME_RINVPARLEN),
        (b"\x02\x0e\x00\x02\x00\x02", Status.ESME_RINVPARLEN),
    ],
    ids=["overrun", "message_state-length", "sar_total_segments-length"],
)
def test_bad_tlv_lengths_get_the_right_status(tail: bytes, status: int) -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        conn = await smsc.next()
        await conn.accept_bind()
        await conn.send_raw(deliver(21, deliver_body(tail=tail)))
        resp = await conn.read()
        assert (resp.command_id, resp.command_status, resp.sequence_number) == (
            CommandId.DELIVER_SM_RESP,
            status,
            21,
        )
        assert sink.mo == []
        await conn.send_raw(deliver(22, deliver_body(text=b"next")))
        assert (await conn.read()).command_status == Status.ESME_ROK
        assert [m.text for m in sink.mo] == ["next"]

    run(scenario)


def test_bad_field_is_answered_by_its_own_response() -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        conn = await smsc.next()
        await conn.accept_bind()
        await conn.send_raw(deliver(31, deliver_body(source=b"1" * 30)))
        resp = await conn.read()
        assert (resp.command_id, resp.command_status) == (
            CommandId.DELIVER_SM_RESP,
            Status.ESME_RINVSRCADR,
        )

    run(scenario)


@pytest.mark.parametrize(
    "garbage",
    [
        header(0x7FFF_FFFF, CommandId.DELIVER_SM, 0, 41),  # oversize command_length
        header(8, CommandId.DELIVER_SM, 0, 42),  # shorter than a header
    ],
    ids=["oversize", "undersize"],
)
def test_lost_framing_drops_the_connection_and_reconnects(garbage: bytes) -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        conn = await smsc.next()
        await conn.accept_bind()
        await conn.send_raw(garbage)
        if int.from_bytes(garbage[:4], "big") > 16:
            nack = await conn.read()
            assert (nack.command_id, nack.command_status, nack.sequence_number) == (
                CommandId.GENERIC_NACK,
                Status.ESME_RINVCMDLEN,
                41,
            )
        assert await conn.closed_by_peer()
        again = await smsc.next()
        await again.accept_bind()
        await eventually(lambda: carrier.status().binds[0].binds == 2, what="second bind")
        assert "framing lost" in (carrier.status().binds[0].last_error or "")

    run(scenario)


def test_connection_cut_inside_a_pdu_reconnects() -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        conn = await smsc.next()
        await conn.accept_bind()
        await conn.send_raw(deliver(51, deliver_body())[:20])
        conn.writer.close()
        again = await smsc.next()
        await again.accept_bind()
        await eventually(lambda: carrier.status().binds[0].state == "bound", what="rebound")

    run(scenario)


def test_malformed_submit_sm_resp_is_resubmitted() -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        conn = await smsc.next()
        await conn.accept_bind()
        submitting = asyncio.create_task(carrier.submit(sms()))
        first = await conn.read_until(CommandId.SUBMIT_SM)
        # message_id without its NUL terminator
        await conn.send_raw(header(19, CommandId.SUBMIT_SM_RESP, 0, first.sequence_number) + b"abc")
        nack = await conn.read()
        assert (nack.command_id, nack.command_status) == (
            CommandId.GENERIC_NACK,
            Status.ESME_RINVCMDLEN,
        )
        second = await conn.read_until(CommandId.SUBMIT_SM)
        assert second.body == first.body
        await conn.send(
            Pdu(CommandId.SUBMIT_SM_RESP, second.sequence_number, body=MessageIdResp("ok-1"))
        )
        result = await submitting
        assert getattr(result, "carrier_message_id", None) == "ok-1"

    run(scenario)


def test_unanswered_submit_times_out_and_is_resubmitted() -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        conn = await smsc.next()
        await conn.accept_bind()
        submitting = asyncio.create_task(carrier.submit(sms()))
        await conn.read_until(CommandId.SUBMIT_SM)  # never answered
        second = await conn.read_until(CommandId.SUBMIT_SM, timeout=3)
        await conn.send(
            Pdu(CommandId.SUBMIT_SM_RESP, second.sequence_number, body=MessageIdResp("late-ok"))
        )
        result = await submitting
        assert getattr(result, "carrier_message_id", None) == "late-ok"
        assert carrier.status().counters.timeouts == 1

    run(scenario, response_timeout=0.5)


def test_unanswered_enquire_link_drops_and_reconnects() -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        conn = await smsc.next()
        await conn.accept_bind()
        assert (await conn.read()).command_id == CommandId.ENQUIRE_LINK  # left unanswered
        assert await conn.closed_by_peer()
        again = await smsc.next()
        await again.accept_bind()
        await eventually(lambda: carrier.status().binds[0].binds == 2, what="second bind")
        assert carrier.status().binds[0].last_error == "enquire_link unanswered"

    run(scenario, enquire_link_interval=0.2, response_timeout=0.3)


def test_refused_bind_backs_off_and_retries() -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        for _ in range(2):
            conn = await smsc.next()
            bind = await conn.read()
            await conn.send(
                Pdu(CommandId.BIND_TRANSCEIVER_RESP, bind.sequence_number, Status.ESME_RINVPASWD)
            )
        await eventually(
            lambda: "ESME_RINVPASWD" in (carrier.status().binds[0].last_error or ""),
            what="bind error in status",
        )
        conn = await smsc.next()
        await conn.accept_bind()
        await eventually(lambda: carrier.status().binds[0].state == "bound", what="bound")

    run(scenario)


def test_receipt_whose_report_fails_is_retried_when_resent() -> None:
    async def scenario(smsc: RawSmsc, carrier: SmppCarrier, sink: Recorder) -> None:
        sink.fail_reports = 1
        conn = await smsc.next()
        await conn.accept_bind()
        receipt = encode(
            Pdu(
                CommandId.DELIVER_SM,
                61,
                body=ShortMessage(
                    source_addr="15559990000",
                    esm_class=EsmClass.DELIVERY_RECEIPT,
                    short_message=b"id:77 sub:001 dlvrd:001 submit date:2601011200 "
                    b"done date:2601011201 stat:DELIVRD err:000 text:x",
                ),
            )
        )
        await conn.send_raw(receipt)
        assert (await conn.read()).command_status == Status.ESME_RX_T_APPN
        await conn.send_raw(receipt)  # the SMSC tries again
        assert (await conn.read()).command_status == Status.ESME_ROK
        assert [(r.carrier_message_id, r.status) for r in sink.reports] == [("77", "delivered")]

    run(scenario, receipt_hold=0)
