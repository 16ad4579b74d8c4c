"""Text ↔ short_message bytes per data_coding: GSM-7 (packed or not), IA5, Latin-1, UCS-2.

The GSM tables and segment splitting come from the domain, so the parts sent always match
the `parts` the API reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.carriers.base import TextEncoding
from switchboard.carriers.smpp.constants import DataCoding
from switchboard.carriers.smpp.udh import septet_padding
from switchboard.domain.encoding import split_segments
from switchboard.domain.gsm7 import (
    UnencodableText,
    decode_gsm7,
    encode_gsm7,
    pack_septets,
    unpack_septets,
)

_CR = 0x0D


@dataclass(frozen=True)
class EncodedText:
    """A text ready for the wire: per-segment and whole-message bytes, before any packing."""

    data_coding: int
    segments: tuple[bytes, ...]
    whole: bytes

    @property
    def is_gsm7(self) -> bool:
        return self.data_coding == DataCoding.SMSC_DEFAULT


def encode_text(text: str, encoding: TextEncoding, gsm7_coding: int) -> EncodedText:
    """Encode for submit_sm. GSM-7 text goes out as `gsm7_coding` (0, 1 or 3); text that does
    not fit that charset falls back to UCS-2 rather than losing characters."""
    if encoding == "GSM-7":
        try:
            parts = split_segments(text, "GSM-7")
            return EncodedText(
                gsm7_coding,
                tuple(_encode_gsm_like(p, gsm7_coding) for p in parts),
                _encode_gsm_like(text, gsm7_coding),
            )
        except (UnencodableText, UnicodeEncodeError):
            pass
    parts = split_segments(text, "UCS-2")
    return EncodedText(
        DataCoding.UCS2,
        tuple(p.encode("utf-16-be") for p in parts),
        text.encode("utf-16-be"),
    )


def _encode_gsm_like(text: str, data_coding: int) -> bytes:
    if data_coding == DataCoding.LATIN1:
        return text.encode("latin-1")
    if data_coding == DataCoding.IA5:
        return text.encode("ascii")
    return encode_gsm7(text)


def pack(septets: bytes, udh_octets: int = 0) -> bytes:
    """Pack GSM-7 septets that follow a UDH of `udh_octets`.

    When the last octet would end with seven spare bits, they carry CR instead of zeros, so a
    receiver cannot mistake them for a trailing '@' (TS 23.038 §6.1.2.3.1).
    """
    padding = septet_padding(udh_octets)
    packed = bytearray(pack_septets(septets, padding))
    if packed and (len(packed) * 8 - padding - 7 * len(septets)) == 7:
        packed[-1] |= _CR << 1
    return bytes(packed)


def is_gsm_coding(data_coding: int) -> bool:
    """GSM 03.38 default alphabet: data_coding 0, or the 0xF0 message-class group without
    its 8-bit flag."""
    return data_coding == DataCoding.SMSC_DEFAULT or (
        data_coding & 0xF0 == 0xF0 and not data_coding & 0x04
    )


def to_units(data: bytes, data_coding: int, packed: bool, udh_octets: int = 0) -> bytes:
    """Undo GSM-7 packing so parts of a concatenated message can be joined before decoding."""
    if not (packed and is_gsm_coding(data_coding)) or not data:
        return data
    padding = septet_padding(udh_octets)
    bits = len(data) * 8 - padding
    count = bits // 7
    septets = unpack_septets(data, count, padding)
    if count * 7 == bits and septets[-1:] in (b"\x0d", b"\x00"):
        septets = septets[:-1]  # the filler of seven spare bits, not text
    return septets


def decode_units(units: bytes, data_coding: int) -> str:
    """Decode joined message bytes leniently: inbound text is never dropped for a bad byte."""
    if is_gsm_coding(data_coding):
        try:
            return decode_gsm7(units)
        except ValueError:
            return units.decode("latin-1")
    if data_coding == DataCoding.UCS2:
        return units.decode("utf-16-be", errors="replace")
    if data_coding == DataCoding.IA5:
        return units.decode("ascii", errors="replace")
    return units.decode("latin-1")
