"""Optional parameters (TLVs): encoding, strict decoding and typed reads.

Known tags are checked against the sizes SMPP 3.4 §5.3.2 gives them, so a peer's bad TLV is
answered with the right status instead of surfacing later as a confusing value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from switchboard.carriers.smpp.constants import Status, Tag
from switchboard.carriers.smpp.errors import PduError


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes


# Allowed value lengths (min, max) of the tags we read; other tags pass through untouched.
_LENGTHS: dict[int, tuple[int, int]] = {
    Tag.USER_MESSAGE_REFERENCE: (2, 2),
    Tag.SAR_MSG_REF_NUM: (2, 2),
    Tag.SAR_TOTAL_SEGMENTS: (1, 1),
    Tag.SAR_SEGMENT_SEQNUM: (1, 1),
    Tag.SC_INTERFACE_VERSION: (1, 1),
    Tag.RECEIPTED_MESSAGE_ID: (1, 65),
    Tag.NETWORK_ERROR_CODE: (3, 3),
    Tag.MESSAGE_PAYLOAD: (0, 0xFFFF),
    Tag.MESSAGE_STATE: (1, 1),
}


def u8(tag: int, value: int) -> Tlv:
    return Tlv(tag, value.to_bytes(1, "big"))


def u16(tag: int, value: int) -> Tlv:
    return Tlv(tag, value.to_bytes(2, "big"))


def cstring(tag: int, value: str) -> Tlv:
    return Tlv(tag, value.encode("latin-1") + b"\x00")


def encode_tlvs(tlvs: Iterable[Tlv]) -> bytes:
    out = bytearray()
    for item in tlvs:
        if len(item.value) > 0xFFFF:
            raise PduError(Status.ESME_RINVPARLEN, f"TLV 0x{item.tag:04X} is too long")
        out += item.tag.to_bytes(2, "big") + len(item.value).to_bytes(2, "big") + item.value
    return bytes(out)


def decode_tlvs(data: bytes) -> tuple[Tlv, ...]:
    """Split the optional part of a body, refusing lengths that overrun it or break the spec."""
    items: list[Tlv] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 4:
            raise PduError(Status.ESME_RINVOPTPARSTREAM, "truncated TLV header")
        tag = int.from_bytes(data[offset : offset + 2], "big")
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        offset += 4
        if offset + length > len(data):
            raise PduError(
                Status.ESME_RINVOPTPARSTREAM,
                f"TLV 0x{tag:04X} claims {length} octets, {len(data) - offset} remain",
            )
        value = data[offset : offset + length]
        offset += length
        bounds = _LENGTHS.get(tag)
        if bounds is not None and not bounds[0] <= length <= bounds[1]:
            raise PduError(Status.ESME_RINVPARLEN, f"TLV 0x{tag:04X} has length {length}")
        if tag == Tag.RECEIPTED_MESSAGE_ID and value[-1:] != b"\x00":
            raise PduError(Status.ESME_RINVPARLEN, "receipted_message_id is not NUL-terminated")
        items.append(Tlv(tag, value))
    return tuple(items)


def find(tlvs: Sequence[Tlv], tag: int) -> bytes | None:
    """The value of the first TLV with `tag` (a repeated single-valued TLV is the peer's bug)."""
    for item in tlvs:
        if item.tag == tag:
            return item.value
    return None


def get_int(tlvs: Sequence[Tlv], tag: int) -> int | None:
    value = find(tlvs, tag)
    return None if value is None else int.from_bytes(value, "big")


def get_cstring(tlvs: Sequence[Tlv], tag: int) -> str | None:
    value = find(tlvs, tag)
    if value is None:
        return None
    return value.split(b"\x00", 1)[0].decode("latin-1")
