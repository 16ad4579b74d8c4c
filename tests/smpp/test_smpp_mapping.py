"""Message mapping: text coding, UDH, addressing, validity, long-message modes, MO parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from switchboard.carriers.smpp import tlv
from switchboard.carriers.smpp.addressing import inbound_address
from switchboard.carriers.smpp.coding import decode_units, encode_text, pack, to_units
from switchboard.carriers.smpp.constants import DataCoding, EsmClass, Tag
from switchboard.carriers.smpp.inbound import parse_mo
from switchboard.carriers.smpp.outbound import MappingError, References, build_submits
from switchboard.carriers.smpp.pdu import DataSm, ShortMessage
from switchboard.carriers.smpp.smpp_time import (
    format_absolute,
    parse_absolute,
    parse_receipt_date,
)
from switchboard.carriers.smpp.udh import concat_udh, find_concat, septet_padding, split_udh
from switchboard.domain.gsm7 import encode_gsm7
from tests.smpp.helpers import config_for, sms

pytestmark = pytest.mark.timeout(20)


# --- GSM-7 packing ------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 6, 7, 8, 9, 15, 16, 153, 160])
@pytest.mark.parametrize("udh_octets", [0, 6, 7])
def test_pack_round_trip(length: int, udh_octets: int) -> None:
    septets = encode_gsm7(("Hello world, @ home! " * 10)[:length])
    packed = pack(septets, udh_octets)
    assert to_units(packed, 0, True, udh_octets) == septets


def test_pack_fills_seven_spare_bits_with_cr() -> None:
    packed = pack(encode_gsm7("1234567"))
    assert len(packed) == 7
    assert packed[-1] >> 1 == 0x0D
    assert pack(encode_gsm7("hello")) == bytes.fromhex("E8329BFD06")


def test_trailing_at_sign_survives_when_unambiguous() -> None:
    septets = encode_gsm7("ab@")
    assert to_units(pack(septets), 0, True) == septets


def test_septet_padding() -> None:
    assert septet_padding(0) == 0
    assert septet_padding(6) == 1
    assert septet_padding(7) == 0


# --- text coding --------------------------------------------------------------------------


def test_gsm7_text_stays_gsm7() -> None:
    encoded = encode_text("Price: 5€ [ok]", "GSM-7", 0)
    assert encoded.data_coding == DataCoding.SMSC_DEFAULT
    assert encoded.segments == (encode_gsm7("Price: 5€ [ok]"),)


def test_latin1_and_fallback_to_ucs2() -> None:
    assert encode_text("Olé £5 ¿", "GSM-7", 3).segments == ("Olé £5 ¿".encode("latin-1"),)
    # Δ and € are GSM-7 but not Latin-1: UCS-2 keeps them.
    fallback = encode_text("Δ costs 5€", "GSM-7", 3)
    assert fallback.data_coding == DataCoding.UCS2
    assert fallback.whole == "Δ costs 5€".encode("utf-16-be")
    assert encode_text("£", "GSM-7", 1).data_coding == DataCoding.UCS2


def test_segments_follow_the_domain_split() -> None:
    text = "x" * 161
    assert [len(s) for s in encode_text(text, "GSM-7", 0).segments] == [153, 8]
    emoji = "😀" * 40  # 80 UTF-16 units
    segments = encode_text(emoji, "UCS-2", 0).segments
    assert [len(s) for s in segments] == [132, 28]  # never splits a surrogate pair


@pytest.mark.parametrize(
    ("data", "coding", "text"),
    [
        (encode_gsm7("Grüße {x}"), 0, "Grüße {x}"),
        ("Olá".encode("latin-1"), 3, "Olá"),
        (b"plain", 1, "plain"),
        ("日本😀".encode("utf-16-be"), 8, "日本😀"),
        (encode_gsm7("class 1"), 0xF1, "class 1"),
        (b"\xff\xfe", 0, "ÿþ"),  # not septets: never dropped
    ],
)
def test_decode_units(data: bytes, coding: int, text: str) -> None:
    assert decode_units(data, coding) == text


# --- UDH ----------------------------------------------------------------------------------


def test_udh_round_trip() -> None:
    udh = concat_udh(0xAB, 3, 2)
    assert udh == bytes([5, 0, 3, 0xAB, 3, 2])
    elements, size = split_udh(udh + b"text")
    assert size == 6
    concat = find_concat(elements)
    assert concat is not None and (concat.reference, concat.total, concat.sequence) == (0xAB, 3, 2)
    wide = concat_udh(0x1234, 2, 1, wide=True)
    concat = find_concat(split_udh(wide)[0])
    assert concat is not None and concat.reference == 0x1234


@pytest.mark.parametrize("bad", [b"", b"\x09\x00\x03", b"\x03\x00\x05\x01"])
def test_broken_udh(bad: bytes) -> None:
    with pytest.raises(ValueError):
        split_udh(bad)


# --- addressing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "sender_type", "expected"),
    [
        ("+15550001111", "long_code", (1, 1, "15550001111")),
        ("+18445550142", "toll_free", (1, 1, "18445550142")),
        ("55555", "short_code", (3, 0, "55555")),
        ("Switchboard", "alphanumeric", (5, 0, "Switchboard")),
    ],
)
def test_source_ton_npi(sender: str, sender_type: str, expected: tuple[int, int, str]) -> None:
    body = build_submits(sms(sender=sender, sender_type=sender_type), config_for(1), References())
    assert (body[0].source_addr_ton, body[0].source_addr_npi, body[0].source_addr) == expected
    assert (body[0].dest_addr_ton, body[0].dest_addr_npi, body[0].destination_addr) == (
        1,
        1,
        "15559990000",
    )


def test_ton_npi_settings() -> None:
    config = config_for(1, short_code_ton=6, short_code_npi=1, dest_ton=2, source_npi=9)
    body = build_submits(
        sms(sender="55555", sender_type="short_code", to="+4477"), config, References()
    )[0]
    assert (body.source_addr_ton, body.source_addr_npi) == (6, 9)
    assert (body.dest_addr_ton, body.dest_addr_npi) == (2, 1)
    to_short = build_submits(sms(to="12345"), config_for(1), References())[0]
    assert (to_short.dest_addr_ton, to_short.dest_addr_npi) == (3, 0)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"sender": "This name is too long", "sender_type": "alphanumeric"}, "40013"),
        ({"sender": "1555-CALL", "sender_type": "long_code"}, "40013"),
        ({"to": "not a number"}, "40012"),
        ({"message_type": "MMS"}, "40009"),
        ({"valid_until": datetime.now(UTC) - timedelta(seconds=1)}, "40014"),
    ],
)
def test_unsendable(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(MappingError) as info:
        build_submits(sms(**kwargs), config_for(1), References())  # type: ignore[arg-type]
    assert info.value.code == code


@pytest.mark.parametrize(
    ("ton", "addr", "expected"),
    [
        (1, "15551112222", "+15551112222"),
        (0, "15551112222", "+15551112222"),
        (0, "55555", "55555"),
        (2, "5551112222", "5551112222"),
        (5, "BANK", "BANK"),
        (1, "+15551112222", "+15551112222"),
    ],
)
def test_inbound_address(ton: int, addr: str, expected: str) -> None:
    assert inbound_address(ton, addr) == expected


# --- validity and SMPP time -----------------------------------------------------------------


def test_validity_period_is_absolute_utc() -> None:
    until = datetime(2030, 1, 2, 3, 4, 5, 600_000, tzinfo=timezone(timedelta(hours=2)))
    body = build_submits(
        sms(valid_until=until), config_for(1), References(), now=datetime(2029, 1, 1, tzinfo=UTC)
    )[0]
    assert body.validity_period == "300102010405600+"
    assert body.registered_delivery == 1
    assert parse_absolute(body.validity_period) == until


def test_smpp_time_parsing() -> None:
    assert parse_absolute("300102030405004+") == datetime(2030, 1, 2, 2, 4, 5, tzinfo=UTC)
    assert parse_absolute("300102030405004-") == datetime(2030, 1, 2, 4, 4, 5, tzinfo=UTC)
    assert parse_absolute("000000010000000R") is None
    assert parse_absolute("301302030405000+") is None
    assert format_absolute(datetime(2030, 1, 2, 3, 4, 5)) == "300102030405000+"
    assert parse_receipt_date("2611271205") == datetime(2026, 11, 27, 12, 5, tzinfo=UTC)
    assert parse_receipt_date("261127120559") == datetime(2026, 11, 27, 12, 5, 59, tzinfo=UTC)
    assert parse_receipt_date("garbage") is None


# --- long messages ------------------------------------------------------------------------

LONG = "The quick brown fox jumps over the lazy dog. " * 8  # 360 characters, 3 parts


def test_udh_mode() -> None:
    bodies = build_submits(sms(text=LONG), config_for(1), References(7))
    assert len(bodies) == 3
    for seq, body in enumerate(bodies, start=1):
        assert body.esm_class == EsmClass.UDHI
        assert body.short_message[:6] == bytes([5, 0, 3, 7, 3, seq])
    assert b"".join(b.short_message[6:] for b in bodies) == encode_gsm7(LONG)


def test_udh_mode_packed() -> None:
    bodies = build_submits(sms(text=LONG), config_for(1, gsm7_packed=True), References())
    assert all(len(b.short_message) <= 140 for b in bodies)
    joined = b"".join(to_units(b.short_message[6:], 0, True, 6) for b in bodies)
    assert joined == encode_gsm7(LONG)


def test_sar_mode() -> None:
    bodies = build_submits(sms(text=LONG), config_for(1, long_message_mode="sar"), References(9))
    assert [tlv.get_int(b.tlvs, Tag.SAR_SEGMENT_SEQNUM) for b in bodies] == [1, 2, 3]
    assert {tlv.get_int(b.tlvs, Tag.SAR_TOTAL_SEGMENTS) for b in bodies} == {3}
    assert {tlv.get_int(b.tlvs, Tag.SAR_MSG_REF_NUM) for b in bodies} == {9}
    assert all(b.esm_class == 0 for b in bodies)


def test_payload_mode() -> None:
    [body] = build_submits(
        sms(text=LONG, encoding="UCS-2"), config_for(1, long_message_mode="payload"), References()
    )
    assert body.short_message == b""
    assert body.data_coding == DataCoding.UCS2
    assert tlv.find(body.tlvs, Tag.MESSAGE_PAYLOAD) == LONG.encode("utf-16-be")


def test_references_cycle() -> None:
    refs = References(255)
    assert refs.next(8) == 255
    assert refs.next(8) == 0
    assert References(65536).next(16) == 0


# --- MO parsing ---------------------------------------------------------------------------


def test_parse_mo_udh_and_sar() -> None:
    udh = concat_udh(3, 2, 1, wide=True)
    part = parse_mo(
        ShortMessage(
            source_addr="15551112222",
            source_addr_ton=1,
            destination_addr="55555",
            dest_addr_ton=3,
            esm_class=EsmClass.UDHI,
            short_message=udh + b"abc",
        ),
        False,
    )
    assert (part.source, part.destination, part.units) == ("+15551112222", "55555", b"abc")
    assert part.concat == ("udh", 3, 2, 1)
    sar = parse_mo(
        DataSm(
            tlvs=(
                tlv.Tlv(Tag.MESSAGE_PAYLOAD, b"xyz"),
                tlv.u16(Tag.SAR_MSG_REF_NUM, 500),
                tlv.u8(Tag.SAR_TOTAL_SEGMENTS, 2),
                tlv.u8(Tag.SAR_SEGMENT_SEQNUM, 2),
            )
        ),
        False,
    )
    assert sar.concat == ("sar", 500, 2, 2)
    assert sar.units == b"xyz"


def test_parse_mo_keeps_a_broken_udh_as_text() -> None:
    part = parse_mo(ShortMessage(esm_class=EsmClass.UDHI, short_message=b"\x09ab"), False)
    assert part.units == b"\x09ab"
    assert part.concat is None
