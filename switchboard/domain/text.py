"""Text from the outside world made safe to store, and phone numbers masked for display."""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` with what no database can store replaced by U+FFFD.

    Lone UTF-16 surrogates (JSON allows `"\\ud800"`) are not encodable as UTF-8, and
    PostgreSQL refuses NUL characters in text; both become the replacement character.
    """
    return _SURROGATE.sub(REPLACEMENT, text).replace("\x00", REPLACEMENT)


def redact_number(address: str) -> str:
    """Every digit but the first and the last four masked: `+13125550100` → `+1******0100`."""
    digits = [i for i, ch in enumerate(address) if ch.isdigit()]
    keep = set(digits[-4:])
    return "".join(
        "*" if ch.isdigit() and i not in keep and i != digits[0] else ch
        for i, ch in enumerate(address)
    )
