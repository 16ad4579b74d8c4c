"""When to try a webhook again (DECISIONS item 8).

A *round* tries the primary URL, then the failover URL. Round 1 starts as soon as the
event exists; each following round waits the configured delay after the previous round
ended. The default follows Svix: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
(eight rounds, about 27.6 hours in all).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import overload

DEFAULT_DELAYS: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)

_UNITS = {"": 1, "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")


def parse_duration(text: str) -> float:
    """Seconds from ``"5"``, ``"5s"``, ``"500ms"``, ``"30m"``, ``"2h"``, ``"1d"``."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise ValueError(f"not a duration: {text!r} (examples: 0, 5s, 5m, 2h)")
    return float(match.group(1)) * _UNITS[match.group(2) or ""]


@functools.lru_cache(maxsize=32)
def _delays(text: str) -> tuple[float, ...]:
    return tuple(parse_duration(p) for p in re.split(r"[,\s]+", text.strip()) if p)


@dataclass(frozen=True)
class RetrySchedule:
    """``delays[i]`` is the wait before round ``i + 1``; its length is the round count."""

    delays: tuple[float, ...] = DEFAULT_DELAYS

    def __post_init__(self) -> None:
        if not self.delays:
            raise ValueError("a retry schedule needs at least one round")
        if any(d < 0 for d in self.delays):
            raise ValueError("retry delays cannot be negative")

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        """From configuration text, comma- or space-separated: ``"0, 5s, 5m, 30m, 2h"``.

        Cached: every webhook enqueued asks for its first delay.
        """
        return cls(_delays(text))

    @classmethod
    def of(cls, delays: Iterable[float]) -> RetrySchedule:
        return cls(tuple(float(d) for d in delays))

    @property
    def rounds(self) -> int:
        return len(self.delays)

    def first_delay(self) -> float:
        """Wait before round 1 (0 by default: deliver immediately)."""
        return self.delays[0]

    def delay_after(self, round_no: int) -> float | None:
        """Wait after round ``round_no`` (1-based) failed; ``None`` when none is left."""
        if round_no < 1:
            raise ValueError("rounds are numbered from 1")
        if round_no >= len(self.delays):
            return None
        return self.delays[round_no]

    @overload
    def next_attempt_at(self, round_no: int, finished_at: datetime) -> datetime | None: ...

    @overload
    def next_attempt_at(self, round_no: int, finished_at: float) -> float | None: ...

    def next_attempt_at(
        self, round_no: int, finished_at: datetime | float
    ) -> datetime | float | None:
        """When round ``round_no + 1`` is due, given when round ``round_no`` ended.

        Takes and returns either a ``datetime`` or unix seconds. ``None``: the
        schedule is exhausted and the delivery has failed.
        """
        delay = self.delay_after(round_no)
        if delay is None:
            return None
        if isinstance(finished_at, datetime):
            return finished_at + timedelta(seconds=delay)
        return finished_at + delay
