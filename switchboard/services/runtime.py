"""What every use case needs: settings, the database, the carriers, and wake-up signals."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard.config import Settings
from switchboard.services.lookup_cache import LookupCache
from switchboard.store import after_commit
from switchboard.store.change_watch import ChangeWatch, watch
from switchboard.store.group_commit import GroupCommitter

if TYPE_CHECKING:
    from switchboard.services.accept_batch import AcceptBatcher
    from switchboard.services.senders import Sender

# How long another process's change to a number, profile or sender id can go unseen by a
# send here (this process's own changes apply at once).
SENDER_CACHE_SECONDS = 1.0


class Notifier(Protocol):
    def notify(self, topic: str) -> None: ...


T = TypeVar("T")

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
    # The hosts of the deliveries queued since the sender last claimed; None when a wake-up
    # did not say (another process's, a retry requeued). Lets the sender skip claims that
    # could only find work for hosts already at their limit.
    webhook_hosts_queued: set[str] | None = None
    # Set when a bulk update order is created.
    bulk_update_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Tells other processes (PostgreSQL LISTEN/NOTIFY) when API and workers run apart.
    notifier: Notifier | None = None
    # SQLite only: write transactions run one at a time and commit in batches.
    group_commit: GroupCommitter | None = None
    # Stores the sends of concurrent requests together (services/accept_batch.py).
    accept_batcher: AcceptBatcher | None = None
    # Moves when this process writes a table that says who may send what.
    changes: ChangeWatch = field(init=False)
    # Resolved senders of recent sends (services/messages.py).
    sender_cache: LookupCache[Sender] = field(init=False)
    # Messaging profiles whose webhook URLs status changes read (services/webhooks.py).
    profile_cache: LookupCache[dict[str, Any] | None] = field(init=False)
    # `engine`, or on PostgreSQL the same pool with no transaction around reads (read_one).
    _single_reads: AsyncEngine = field(init=False)

    def __post_init__(self) -> None:
        self.changes = watch(self.engine)
        self.sender_cache = LookupCache(SENDER_CACHE_SECONDS, self.changes)
        self.profile_cache = LookupCache(SENDER_CACHE_SECONDS, self.changes)
        self._single_reads = self.engine
        if self.engine.dialect.name == "postgresql":
            self._single_reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        if self.group_commit is None and self.engine.dialect.name == "sqlite":
            self.group_commit = GroupCommitter(self.engine)
        if self.settings.number_pool.seed is not None:
            self.rng.seed(self.settings.number_pool.seed)

    async def close(self) -> None:
        """Store the sends still waiting, then let go of the writer connection (SQLite).

        Before the engine is disposed: the group committer keeps a connection of its pool.
        """
        if self.accept_batcher is not None:
            await self.accept_batcher.close()
        if self.group_commit is not None:
            await self.group_commit.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; it has committed when the block exits without error.

        On SQLite, transactions share commits through the group committer (one writer). On
        PostgreSQL, what waits for the commit (`store/after_commit.py`) is called once the
        COMMIT has returned.
        """
        if self.group_commit is not None:
            async with self.group_commit.transaction() as conn:
                yield conn
            return
        async with self.engine.connect() as conn, after_commit.transaction(conn):
            yield conn

    async def run_transaction(self, body: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`await body(conn)` in a write transaction; its result once committed.

        The same as `async with transaction()`, but on SQLite the group committer runs
        `body` itself, without handing its connection to the caller's task and back (two
        passes of a busy event loop per transaction; store/group_commit.py). For the
        workers' batch handlers, which write most.
        """
        if self.group_commit is not None:
            return await self.group_commit.run(body)
        async with self.engine.connect() as conn, after_commit.transaction(conn):
            return await body(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def read_one(self) -> AsyncIterator[AsyncConnection]:
        """A connection for a single read statement, which sees one snapshot on its own.

        On PostgreSQL it runs outside a transaction: `read()` wraps it in BEGIN and ROLLBACK,
        two more round trips, which cost a one-row lookup about 17% of its CPU and 22% of
        its time there (docs/performance.md). On SQLite the same as `read()`.
        """
        async with self._single_reads.connect() as conn:
            yield conn

    def _wake(self, event: asyncio.Event, topic: str) -> None:
        event.set()
        if self.notifier is not None:
            self.notifier.notify(topic)

    def wake_dispatcher(self) -> None:
        self._wake(self.dispatch_wakeup, "dispatch")

    def wake_scheduler(self) -> None:
        self._wake(self.schedule_wakeup, "schedule")

    def wake_webhook_sender(self, hosts: Iterable[str] | None = None) -> None:
        """Wake the sender: new deliveries to `hosts` (None: unknown, or to any host)."""
        self._note_webhook_hosts(hosts)
        self._wake(self.webhook_wakeup, "webhooks")

    def _note_webhook_hosts(self, hosts: Iterable[str] | None) -> None:
        if hosts is None:
            self.webhook_hosts_queued = None
        elif self.webhook_hosts_queued is not None:
            self.webhook_hosts_queued.update(hosts)

    def _webhooks_queued_elsewhere(self) -> None:
        self._note_webhook_hosts(None)
        self.webhook_wakeup.set()

    def wake_bulk_updater(self) -> None:
        self._wake(self.bulk_update_wakeup, "bulk_updates")

    def local_wakeups(self) -> dict[str, Callable[[], None]]:
        """Topic → how to wake this process's worker for it (for cross-process wake-ups)."""
        return {
            "dispatch": self.dispatch_wakeup.set,
            "schedule": self.schedule_wakeup.set,
            "webhooks": self._webhooks_queued_elsewhere,
            "bulk_updates": self.bulk_update_wakeup.set,
        }
