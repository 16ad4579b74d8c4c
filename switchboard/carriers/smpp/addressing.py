"""TON/NPI for our sender types and destinations, and E.164 for inbound addresses."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.carriers.base import SenderType
from switchboard.carriers.smpp.config import SmppCarrierConfig
from switchboard.carriers.smpp.constants import Npi, Ton


@dataclass(frozen=True)
class Address:
    ton: int
    npi: int
    addr: str


class AddressError(ValueError):
    """An address that cannot be written in a submit_sm."""


_MAX_ADDR = 20  # submit_sm source_addr / destination_addr, NUL excluded
_MAX_ALPHANUMERIC = 11  # what a handset displays; longer ids are truncated by networks


def _number(value: str, config: SmppCarrierConfig) -> tuple[int, int, str]:
    if value.startswith("+"):
        digits = value[1:]
        if not digits.isdigit():
            raise AddressError(f"{value!r} is not an E.164 number")
        return Ton.INTERNATIONAL, Npi.ISDN, digits
    if value.isdigit():
        return config.short_code_ton, config.short_code_npi, value
    raise AddressError(f"{value!r} is neither E.164 nor a short code")


def source_address(sender: str, sender_type: SenderType, config: SmppCarrierConfig) -> Address:
    ton: int
    npi: int
    if sender_type == "alphanumeric":
        if not sender or len(sender) > _MAX_ALPHANUMERIC or not sender.isascii():
            raise AddressError(f"alphanumeric sender {sender!r} must be 1-11 ASCII characters")
        ton, npi, addr = Ton.ALPHANUMERIC, Npi.UNKNOWN, sender
    elif sender_type == "short_code":
        ton, npi, addr = config.short_code_ton, config.short_code_npi, sender.lstrip("+")
    else:
        ton, npi, addr = _number(sender, config)
    if len(addr) > _MAX_ADDR:
        raise AddressError(f"sender {sender!r} is longer than {_MAX_ADDR} characters")
    return Address(
        config.source_ton if config.source_ton is not None else ton,
        config.source_npi if config.source_npi is not None else npi,
        addr,
    )


def destination_address(to: str, config: SmppCarrierConfig) -> Address:
    ton, npi, addr = _number(to, config)
    if len(addr) > _MAX_ADDR:
        raise AddressError(f"destination {to!r} is longer than {_MAX_ADDR} digits")
    return Address(
        config.dest_ton if config.dest_ton is not None else ton,
        config.dest_npi if config.dest_npi is not None else npi,
        addr,
    )


def inbound_address(ton: int, addr: str) -> str:
    """How an address from the SMSC is reported to the rest of the platform.

    International numbers become E.164. With TON unknown, all-digit addresses of 11 or more
    digits are taken as international too (many SMSCs send them that way); shorter ones are
    short codes or national numbers and stay as they are, as do alphanumeric ids.
    """
    addr = addr.strip()
    if addr.startswith("+"):
        return addr
    if addr.isdigit() and (ton == Ton.INTERNATIONAL or (ton == Ton.UNKNOWN and len(addr) >= 11)):
        return "+" + addr
    return addr
