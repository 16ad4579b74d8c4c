"""What every use case needs: settings, the database, the carriers, and wake-up signals."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard.config import Settings

# Work that must commit together with status changes: (conn, changed rows, now).
TransitionHook = Callable[[AsyncConnection, Sequence[dict[str, Any]], datetime], Awaitable[None]]


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    # Set when new work is queued so idle workers wake at once instead of at their next poll.
    dispatch_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    transition_hooks: list[TransitionHook] = field(default_factory=list)
    # Set when a message is scheduled, so the scheduler can wake earlier than it planned.
    schedule_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # The number pool's random source (seeded by `number_pool.seed` when set).
    rng: random.Random = field(default_factory=random.Random)
    # Set when a webhook delivery is enqueued (after its transaction commits).
    webhook_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a bulk update order is created.
    bulk_update_wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        if self.settings.number_pool.seed is not None:
            self.rng.seed(self.settings.number_pool.seed)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    def wake_dispatcher(self) -> None:
        self.dispatch_wakeup.set()

    def wake_scheduler(self) -> None:
        self.schedule_wakeup.set()

    def wake_webhook_sender(self) -> None:
        self.webhook_wakeup.set()

    def wake_bulk_updater(self) -> None:
        self.bulk_update_wakeup.set()
