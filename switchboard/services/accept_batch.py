"""Accepted sends of concurrent requests, stored together: one transaction per batch.

Storing one send alone costs about ten statements and a commit; most of that is per
statement, not per row (`python -m bench.micro`: 100 rows in one transaction cost what
two sends one at a time cost). So requests hand their checked rows (`PreparedSend`) to one
task per process, which takes whatever is waiting, runs the checks that need the database
for the whole batch (opt-outs in one query, throughput once per sender), inserts every row
with one statement (a row's first status is its own, not an event: services/events.py),
and commits. Each request is answered only after that commit, so nothing is reported
accepted before it is durable; a send that fails a check (an opt-out, the spend limit)
fails alone, and the batch goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.clock import utcnow
from switchboard.domain.errors import ApiError
from switchboard.domain.spend import enforced_limit
from switchboard.services import events, links, optouts, send_limits, throughput
from switchboard.services.runtime import Runtime
from switchboard.store import messages as message_store
from switchboard.store import optouts as optout_store

if TYPE_CHECKING:
    from switchboard.services.messages import PreparedSend

log = logging.getLogger(__name__)

Rows = list[dict[str, Any]]

# A batch's statements grow with it (one parameter set per row), and its callers all wait
# for its commit; past a few hundred rows the commit is no cheaper per row.
MAX_BATCH = 256


def _stamp(row: dict[str, Any], now: datetime, valid_for: timedelta, expires: datetime) -> None:
    """Set the times of a row accepted `now`: received, updated, first attempt, expiry.

    `expires` is `now + valid_for`, computed once per batch rather than once per row (the
    rows sending now share it, and its stored and rendered texts are formatted once).
    """
    row["received_at"] = row["updated_at"] = now
    if row["send_at"] is None:
        row["valid_until"] = expires
        row["next_attempt_at"] = now
    else:
        row["valid_until"] = row["send_at"] + valid_for
        row["next_attempt_at"] = None


@dataclass(eq=False)
class _Job:
    prepared: PreparedSend
    outcome: asyncio.Future[Rows] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def fail(self, error: BaseException) -> None:
        if not self.outcome.done():
            self.outcome.set_exception(error)


class AcceptBatcher:
    """The one task of a process that stores accepted sends, a batch at a time."""

    def __init__(self, rt: Runtime, max_batch: int = MAX_BATCH) -> None:
        self.rt = rt
        self.max_batch = max_batch
        self._waiting: list[_Job] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self.batches = 0  # for tests and benchmarks

    async def accept(self, prepared: PreparedSend) -> Rows:
        """Store `prepared` with the other sends waiting; its rows once committed."""
        job = _Job(prepared)
        self._waiting.append(job)
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="accept-batcher")
        return await job.outcome

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                self._busy = True
                try:
                    await self._store([job for job in batch if not job.outcome.done()])
                finally:
                    self._busy = False

    async def _store(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        try:
            stored = await self.rt.run_transaction(lambda conn: store_batch(self.rt, conn, jobs))
        except Exception as exc:  # nothing of the batch was committed
            log.warning("storing a batch of %d sends failed: %s", len(jobs), exc)
            for job in jobs:
                job.fail(exc)
            return
        except BaseException:
            for job in jobs:
                job.fail(RuntimeError("accepting was interrupted"))
            raise
        self.batches += 1
        scheduled = False
        for job in stored:
            scheduled = scheduled or job.prepared.request.send_at is not None
            if not job.outcome.done():
                job.outcome.set_result(job.prepared.rows)
        self.rt.wake_dispatcher()
        if scheduled:
            self.rt.wake_scheduler()

    async def close(self, timeout: float = 10.0) -> None:
        """Stop after storing what is waiting (requests still in flight get their answer)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (self._waiting or self._busy) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        for job in self._waiting:
            job.fail(RuntimeError("the server is stopping"))
        self._waiting.clear()


def batcher_of(rt: Runtime) -> AcceptBatcher:
    if rt.accept_batcher is None:
        rt.accept_batcher = AcceptBatcher(rt)
    return rt.accept_batcher


async def store_batch(rt: Runtime, conn: AsyncConnection, jobs: Sequence[_Job]) -> list[_Job]:
    """Check and store the sends of `jobs` in the caller's transaction; those stored.

    A send refused by a check gets its error at once and leaves nothing behind (checks that
    write, like short links, run in a savepoint of their own).
    """
    now = utcnow()
    valid_for = timedelta(seconds=rt.settings.valid_for_seconds)
    expires = now + valid_for
    for job in jobs:
        for row in job.prepared.rows:
            _stamp(row, now, valid_for, expires)
    blocked = await optout_store.blocked_pairs(
        conn,
        {
            (row["messaging_profile_id"], row["to_address"])
            for job in jobs
            for row in job.prepared.rows
        },
    )
    pending: dict[str, Rows] = {}  # accepted in this batch, per profile (the spend limit)
    checked: list[_Job] = []
    for job in jobs:
        try:
            await _check(rt, conn, job.prepared, blocked, pending, now)
        except ApiError as exc:
            job.fail(exc)
            continue
        pending.setdefault(job.prepared.sender.profile["id"], []).extend(job.prepared.rows)
        checked.append(job)
    queued = [row for job in checked for row in job.prepared.rows if row["send_at"] is None]
    slots = await throughput.reserve_slots(rt, conn, queued)
    for row, slot in zip(queued, slots, strict=True):
        row["next_attempt_at"], row["wait_seconds"] = slot.starts_at, slot.wait_seconds
    stored: list[_Job] = []
    for job in checked:
        hook = job.prepared.on_accepted
        if hook is not None:
            try:
                async with conn.begin_nested():
                    await hook(conn, job.prepared.rows)
            except Exception as exc:
                job.fail(exc)
                continue
        stored.append(job)
    rows = [row for job in stored for row in job.prepared.rows]
    if rows:
        await message_store.insert_messages(conn, rows)
        await events.created(rt, conn, rows, now)
    return stored


async def _check(
    rt: Runtime,
    conn: AsyncConnection,
    prepared: PreparedSend,
    blocked: set[tuple[str, str]],
    pending: dict[str, Rows],
    now: datetime,
) -> None:
    """The checks of one send that need the batch's transaction; raises ApiError."""
    profile = prepared.sender.profile
    for row in prepared.rows:
        if (profile["id"], row["to_address"]) in blocked:
            raise optouts.blocked_error(row["from_address"], row["to_address"])
    writes = enforced_limit(profile) is not None or bool(profile.get("url_shortener_settings"))
    savepoint = await conn.begin_nested() if writes else None
    try:
        earlier = list(pending.get(profile["id"], []))
        for row, destination in zip(prepared.rows, prepared.destinations, strict=True):
            await links.shorten(rt, conn, profile, row, prepared.request.encoding)
            await send_limits.check_send(
                conn, profile, destination, row["cost_amount"], now, pending=earlier
            )
            earlier.append(row)
    except BaseException:
        if savepoint is not None:
            await savepoint.rollback()
        raise
    if savepoint is not None:
        await savepoint.commit()
