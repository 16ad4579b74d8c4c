"""GSM 03.38 (3GPP TS 23.038) default alphabet: character tables, septet codec and packing.

Everything here is pure so the API layer (segment counting) and the SMPP connector (wire
encoding) share exactly one definition of what GSM-7 is.
"""

from __future__ import annotations

__all__ = [
    "ESCAPE",
    "GSM7_BASIC",
    "GSM7_EXTENDED",
    "UnencodableText",
    "decode_gsm7",
    "encode_gsm7",
    "gsm7_length",
    "is_gsm7",
    "pack_septets",
    "unpack_septets",
]

ESCAPE = 0x1B
"""Septet that switches the next septet to the extension table."""

GSM7_BASIC: str = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
"""The default alphabet indexed by septet value. Index 0x1B holds a placeholder for the
escape code; it is not an encodable character."""

GSM7_EXTENDED: dict[str, int] = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
"""Extension table characters mapped to the septet that follows the escape code."""

_BASIC_CODES: dict[str, int] = {ch: i for i, ch in enumerate(GSM7_BASIC) if i != ESCAPE}
_EXTENDED_CHARS: dict[int, str] = {code: ch for ch, code in GSM7_EXTENDED.items()}


class UnencodableText(ValueError):
    """Raised when text holds a character outside GSM-7; carries it so callers can report it."""

    def __init__(self, char: str, index: int) -> None:
        super().__init__(
            f"character {char!r} (U+{ord(char):04X}) at index {index} cannot be encoded in GSM-7"
        )
        self.char = char
        self.index = index

    def __reduce__(self) -> tuple[type[UnencodableText], tuple[str, int]]:
        # Keep the custom constructor picklable (e.g. across worker processes).
        return (type(self), (self.char, self.index))


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` is in the basic or extension table."""
    # Set containment runs in C: a fraction of a per-character generator's cost.
    return _GSM7_CHARS.issuperset(text)


def gsm7_length(text: str) -> int:
    """Septets ``text`` occupies; extension characters cost two (escape + code).

    Raises :class:`UnencodableText` for a character outside GSM-7, since a length in
    septets would be meaningless for it.
    """
    total = 0
    for index, ch in enumerate(text):
        if ch in _BASIC_CODES:
            total += 1
        elif ch in GSM7_EXTENDED:
            total += 2
        else:
            raise UnencodableText(ch, index)
    return total


def encode_gsm7(text: str) -> bytes:
    """Encode to unpacked septets, one per byte, as SMPP ``data_coding=0`` usually expects.

    Extension characters become ``0x1B`` followed by their code.
    """
    out = bytearray()
    for index, ch in enumerate(text):
        code = _BASIC_CODES.get(ch)
        if code is not None:
            out.append(code)
            continue
        ext = GSM7_EXTENDED.get(ch)
        if ext is None:
            raise UnencodableText(ch, index)
        out.append(ESCAPE)
        out.append(ext)
    return bytes(out)


def decode_gsm7(data: bytes) -> str:
    """Decode unpacked septets leniently, as inbound traffic must never be dropped.

    Per TS 23.038, an escape followed by a code with no extension character shows the
    basic-table character, and a second escape (or a trailing one) shows as a space.
    Bytes above 0x7F are not septets and raise :class:`ValueError`.
    """
    chars: list[str] = []
    escaped = False
    for pos, value in enumerate(data):
        if value > 0x7F:
            raise ValueError(f"byte 0x{value:02X} at offset {pos} is not a GSM-7 septet")
        if escaped:
            escaped = False
            if value == ESCAPE:
                chars.append(" ")
            else:
                chars.append(_EXTENDED_CHARS.get(value, GSM7_BASIC[value]))
        elif value == ESCAPE:
            escaped = True
        else:
            chars.append(GSM7_BASIC[value])
    if escaped:
        chars.append(" ")
    return "".join(chars)


def _check_padding(padding_bits: int) -> None:
    if not 0 <= padding_bits <= 6:
        raise ValueError(f"padding_bits must be 0..6, got {padding_bits}")


def pack_septets(septets: bytes, padding_bits: int = 0) -> bytes:
    """Pack septets into octets, least significant bit first (TS 23.038 §6.1.2.1.1).

    ``padding_bits`` zero bits precede the first septet so that text following a UDH starts
    on a septet boundary: use ``(7 - (udh_octets * 8) % 7) % 7``. The result holds only the
    text part (padding included in its first octet); empty input packs to ``b""``.
    """
    _check_padding(padding_bits)
    if not septets:
        return b""
    out = bytearray()
    acc = 0
    nbits = padding_bits
    for pos, septet in enumerate(septets):
        if septet > 0x7F:
            raise ValueError(f"byte 0x{septet:02X} at offset {pos} is not a septet")
        acc |= septet << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack_septets(data: bytes, count: int, padding_bits: int = 0) -> bytes:
    """Reverse :func:`pack_septets`, reading ``count`` septets after ``padding_bits``.

    The count must come from the caller (e.g. the TP-UDL) because the final octet's spare
    bits cannot tell a trailing ``@`` (septet 0) from filler.
    """
    _check_padding(padding_bits)
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    if count and padding_bits + 7 * count > 8 * len(data):
        raise ValueError(
            f"{len(data)} octets cannot hold {count} septets after {padding_bits} padding bits"
        )
    out = bytearray()
    for i in range(count):
        bit = padding_bits + 7 * i
        byte, shift = divmod(bit, 8)
        value = data[byte] >> shift
        if shift > 1:
            value |= data[byte + 1] << (8 - shift)
        out.append(value & 0x7F)
    return bytes(out)


_GSM7_CHARS = frozenset(_BASIC_CODES) | frozenset(GSM7_EXTENDED)
