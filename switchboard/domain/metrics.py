"""Messaging-profile metrics: time frames, and the shape built from grouped counts.

The store counts messages grouped by (interval, direction, status) in SQL; this module
turns those groups into the documented keys (docs/numbers-and-profiles.md). Key names are
Switchboard's own: Telnyx does not specify them (DECISIONS 11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from switchboard.domain.clock import iso

# time_frame → (window length, interval length for the per-interval breakdown)
TIME_FRAMES: dict[str, tuple[timedelta, timedelta]] = {
    "1h": (timedelta(hours=1), timedelta(minutes=5)),
    "3h": (timedelta(hours=3), timedelta(minutes=15)),
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "3d": (timedelta(days=3), timedelta(hours=6)),
    "7d": (timedelta(days=7), timedelta(days=1)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}
DEFAULT_TIME_FRAME = "24h"

OUTBOUND_STATUSES: tuple[str, ...] = (
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "delivery_failed",
    "delivery_unconfirmed",
    "sending_failed",
    "expired",
    "cancelled",
)
FAILED: frozenset[str] = frozenset({"delivery_failed", "sending_failed", "expired"})
IN_PROGRESS: frozenset[str] = frozenset({"scheduled", "queued", "sending", "sent"})

MONEY_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True)
class Window:
    time_frame: str
    start: datetime  # inclusive, whole seconds
    end: datetime
    interval_seconds: int

    @property
    def intervals(self) -> int:
        length = (self.end - self.start).total_seconds()
        return max(1, -(-int(length) // self.interval_seconds))


def window(time_frame: str, now: datetime) -> Window:
    length, interval = TIME_FRAMES[time_frame]
    end = now
    start = (now - length).replace(microsecond=0)
    return Window(time_frame, start, end, int(interval.total_seconds()))


@dataclass(frozen=True)
class Group:
    """Messages sharing a direction and status (and interval, for the breakdown)."""

    direction: str
    status: str
    messages: int
    parts: int
    cost: Decimal
    interval: int = 0


def money(value: Any) -> Decimal:
    """A SQL sum of decimal strings (Decimal on PostgreSQL, float on SQLite) → Decimal."""
    if value is None:
        return Decimal(0)
    return Decimal(str(value)).quantize(MONEY_QUANTUM)


def _money_text(value: Decimal) -> str:
    return str(value.quantize(MONEY_QUANTUM))


def summary(groups: Iterable[Group], currency: str) -> dict[str, Any]:
    """Counts by direction and status, parts, delivery rate and cost over the window."""
    by_status = dict.fromkeys(OUTBOUND_STATUSES, 0)
    outbound_messages = outbound_parts = inbound_messages = inbound_parts = 0
    cost = Decimal(0)
    for g in groups:
        cost += g.cost
        if g.direction == "inbound":
            inbound_messages += g.messages
            inbound_parts += g.parts
            continue
        outbound_messages += g.messages
        outbound_parts += g.parts
        by_status[g.status] = by_status.get(g.status, 0) + g.messages
    delivered = by_status["delivered"]
    failed = sum(n for s, n in by_status.items() if s in FAILED)
    unconfirmed = by_status["delivery_unconfirmed"]
    finished = delivered + failed + unconfirmed
    return {
        "outbound": {
            "messages": outbound_messages,
            "parts": outbound_parts,
            "delivered": delivered,
            "failed": failed,
            "unconfirmed": unconfirmed,
            "in_progress": sum(n for s, n in by_status.items() if s in IN_PROGRESS),
            "by_status": by_status,
        },
        "inbound": {"messages": inbound_messages, "parts": inbound_parts},
        "delivery_rate": round(delivered / finished, 4) if finished else None,
        "cost": {"amount": _money_text(cost), "currency": currency},
    }


def intervals(groups: Iterable[Group], win: Window, currency: str) -> list[dict[str, Any]]:
    """The window cut into equal intervals (oldest first), each with its own counts."""
    buckets: list[list[Group]] = [[] for _ in range(win.intervals)]
    for g in groups:
        # The window's last, partial second falls in the last interval.
        buckets[min(max(g.interval, 0), len(buckets) - 1)].append(g)
    out = []
    step = timedelta(seconds=win.interval_seconds)
    for index, bucket in enumerate(buckets):
        start = win.start + index * step
        last = index == len(buckets) - 1
        counts = summary(bucket, currency)
        out.append(
            {
                "start_time": iso(start),
                "end_time": iso(win.end if last else start + step),
                "outbound": counts["outbound"]["messages"],
                "inbound": counts["inbound"]["messages"],
                "parts": counts["outbound"]["parts"] + counts["inbound"]["parts"],
                "delivered": counts["outbound"]["delivered"],
                "failed": counts["outbound"]["failed"],
                "cost": counts["cost"]["amount"],
            }
        )
    return out


def profile_metrics(
    profile: dict[str, Any],
    groups: list[Group],
    win: Window,
    currency: str,
    *,
    with_intervals: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "record_type": "messaging_profile_metrics",
        "messaging_profile_id": profile["id"],
        "messaging_profile_name": profile["name"],
        "time_frame": win.time_frame,
        "start_time": iso(win.start),
        "end_time": iso(win.end),
        **summary(groups, currency),
    }
    if with_intervals:
        out["interval_seconds"] = win.interval_seconds
        out["intervals"] = intervals(groups, win, currency)
    return out
