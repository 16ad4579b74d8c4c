"""A token bucket that spaces submit_sm to the throughput the SMSC contract allows.

It also carries the pause imposed by ESME_RTHROTTLED / ESME_RMSGQFUL, so that every bind
slows down together when the SMSC says "too fast".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float | None,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._capacity = burst if burst is not None else max(1.0, (rate or 0) / 10)
        self._tokens = self._capacity
        self._clock = clock
        self._last = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Let nothing through for `seconds` (extends, never shortens, a running pause)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def try_acquire(self) -> bool:
        """Take a token now if one is free and nobody waits before us; no waiting."""
        if self._lock.locked():
            return False  # callers are waiting: keep their order
        now = self._clock()
        if now < self._paused_until:
            return False
        if self._rate is None:
            return True
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    async def acquire(self) -> None:
        """Wait for one token; callers are served in arrival order."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                if self._rate is None:
                    return
                self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)
