"""What a session writes: the PDUs of one event-loop turn in one write, nothing lost at close."""

from __future__ import annotations

import asyncio
from typing import Any

from switchboard.carriers.smpp import SmppCarrierConfig
from switchboard.carriers.smpp.constants import CommandId, Status
from switchboard.carriers.smpp.pdu import EMPTY, Body, Pdu, encode
from switchboard.carriers.smpp.session import Session


class Transport:
    def get_write_buffer_size(self) -> int:
        return 0


class Writer:
    """Records writes and the close, in order."""

    def __init__(self) -> None:
        self.log: list[bytes | str] = []
        self.transport = Transport()
        self.closing = False

    def write(self, data: bytes) -> None:
        assert not self.closing
        self.log.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True
        self.log.append("close")

    async def drain(self) -> None:
        pass


async def _no_requests(pdu: Pdu) -> tuple[int, Body | None]:
    return Status.ESME_ROK, None


def bound_session() -> tuple[Session, Writer]:
    config = SmppCarrierConfig(name="t", host="127.0.0.1", system_id="sb")
    session = Session(config, "transceiver", _no_requests, label="t/trx-1")
    writer = Writer()
    session._writer = writer  # type: ignore[assignment]
    session.state = "bound"
    return session, writer


def test_pdus_sent_in_one_turn_go_out_in_one_write() -> None:
    async def scenario() -> list[Any]:
        session, writer = bound_session()
        pdus = [Pdu(CommandId.ENQUIRE_LINK_RESP, seq, Status.ESME_ROK, EMPTY) for seq in (1, 2, 3)]
        for pdu in pdus:  # none of these awaits lets the loop turn
            await session._send(pdu)
        assert writer.log == []  # not yet: at the next turn of the loop
        await asyncio.sleep(0)
        assert writer.log == [b"".join(encode(p) for p in pdus)]
        await session._send(Pdu(CommandId.ENQUIRE_LINK_RESP, 4, Status.ESME_ROK, EMPTY))
        await asyncio.sleep(0)
        return writer.log

    log = asyncio.run(scenario())
    assert len(log) == 2  # the later one alone


def test_a_frame_sent_just_before_closing_still_goes_out() -> None:
    async def scenario() -> list[Any]:
        session, writer = bound_session()
        resp = Pdu(CommandId.UNBIND_RESP, 7, Status.ESME_ROK, EMPTY)
        await session._send_quietly(resp)
        session.abort("unbound by peer")
        await asyncio.sleep(0)
        assert writer.log == [encode(resp), "close"]
        return writer.log

    asyncio.run(scenario())


def test_requests_time_out_without_an_answer() -> None:
    async def scenario() -> None:
        session, _ = bound_session()
        try:
            await session._request(CommandId.ENQUIRE_LINK, EMPTY, timeout=0.05)
        except Exception as exc:
            assert type(exc).__name__ == "ResponseTimeout"
            assert "0x00000015" in str(exc)
        else:
            raise AssertionError("no timeout")
        assert session._pending == {}

    asyncio.run(scenario())
