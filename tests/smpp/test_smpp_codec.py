"""The PDU codec, TLVs and framing: round trips and strict refusal of malformed input."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.carriers.smpp import tlv
from switchboard.carriers.smpp.constants import CommandId, Status, Tag
from switchboard.carriers.smpp.errors import FramingError, PduError, SessionClosed
from switchboard.carriers.smpp.framing import FrameReader, read_frame
from switchboard.carriers.smpp.pdu import (
    EMPTY,
    Bind,
    BindResp,
    DataSm,
    MessageIdResp,
    Pdu,
    ShortMessage,
    decode,
    encode,
    response_for,
)

pytestmark = pytest.mark.timeout(20)

ALL_TLVS = (
    tlv.Tlv(Tag.MESSAGE_PAYLOAD, b"payload bytes"),
    tlv.cstring(Tag.RECEIPTED_MESSAGE_ID, "ABC123"),
    tlv.u8(Tag.MESSAGE_STATE, 2),
    tlv.u16(Tag.SAR_MSG_REF_NUM, 0xBEEF),
    tlv.u8(Tag.SAR_TOTAL_SEGMENTS, 3),
    tlv.u8(Tag.SAR_SEGMENT_SEQNUM, 2),
    tlv.Tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x01"),
    tlv.u16(Tag.USER_MESSAGE_REFERENCE, 7),
    tlv.Tlv(0x1400, b"vendor specific, passed through"),
)

SUBMIT = ShortMessage(
    service_type="CMT",
    source_addr_ton=1,
    source_addr_npi=1,
    source_addr="15550001111",
    dest_addr_ton=1,
    dest_addr_npi=1,
    destination_addr="15559990000",
    esm_class=0x40,
    validity_period="261127120000000+",
    registered_delivery=1,
    data_coding=8,
    short_message=bytes(range(140)),
    tlvs=ALL_TLVS,
)

ROUND_TRIPS = [
    Pdu(CommandId.BIND_TRANSCEIVER, 1, body=Bind("sys", "pw", "VMA", 0x34, 1, 1, "^1555")),
    Pdu(CommandId.BIND_TRANSMITTER, 2, body=Bind("a" * 15, "b" * 8, "c" * 12)),
    Pdu(CommandId.BIND_RECEIVER, 3, body=Bind("sys")),
    Pdu(CommandId.BIND_TRANSCEIVER_RESP, 1, body=BindResp("smsc", (tlv.u8(0x0210, 0x34),))),
    Pdu(CommandId.BIND_TRANSMITTER_RESP, 2, body=BindResp("smsc")),
    Pdu(CommandId.BIND_RECEIVER_RESP, 3, body=BindResp("")),
    Pdu(CommandId.UNBIND, 4),
    Pdu(CommandId.UNBIND_RESP, 4),
    Pdu(CommandId.ENQUIRE_LINK, 0x7FFFFFFF),
    Pdu(CommandId.ENQUIRE_LINK_RESP, 0x7FFFFFFF),
    Pdu(CommandId.GENERIC_NACK, 9, Status.ESME_RINVCMDID),
    Pdu(CommandId.SUBMIT_SM, 5, body=SUBMIT),
    Pdu(CommandId.SUBMIT_SM_RESP, 5, body=MessageIdResp("x" * 64)),
    Pdu(
        CommandId.DELIVER_SM, 6, body=ShortMessage(esm_class=4, short_message=b"id:1 stat:DELIVRD")
    ),
    Pdu(CommandId.DELIVER_SM_RESP, 6, body=MessageIdResp("")),
    Pdu(
        CommandId.DATA_SM,
        7,
        body=DataSm(source_addr="1" * 64, destination_addr="2" * 64, tlvs=ALL_TLVS),
    ),
    Pdu(CommandId.DATA_SM_RESP, 7, body=MessageIdResp("abc", (tlv.u8(0x0425, 1),))),
]


@pytest.mark.parametrize("pdu", ROUND_TRIPS, ids=lambda p: CommandId(p.command_id).name)
def test_round_trip(pdu: Pdu) -> None:
    frame = encode(pdu)
    assert int.from_bytes(frame[:4], "big") == len(frame)
    assert decode(frame) == pdu


def test_known_bytes() -> None:
    assert encode(Pdu(CommandId.ENQUIRE_LINK, 1)) == bytes.fromhex(
        "00000010000000150000000000000001"
    )
    bind = encode(Pdu(CommandId.BIND_TRANSCEIVER, 2, body=Bind("ab", "pw")))
    assert bind == bytes.fromhex("0000001b0000000900000000000000026162007077000034000000")


def test_error_responses_have_no_body() -> None:
    frame = encode(Pdu(CommandId.SUBMIT_SM_RESP, 3, Status.ESME_RTHROTTLED, MessageIdResp("x")))
    assert len(frame) == 16
    decoded = decode(frame)
    assert decoded.command_status == Status.ESME_RTHROTTLED
    assert decoded.body == MessageIdResp("")
    bind_error = decode(encode(Pdu(CommandId.BIND_TRANSCEIVER_RESP, 1, Status.ESME_RINVPASWD)))
    assert bind_error.body == BindResp("")


def test_response_for() -> None:
    request = Pdu(CommandId.DELIVER_SM, 42, body=ShortMessage())
    assert response_for(request) == Pdu(CommandId.DELIVER_SM_RESP, 42, 0, MessageIdResp(""))
    nack = response_for(Pdu(CommandId.GENERIC_NACK, 5), Status.ESME_RINVCMDID)
    assert nack.command_id == CommandId.GENERIC_NACK


def _header(length: int, command_id: int, status: int = 0, seq: int = 77) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in (length, command_id, status, seq))


def _frame(command_id: int, body: bytes, seq: int = 77) -> bytes:
    return _header(16 + len(body), command_id, 0, seq) + body


def _decode_error(frame: bytes) -> PduError:
    with pytest.raises(PduError) as info:
        decode(frame)
    return info.value


def test_truncated_body_is_a_length_error() -> None:
    error = _decode_error(_frame(CommandId.DELIVER_SM, b"CMT\x00\x01\x01155"))
    assert error.status == Status.ESME_RINVCMDLEN
    assert error.header_error
    assert error.sequence_number == 77
    assert error.command_id == CommandId.DELIVER_SM


def test_missing_body_with_ok_status() -> None:
    error = _decode_error(_header(16, CommandId.SUBMIT_SM_RESP))
    assert error.status == Status.ESME_RINVCMDLEN
    # A bind response without its system_id is read leniently: nothing depends on it.
    assert decode(_header(16, CommandId.BIND_TRANSCEIVER_RESP)).body == BindResp("")


def test_length_disagreeing_with_frame() -> None:
    error = _decode_error(_header(20, CommandId.ENQUIRE_LINK))
    assert error.status == Status.ESME_RINVCMDLEN


def test_unknown_command() -> None:
    error = _decode_error(_header(16, 0x00000099))
    assert error.status == Status.ESME_RINVCMDID
    assert error.header_error


def test_extra_octets_after_an_empty_body() -> None:
    error = _decode_error(_frame(CommandId.ENQUIRE_LINK, b"\x00\x00"))
    assert error.status == Status.ESME_RINVCMDLEN


def _deliver_body(source: bytes = b"15551112222", tail: bytes = b"") -> bytes:
    fixed = b"\x00" + b"\x01\x01" + source + b"\x00" + b"\x01\x01" + b"15550001111\x00"
    flags = b"\x00\x00\x00" + b"\x00" + b"\x00" + b"\x00\x00\x00\x00"
    return fixed + flags + b"\x02hi" + tail


def test_valid_deliver_body_helper() -> None:
    pdu = decode(_frame(CommandId.DELIVER_SM, _deliver_body()))
    assert isinstance(pdu.body, ShortMessage)
    assert pdu.body.short_message == b"hi"


def test_c_string_too_long_names_the_field() -> None:
    error = _decode_error(_frame(CommandId.DELIVER_SM, _deliver_body(b"1" * 21)))
    assert error.status == Status.ESME_RINVSRCADR
    assert not error.header_error


def test_sm_length_running_past_the_pdu() -> None:
    body = _deliver_body()[:-3] + b"\x50hi"
    error = _decode_error(_frame(CommandId.DELIVER_SM, body))
    assert error.status == Status.ESME_RINVCMDLEN


def test_bad_time_field() -> None:
    body = bytearray(_deliver_body())
    # schedule_delivery_time sits after esm_class, protocol_id, priority_flag
    fixed = 1 + 2 + 12 + 2 + 12 + 3
    body[fixed : fixed + 1] = b"12345\x00"
    error = _decode_error(_frame(CommandId.DELIVER_SM, bytes(body)))
    assert error.status == Status.ESME_RINVSCHED


@pytest.mark.parametrize(
    ("tail", "status"),
    [
        (b"\x04\x24\x00\x10abc", Status.ESME_RINVOPTPARSTREAM),  # length overruns the PDU
        (b"\x04", Status.ESME_RINVOPTPARSTREAM),  # half a TLV header
        (b"\x04\x27\x00\x02\x00\x02", Status.ESME_RINVPARLEN),  # message_state is one octet
        (b"\x02\x0c\x00\x01\x05", Status.ESME_RINVPARLEN),  # sar_msg_ref_num is two
        (b"\x04\x23\x00\x02\x03\x00", Status.ESME_RINVPARLEN),  # network_error_code is three
        (b"\x00\x1e\x00\x03abc", Status.ESME_RINVPARLEN),  # receipted_message_id lacks NUL
        (b"\x00\x1e\x00\x00", Status.ESME_RINVPARLEN),  # receipted_message_id empty
    ],
)
def test_bad_tlvs(tail: bytes, status: int) -> None:
    error = _decode_error(_frame(CommandId.DELIVER_SM, _deliver_body(tail=tail)))
    assert error.status == status
    assert not error.header_error


def test_tlv_readers() -> None:
    tlvs = tlv.decode_tlvs(tlv.encode_tlvs(ALL_TLVS))
    assert tlvs == ALL_TLVS
    assert tlv.get_cstring(tlvs, Tag.RECEIPTED_MESSAGE_ID) == "ABC123"
    assert tlv.get_int(tlvs, Tag.SAR_MSG_REF_NUM) == 0xBEEF
    assert tlv.get_int(tlvs, Tag.MESSAGE_STATE) == 2
    assert tlv.find(tlvs, 0x9999) is None


@pytest.mark.parametrize(
    "body",
    [
        Bind("x" * 16),  # system_id max 15
        Bind("sys", "p" * 9),  # password max 8
        ShortMessage(source_addr="1" * 21),
        ShortMessage(short_message=b"x" * 255),
        ShortMessage(validity_period="1d"),
        ShortMessage(destination_addr="€"),
        ShortMessage(esm_class=256),
    ],
)
def test_encoding_refuses_what_the_spec_forbids(body: Bind | ShortMessage) -> None:
    command = CommandId.BIND_TRANSCEIVER if isinstance(body, Bind) else CommandId.SUBMIT_SM
    with pytest.raises(PduError):
        encode(Pdu(command, 1, body=body))


def test_encoding_wrong_body_type() -> None:
    with pytest.raises(PduError):
        encode(Pdu(CommandId.SUBMIT_SM, 1, body=EMPTY))


async def _read(data: bytes, max_length: int = 1024) -> bytes:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return await read_frame(reader, max_length)


def test_framing_cuts_frames() -> None:
    frame = encode(Pdu(CommandId.ENQUIRE_LINK, 5))
    assert asyncio.run(_read(frame + b"trailing")) == frame


def test_framing_too_short() -> None:
    with pytest.raises(FramingError) as info:
        asyncio.run(_read(_header(8, CommandId.ENQUIRE_LINK)))
    assert info.value.sequence_number is None


def test_framing_oversize_quotes_the_sequence() -> None:
    with pytest.raises(FramingError) as info:
        asyncio.run(_read(_header(0x7FFFFFFF, CommandId.SUBMIT_SM, seq=1234)))
    assert info.value.sequence_number == 1234
    assert info.value.status == Status.ESME_RINVCMDLEN


def test_framing_end_of_stream() -> None:
    with pytest.raises(SessionClosed):
        asyncio.run(_read(b""))
    with pytest.raises(SessionClosed):
        asyncio.run(_read(_header(40, CommandId.SUBMIT_SM)))  # body never comes


# --- FrameReader: every frame a read brought, the same checks as read_frame ----------------


def _reader(*chunks: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    for chunk in chunks:
        reader.feed_data(chunk)
    if eof:
        reader.feed_eof()
    return reader


def test_frame_reader_returns_every_frame_of_a_read() -> None:
    frames = [encode(Pdu(CommandId.ENQUIRE_LINK, seq)) for seq in (1, 2, 3)]
    big = encode(Pdu(CommandId.DELIVER_SM_RESP, 4, body=MessageIdResp("x" * 40)))
    stream = b"".join([*frames, big])

    async def scenario() -> list[list[bytes]]:
        # Cut anywhere, even inside a header: frames come out whole and in order.
        reader = _reader(stream[:5], stream[5:20], stream[20:])
        frame_reader = FrameReader(reader, 1024)
        got = []
        while sum(len(g) for g in got) < 4:
            got.append(await frame_reader.read())
        with pytest.raises(SessionClosed, match="closed by peer"):
            await frame_reader.read()
        return got

    got = asyncio.run(scenario())
    assert [f for batch in got for f in batch] == [*frames, big]
    assert len(got) < 4  # several frames per read

    async def one_read() -> list[bytes]:
        return await FrameReader(_reader(stream), 1024).read()

    assert asyncio.run(one_read()) == [*frames, big]


def test_frame_reader_hands_over_good_frames_before_a_bad_length() -> None:
    good = encode(Pdu(CommandId.ENQUIRE_LINK, 9))

    async def scenario(bad: bytes) -> FramingError:
        frame_reader = FrameReader(_reader(good + bad), 1024)
        assert await frame_reader.read() == [good]
        with pytest.raises(FramingError) as info:
            await frame_reader.read()
        return info.value

    short = asyncio.run(scenario(_header(8, CommandId.ENQUIRE_LINK)))
    assert short.sequence_number is None
    oversize = asyncio.run(scenario(_header(0x7FFFFFFF, CommandId.SUBMIT_SM, seq=1234)))
    assert oversize.sequence_number == 1234
    assert oversize.status == Status.ESME_RINVCMDLEN


def test_frame_reader_oversize_header_cut_short() -> None:
    async def scenario(eof: bool) -> FramingError:
        reader = _reader((0x7FFFFFFF).to_bytes(4, "big"), eof=eof)
        with pytest.raises(FramingError) as info:
            await FrameReader(reader, 1024).read()
        return info.value

    assert asyncio.run(scenario(eof=True)).sequence_number is None
    assert asyncio.run(scenario(eof=False)).sequence_number is None  # after the 1 s wait


def test_frame_reader_end_of_stream_inside_a_pdu() -> None:
    async def scenario() -> None:
        with pytest.raises(SessionClosed, match="middle of a PDU"):
            await FrameReader(_reader(_header(40, CommandId.SUBMIT_SM)), 1024).read()

    asyncio.run(scenario())
