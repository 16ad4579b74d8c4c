"""What `switchboard carriers status` shows: per-bind state, window use and counters."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass
class Counters:
    """Totals since the carrier started. Per PDU for submit_sm, per PDU for receipts/MO."""

    submitted: int = 0  # submit_sm sent (resubmissions included)
    acked: int = 0  # submit_sm_resp with ESME_ROK
    failed: int = 0  # submit_sm refused for good, or submissions the carrier could not map
    throttled: int = 0  # ESME_RTHROTTLED / ESME_RMSGQFUL answers
    timeouts: int = 0  # submit_sm with no answer in time (resubmitted)
    receipts: int = 0  # delivery receipts received
    reports: int = 0  # delivery reports handed to the platform
    mo: int = 0  # mobile-originated messages handed to the platform (after reassembly)


@dataclass(frozen=True)
class BindStatus:
    label: str
    role: str
    state: str
    window_used: int
    window_size: int
    binds: int  # successful binds so far; more than one means it reconnected
    bound_since: datetime | None
    last_error: str | None
    submitted: int
    acked: int


@dataclass(frozen=True)
class CarrierStatus:
    name: str
    host: str
    port: int
    bind_mode: str
    binds: tuple[BindStatus, ...]
    counters: Counters
    throttled_for: float  # seconds left in a pause imposed by the SMSC
    parts_tracked: int  # submissions waiting for receipts
    receipts_held: int  # receipts waiting for their submit_sm_resp
    mo_pending: int  # concatenated MO messages waiting for parts

    @property
    def bound(self) -> int:
        return sum(1 for b in self.binds if b.state == "bound")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for item in data["binds"]:
            since = item["bound_since"]
            item["bound_since"] = since.isoformat() if since else None
        return data
