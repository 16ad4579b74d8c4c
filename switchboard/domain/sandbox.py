"""The sandbox network's rules: which destinations fail, and how.

Destinations of the form `+1 NPA 555-01XX` (the range NANP reserves for fiction) with a
suffix listed here behave in a fixed, documented way; every other number is a handset that
receives the message and reports `delivered`. The table is in `docs/sandbox.md` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["delivered", "refused", "delivery_failed", "delivery_unconfirmed", "expired"]

_MAGIC = re.compile(r"^\+1\d{3}5550(1\d\d)$")


@dataclass(frozen=True)
class Behaviour:
    outcome: Outcome
    error_code: str | None
    description: str


MAGIC_DESTINATIONS: dict[str, Behaviour] = {
    "101": Behaviour("refused", "40012", "carrier rejects the destination at submit"),
    "102": Behaviour("delivery_failed", "40008", "handset unreachable: undeliverable"),
    "103": Behaviour("delivery_unconfirmed", None, "carrier never confirms delivery"),
    "104": Behaviour("delivery_failed", "40001", "landline: not routable"),
    "105": Behaviour("delivery_failed", "40002", "blocked as spam by the carrier"),
    "106": Behaviour("expired", "40005", "expires in the carrier network"),
    "107": Behaviour("delivery_failed", "40006", "recipient carrier unavailable"),
}

DELIVERED = Behaviour("delivered", None, "delivered to the virtual handset")


def behaviour_for(destination: str) -> Behaviour:
    match = _MAGIC.match(destination)
    if match:
        return MAGIC_DESTINATIONS.get(match.group(1), DELIVERED)
    return DELIVERED
