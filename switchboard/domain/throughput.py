"""Per-sender throughput: when a message's parts may go to the carrier.

Each sender address has a "next free" time. A message of `parts` parts starts at the later
of now and that time, and keeps the sender busy for `parts / rate` seconds. A message that
could not start before its `valid_until` does not take the time: it will expire in the
queue, and later messages are not pushed back by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # the message's `next_attempt_at`
    next_free_at: datetime  # the sender's next free time after this message
    wait_seconds: float  # how long the message waits for its turn


def reserve(
    next_free_at: datetime | None,
    ready_at: datetime,
    parts: int,
    rate: float,
    valid_until: datetime | None = None,
) -> Slot:
    """The slot of a message ready at `ready_at` from a sender free from `next_free_at`."""
    start = ready_at if next_free_at is None else max(ready_at, next_free_at)
    busy = timedelta(seconds=max(parts, 1) / rate)
    wait = (start - ready_at).total_seconds()
    if valid_until is not None and start > valid_until:
        return Slot(start, next_free_at or ready_at, wait)
    return Slot(start, start + busy, wait)
