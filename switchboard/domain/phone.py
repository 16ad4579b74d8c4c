"""Addresses: E.164 numbers, short codes, alphanumeric sender ids, and what kind each is."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberType

E164_SHAPE = re.compile(r"^\+[1-9]\d{6,14}$")
SHORT_CODE_SHAPE = re.compile(r"^\d{3,8}$")
ALPHANUMERIC_SHAPE = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")

NumberKind = Literal["long_code", "toll_free"]
LineType = Literal["Wireline", "Wireless", "VoWiFi", "VoIP", "Pre-Paid Wireless", ""]

_LINE_TYPES: dict[int, LineType] = {
    PhoneNumberType.FIXED_LINE: "Wireline",
    PhoneNumberType.MOBILE: "Wireless",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "Wireless",
    PhoneNumberType.VOIP: "VoIP",
    PhoneNumberType.TOLL_FREE: "Wireline",
}


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    country: str  # ISO alpha-2
    kind: NumberKind
    line_type: LineType
    is_mobile: bool


class InvalidNumber(ValueError):
    """Not a valid E.164 number; `reason` says why in words a user understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_e164(value: object) -> PhoneNumber:
    """Validate a strict `+E.164` string and classify it.

    Only the canonical form is accepted (no spaces, dashes or missing `+`): that is what
    Telnyx requires, and silently fixing input would hide bugs in the caller's app.
    """
    if not isinstance(value, str) or not E164_SHAPE.match(value):
        raise InvalidNumber("must be a phone number in +E.164 format, e.g. +15551234567")
    return _classify(value)


# Classifying costs ~27 µs of phonenumbers' metadata matching (`python -m bench.micro`), the
# largest single step of a send; numbers repeat (the same customers, the same senders).
@functools.lru_cache(maxsize=65_536)
def _classify(value: str) -> PhoneNumber:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"is not a phone number ({exc})") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber("is not a valid phone number for its country")
    number_type = phonenumbers.number_type(parsed)
    region = phonenumbers.region_code_for_number(parsed) or "ZZ"
    kind: NumberKind = "toll_free" if number_type == PhoneNumberType.TOLL_FREE else "long_code"
    return PhoneNumber(
        e164=value,
        country=region,
        kind=kind,
        line_type=_LINE_TYPES.get(number_type, ""),
        is_mobile=number_type in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE),
    )


def is_short_code(value: str) -> bool:
    return bool(SHORT_CODE_SHAPE.match(value))


def is_alphanumeric_sender(value: str) -> bool:
    return bool(ALPHANUMERIC_SHAPE.match(value))
