"""Which carrier a message leaves through.

Order: a route for the sender (number, short code or sender id), then the longest matching
destination prefix, then the default carrier. Pure, so the rules are tested without I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class UnknownCarrier(ValueError):
    pass


@dataclass(frozen=True)
class RoutingTable:
    default: str
    by_sender: Mapping[str, str] = field(default_factory=dict)
    by_prefix: Mapping[str, str] = field(default_factory=dict)

    def carrier_for(self, sender: str, destination: str) -> str:
        routed = self.by_sender.get(sender)
        if routed is not None:
            return routed
        best = ""
        for prefix in self.by_prefix:
            if destination.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.by_prefix[best] if best else self.default

    def check(self, known: set[str]) -> None:
        """Refuse a table that names a carrier nobody configured (caught at start-up)."""
        named = {self.default, *self.by_sender.values(), *self.by_prefix.values()}
        missing = sorted(named - known)
        if missing:
            raise UnknownCarrier(
                f"routes name unknown carrier(s): {', '.join(missing)}; "
                f"configured: {', '.join(sorted(known))}"
            )
