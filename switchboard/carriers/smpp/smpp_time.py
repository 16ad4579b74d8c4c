"""SMPP absolute time ("YYMMDDhhmmsstnnp", SMPP 3.4 §7.1.1) and receipt dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_ABSOLUTE = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d)(\d{2})([+-])$")
_RECEIPT_DATE = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$")


def format_absolute(moment: datetime) -> str:
    """UTC absolute time; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    tenths = moment.microsecond // 100_000
    return moment.strftime("%y%m%d%H%M%S") + f"{tenths}00+"


def parse_absolute(value: str) -> datetime | None:
    """Read an absolute time (offset in quarter hours); None for relative or invalid values."""
    match = _ABSOLUTE.match(value)
    if match is None:
        return None
    yy, mo, dd, hh, mi, ss, tenth, quarters, sign = match.groups()
    try:
        local = datetime(
            2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss), int(tenth) * 100_000
        )
    except ValueError:
        return None
    offset = timedelta(minutes=15 * int(quarters))
    utc = local - offset if sign == "+" else local + offset
    return utc.replace(tzinfo=UTC)


def parse_receipt_date(value: str) -> datetime | None:
    """Receipt dates are "YYMMDDhhmm" (some SMSCs add seconds), taken as UTC."""
    match = _RECEIPT_DATE.match(value.strip())
    if match is None:
        return None
    yy, mo, dd, hh, mi, ss = match.groups()
    try:
        return datetime(
            2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss or 0), tzinfo=UTC
        )
    except ValueError:
        return None
