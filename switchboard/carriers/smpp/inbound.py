"""Reading a mobile-originated deliver_sm / data_sm: addresses, concatenation, payload."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.carriers.smpp import tlv
from switchboard.carriers.smpp.addressing import inbound_address
from switchboard.carriers.smpp.coding import to_units
from switchboard.carriers.smpp.constants import EsmClass, Tag
from switchboard.carriers.smpp.pdu import DataSm, ShortMessage
from switchboard.carriers.smpp.udh import find_concat, split_udh


@dataclass(frozen=True)
class InboundPart:
    source: str
    destination: str
    data_coding: int
    units: bytes
    concat: tuple[str, int, int, int] | None
    """(kind, reference, total, sequence) when the message is one part of several."""


def parse_mo(body: ShortMessage | DataSm, gsm7_packed: bool) -> InboundPart:
    payload = tlv.find(body.tlvs, Tag.MESSAGE_PAYLOAD)
    if payload is None and isinstance(body, ShortMessage):
        payload = body.short_message
    data = payload or b""
    concat: tuple[str, int, int, int] | None = None
    udh_octets = 0
    if body.esm_class & EsmClass.UDHI and data:
        try:
            elements, udh_octets = split_udh(data)
        except ValueError:
            udh_octets = 0  # a broken header: keep every octet as text rather than drop it
        else:
            found = find_concat(elements)
            if found is not None and found.total > 1:
                concat = ("udh", found.reference, found.total, found.sequence)
    if concat is None:
        sar = _sar(body)
        if sar is not None:
            concat = ("sar", *sar)
    content = data[udh_octets:]
    return InboundPart(
        source=inbound_address(body.source_addr_ton, body.source_addr),
        destination=inbound_address(body.dest_addr_ton, body.destination_addr),
        data_coding=body.data_coding,
        units=to_units(content, body.data_coding, gsm7_packed, udh_octets),
        concat=concat,
    )


def _sar(body: ShortMessage | DataSm) -> tuple[int, int, int] | None:
    """(reference, total, sequence) from the SAR TLVs of a part of several."""
    ref = tlv.get_int(body.tlvs, Tag.SAR_MSG_REF_NUM)
    total = tlv.get_int(body.tlvs, Tag.SAR_TOTAL_SEGMENTS)
    seq = tlv.get_int(body.tlvs, Tag.SAR_SEGMENT_SEQNUM)
    if ref is None or total is None or seq is None or total < 2 or not 1 <= seq <= total:
        return None
    return ref, total, seq
