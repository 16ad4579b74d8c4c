"""Exponential backoff with jitter, for reconnecting and for slowing down when throttled."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, minimum: float, maximum: float, *, jitter: float = 0.1) -> None:
        self._min = minimum
        self._max = maximum
        self._jitter = jitter
        self._next = minimum

    def next(self) -> float:
        """The delay to wait now; the one after it doubles, up to the maximum."""
        delay = self._next
        self._next = min(self._max, self._next * 2)
        return delay * (1 + random.uniform(-self._jitter, self._jitter))

    def reset(self) -> None:
        self._next = self._min
