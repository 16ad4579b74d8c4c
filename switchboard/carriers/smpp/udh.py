"""User Data Header: the concatenation information elements (3GPP TS 23.040 §9.2.3.24)."""

from __future__ import annotations

from dataclasses import dataclass

IEI_CONCAT_8BIT = 0x00
IEI_CONCAT_16BIT = 0x08

CONCAT_UDH_OCTETS = 6
"""UDHL + the 8-bit reference element: the share the domain's 153/67 limits leave room for."""


@dataclass(frozen=True)
class Concat:
    """Where one part sits in a concatenated message."""

    reference: int
    total: int
    sequence: int


def concat_udh(reference: int, total: int, sequence: int, *, wide: bool = False) -> bytes:
    """The UDH (with its length octet) for part `sequence` of `total`."""
    if not 1 <= sequence <= total <= 255:
        raise ValueError(f"part {sequence} of {total} is not a valid concatenation")
    if wide:
        return bytes(
            [6, IEI_CONCAT_16BIT, 4, reference >> 8 & 0xFF, reference & 0xFF, total, sequence]
        )
    return bytes([5, IEI_CONCAT_8BIT, 3, reference & 0xFF, total, sequence])


def split_udh(short_message: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Information elements of a UDH and the UDH's size in octets (length octet included).

    Raises ValueError when the header does not fit the message or its elements overrun it.
    """
    if not short_message:
        raise ValueError("UDHI set on an empty message")
    udhl = short_message[0]
    if udhl + 1 > len(short_message):
        raise ValueError(f"UDH length {udhl} exceeds the message")
    elements: list[tuple[int, bytes]] = []
    offset = 1
    while offset < udhl + 1:
        if offset + 2 > udhl + 1:
            raise ValueError("truncated UDH element")
        iei, size = short_message[offset], short_message[offset + 1]
        start = offset + 2
        if start + size > udhl + 1:
            raise ValueError(f"UDH element 0x{iei:02X} overruns the header")
        elements.append((iei, short_message[start : start + size]))
        offset = start + size
    return elements, udhl + 1


def find_concat(elements: list[tuple[int, bytes]]) -> Concat | None:
    """The concatenation element, 8- or 16-bit reference, if the header has a valid one."""
    for iei, data in elements:
        if iei == IEI_CONCAT_8BIT and len(data) == 3:
            ref, total, seq = data
        elif iei == IEI_CONCAT_16BIT and len(data) == 4:
            ref, total, seq = (data[0] << 8) | data[1], data[2], data[3]
        else:
            continue
        if 1 <= seq <= total:
            return Concat(ref, total, seq)
    return None


def septet_padding(udh_octets: int) -> int:
    """Fill bits that put the first GSM-7 septet after a UDH on a septet boundary."""
    return (7 - (udh_octets * 8) % 7) % 7
