"""Cross-process wake-ups: PostgreSQL LISTEN/NOTIFY.

When API and worker processes are separate, a message accepted by one process must wake the
dispatcher in another without waiting for its next poll. On SQLite everything runs in one
process, or processes on one machine share the file: they use store/socket_notify.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "switchboard_"


class PgNotifier:
    """Sends coalesced NOTIFYs and dispatches received ones to local callbacks."""

    def __init__(self, engine: AsyncEngine, flush_interval: float = 0.005) -> None:
        self.engine = engine
        self.flush_interval = flush_interval
        self._pending: set[str] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._listen_conn: AsyncConnection | None = None
        self._handlers: dict[str, Callable[[], None]] = {}

    async def listen(self, handlers: dict[str, Callable[[], None]]) -> None:
        """Call `handlers[topic]()` whenever any process notifies `topic`."""
        self._handlers = handlers
        conn = await self.engine.connect()
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        for topic in handlers:
            await driver.add_listener(CHANNEL_PREFIX + topic, self._on_notify)
        self._listen_conn = conn

    def _on_notify(self, _conn: Any, _pid: int, channel: str, _payload: str) -> None:
        handler = self._handlers.get(channel.removeprefix(CHANNEL_PREFIX))
        if handler is not None:
            handler()

    def notify(self, topic: str) -> None:
        """Ask for `topic` to be notified soon; bursts collapse into one NOTIFY."""
        self._pending.add(topic)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(self.flush_interval)
        topics, self._pending = self._pending, set()
        try:
            async with self.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection
                for topic in sorted(topics):
                    await driver.execute("SELECT pg_notify($1, '')", CHANNEL_PREFIX + topic)
        except Exception:  # polling still finds the work; a lost wake-up only costs latency
            log.warning("NOTIFY %s failed", ",".join(sorted(topics)), exc_info=True)

    async def close(self) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher
        if self._listen_conn is not None:
            await self._listen_conn.close()
            self._listen_conn = None
