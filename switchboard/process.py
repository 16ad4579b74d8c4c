"""One Switchboard process: database, runtime, hooks and (optionally) its workers.

`serve` runs API and workers together; `api` and `worker` run them apart, as operators do
across machines on PostgreSQL. All three start the same way, through `running()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from switchboard.config import Settings
from switchboard.services import accounts, sandbox, webhooks
from switchboard.services.numbers import ensure_sandbox_numbers
from switchboard.services.runtime import Runtime
from switchboard.store import migrate
from switchboard.store.database import create_engine, is_sqlite
from switchboard.store.notify import PgNotifier
from switchboard.workers.supervisor import Workers


@dataclass(frozen=True)
class Process:
    rt: Runtime
    startup: accounts.StartupInfo
    sandbox_numbers: list[str]
    workers: Workers | None


@asynccontextmanager
async def running(
    settings: Settings, *, with_workers: bool, worker_id: str | None = None
) -> AsyncIterator[Process]:
    engine = create_engine(settings.database_url)
    notifier: PgNotifier | None = None
    workers: Workers | None = None
    rt: Runtime | None = None
    try:
        await migrate.upgrade(engine)
        rt = Runtime(settings=settings, engine=engine)
        webhooks.install(rt)  # events reach their webhooks whichever process changes a status
        sandbox.install(rt)  # sandbox mode: record what crosses the simulated network
        if not is_sqlite(engine):
            # Other processes may accept work for this one's workers, and the reverse.
            notifier = PgNotifier(engine)
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
        yield Process(rt, startup, numbers, workers)
    finally:
        if workers is not None:
            await workers.stop()
        if notifier is not None:
            await notifier.close()
        if rt is not None and rt.accept_batcher is not None:
            await rt.accept_batcher.close()
        if rt is not None and rt.group_commit is not None:
            await rt.group_commit.close()
        await engine.dispose()
