"""Cost of a message: a per-part rate by message type and destination country."""

from __future__ import annotations

from decimal import Decimal


def message_cost(
    rates: dict[str, dict[str, str]], message_type: str, country: str, parts: int
) -> str:
    """Decimal string (Telnyx sends money as strings), e.g. `"0.0080"` for two US parts.

    MMS is billed per message, SMS per part. Unknown countries use the `*` rate.
    """
    table = rates.get(message_type) or rates.get("SMS") or {}
    rate = Decimal(table.get(country) or table.get("*") or "0")
    units = 1 if message_type != "SMS" else max(parts, 1)
    return str((rate * units).quantize(Decimal("0.0001")))
