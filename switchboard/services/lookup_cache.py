"""Lookups the request path repeats (API keys, resolved senders), kept briefly.

Resolving `from` takes two or three lookups (number, profile, short code or sender id) and
authenticating a key one more; through the database they cost more than the rest of a
send together (`python -m bench.micro`). Entries live `ttl` seconds, and, given a
`ChangeWatch`, are dropped as soon as this process writes to the tables they came from
(store/change_watch.py); the time to live bounds how long another process's change (a
second API process, or a worker process running a bulk update) can go unseen. Concurrent
misses of one key share one lookup, so an entry expiring under load costs one query, not
one per request in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from switchboard.store.change_watch import ChangeWatch

V = TypeVar("V")

MAX_ENTRIES = 10_000


class LookupCache(Generic[V]):
    """A map whose entries expire after `ttl` seconds or when the watch's generation moves."""

    def __init__(self, ttl: float, changes: ChangeWatch | None = None) -> None:
        self.changes = changes or ChangeWatch()
        self.ttl = ttl
        self._entries: dict[Hashable, tuple[float, int, V]] = {}
        self._loading: dict[Hashable, asyncio.Future[V]] = {}

    def get(self, key: Hashable) -> tuple[bool, V | None]:
        """(True, value) for a live entry, else (False, None)."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        expires_at, generation, value = entry
        if generation != self.changes.generation or expires_at < time.monotonic():
            del self._entries[key]
            return False, None
        return True, value

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        """The entry for `key`, loading it (once for all concurrent callers) when missing.

        A load that raises is not cached: every caller waiting on it gets the error.
        """
        found, value = self.get(key)
        if found:
            return value  # type: ignore[return-value]
        pending = self._loading.get(key)
        if pending is not None:
            await asyncio.wait([pending])  # never raises; the loader's outcome is read below
            if pending.cancelled():  # its caller went away mid-load: load again
                return await self.get_or_load(key, load)
            return pending.result()
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        generation = self.changes.generation  # a change during the load drops the entry
        try:
            value = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it; none waiting is fine too
            raise
        else:
            future.set_result(value)
            self._put(key, value, generation)
            return value
        finally:
            del self._loading[key]

    def _put(self, key: Hashable, value: V, generation: int) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, generation, value)
