"""Cost of a message: a per-part rate by message type and destination country."""

from __future__ import annotations

import functools
from decimal import Decimal


def message_cost(
    rates: dict[str, dict[str, str]], message_type: str, country: str, parts: int
) -> str:
    """Decimal string (Telnyx sends money as strings), e.g. `"0.0080"` for two US parts.

    MMS is billed per message, SMS per part. Unknown countries use the `*` rate.
    """
    table = rates.get(message_type) or rates.get("SMS") or {}
    units = 1 if message_type != "SMS" else max(parts, 1)
    return _cost(table.get(country) or table.get("*") or "0", units)


@functools.lru_cache(maxsize=1024)
def _cost(rate: str, units: int) -> str:
    # Every send prices its parts; a few rates and part counts cover nearly all of them.
    return str((Decimal(rate) * units).quantize(Decimal("0.0001")))
