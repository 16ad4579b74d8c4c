"""One Switchboard process: database, runtime, hooks and (optionally) its workers.

`serve` runs API and workers together; `api` and `worker` run them apart, as operators do
across machines on PostgreSQL. All three start the same way, through `running()`.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.config import Settings
from switchboard.services import accounts, sandbox, webhooks
from switchboard.services.numbers import ensure_sandbox_numbers
from switchboard.services.runtime import Runtime
from switchboard.store import migrate
from switchboard.store.database import create_engine, is_sqlite
from switchboard.store.notify import PgNotifier
from switchboard.store.socket_notify import SocketNotifier
from switchboard.workers.supervisor import Workers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Process:
    rt: Runtime
    startup: accounts.StartupInfo
    sandbox_numbers: list[str]
    workers: Workers | None


# Young-generation collections every 50,000 allocations instead of 700: a request allocates
# thousands of short-lived objects, freed by reference counting long before a collection
# could find them, and the default cadence spent 10–15% of a busy worker's CPU walking them.
GC_YOUNG_THRESHOLD = 50_000


# How long a thread that wants the GIL waits before the running one must hand it over (the
# interpreter's default is 5 ms). The COMMIT thread (store/sqlite_driver.py) needs the GIL
# to start, after the fsync and to hand its result back; on a busy event loop it waited the
# interval out each time, so a COMMIT whose fsync takes under a millisecond took 5–8 ms,
# and each of a message's stages waits for one. In three alternating pairs at 200 msg/s it
# took the accept → webhook p50 from 100–131 ms to 79–97 ms (docs/performance.md).
SWITCH_INTERVAL = 0.0005


def tune_interpreter() -> None:
    """Collect less often, never again scan what start-up loaded (modules, metadata), and
    hand the GIL to a waiting thread sooner."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)
    sys.setswitchinterval(SWITCH_INTERVAL)


def _notifier(engine: AsyncEngine) -> PgNotifier | SocketNotifier | None:
    """How this process wakes other processes' workers: LISTEN/NOTIFY on PostgreSQL,
    datagrams between the processes of one SQLite file (none for an in-memory one)."""
    if not is_sqlite(engine):
        return PgNotifier(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    try:
        return SocketNotifier(database)
    except OSError as exc:  # no Unix datagram sockets here: workers find work by polling
        log.warning("no wake-ups between processes: %s", exc)
        return None


@asynccontextmanager
async def running(
    settings: Settings, *, with_workers: bool, worker_id: str | None = None
) -> AsyncIterator[Process]:
    engine = create_engine(settings.database_url)
    notifier: PgNotifier | SocketNotifier | None = None
    workers: Workers | None = None
    rt: Runtime | None = None
    try:
        await migrate.upgrade(engine)
        rt = Runtime(settings=settings, engine=engine)
        webhooks.install(rt)  # events reach their webhooks whichever process changes a status
        sandbox.install(rt)  # sandbox mode: record what crosses the simulated network
        # Other processes may accept work for this one's workers, and the reverse.
        notifier = _notifier(engine)
        if notifier is not None:
            rt.notifier = notifier
            if with_workers:
                await notifier.listen(rt.local_wakeups())
        startup = await accounts.ensure_default_account(rt)
        numbers: list[str] = []
        if settings.mode == "sandbox":
            numbers = await ensure_sandbox_numbers(rt, startup.account_id)
        if with_workers:
            workers = Workers(rt, worker_id)
            await workers.start()
        tune_interpreter()
        yield Process(rt, startup, numbers, workers)
    finally:
        if workers is not None:
            await workers.stop()
        if notifier is not None:
            await notifier.close()
        if rt is not None:
            await rt.close()
        await engine.dispose()
