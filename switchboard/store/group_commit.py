"""Group commit for SQLite: many short write transactions, one fsync.

SQLite allows one writer at a time. Left alone, concurrent write transactions wait for the
lock in SQLite's busy handler, which sleeps in steps of milliseconds, and each commit pays
its own fsync. Instead, write transactions queue here and run one after another on one
connection, each in a SAVEPOINT of a shared transaction (until one has succeeded there is
nothing to protect, and a failure rolls back the whole); the shared transaction commits
once the queue is drained (or `max_batch` is reached). A caller's transaction only
finishes when the commit that holds its work has succeeded, so nothing is ever reported
done before it is durable, and one caller's failure rolls back only its own work.

A transaction comes in two forms. `transaction()` runs its block in the caller's task: the
committer hands the connection over and waits for the block, two passes of the event loop
per turn, and on a busy loop each pass waits behind every other ready callback (requests,
webhook responses), so a batch of a few turns took 20–30 ms of wall time at 200 msg/s.
`run(body)` runs `body(conn)` in the committer's own task, with no hand-over: the workers'
batch handlers, which hold the writer most, use it.

The committer keeps its connection between batches. SQLite keeps a page cache per
connection, valid only while no other connection writes: a connection taken from the pool
for each batch found its cache stale (the previous batch wrote through another one) and
read the pages it was about to change back from disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard.store import driver_calls

log = logging.getLogger(__name__)

T = TypeVar("T")
Body = Callable[[AsyncConnection], Awaitable[Any]]

_TURN_SAVEPOINT = "group_commit_turn"  # one turn at a time: one name, released before the next


@dataclass(eq=False)
class _Turn:
    """One caller's transaction: its turn on the connection, its outcome, its commit."""

    loop: asyncio.AbstractEventLoop
    body: Body | None = None  # run by the committer itself (`run`); None: by the caller
    go: asyncio.Future[AsyncConnection] = field(init=False)
    done: asyncio.Future[bool] = field(init=False)
    committed: asyncio.Future[Any] = field(init=False)  # the body's result, once committed
    abandoned: bool = False
    result: Any = None

    def __post_init__(self) -> None:
        self.go = self.loop.create_future()
        self.done = self.loop.create_future()
        self.committed = self.loop.create_future()


# The connection of the transaction the current task is inside, and that task: tasks created
# inside a transaction inherit context variables, but must not share its connection.
_active: ContextVar[tuple[AsyncConnection, asyncio.Task[object] | None] | None] = ContextVar(
    "group_commit_conn", default=None
)


def _restart_savepoint_names(conn: AsyncConnection) -> None:
    """Number this connection's savepoints from 1 again (none is open between batches).

    SQLAlchemy names them `sa_savepoint_1`, `_2`, … per connection object. On a connection
    kept for good the names would never repeat, and every new name is a statement SQLite
    prepares afresh and the sqlite3 module's statement cache takes in, evicting statements
    in use (this cost the whole pipeline ~10% of its CPU). Private to SQLAlchemy, hence the
    guard; tests/store/test_group_commit.py fails if the names stop repeating.
    """
    sync = conn.sync_connection
    if sync is not None and hasattr(sync, "_Connection__savepoint_seq"):
        sync._Connection__savepoint_seq = 0


class GroupCommitter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 500) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Turn] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None  # the writer, kept between batches
        self.batches = 0  # for tests and benchmarks: commits made
        self.transactions = 0  # caller transactions committed
        self.savepoints = 0  # turns run in a savepoint of their own

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        active = _active.get()
        if active is not None and active[1] is asyncio.current_task():
            # A transaction inside a transaction: a savepoint within it.
            async with active[0].begin_nested():
                yield active[0]
            return
        self._ensure_running()
        turn = _Turn(asyncio.get_running_loop())
        await self._queue.put(turn)
        try:
            conn = await turn.go
        except BaseException:
            turn.abandoned = True
            if turn.go.done() and not turn.go.cancelled():
                turn.done.set_result(False)
            raise
        token = _active.set((conn, asyncio.current_task()))
        try:
            yield conn
        except BaseException:
            turn.done.set_result(False)
            raise
        finally:
            _active.reset(token)
        turn.done.set_result(True)
        await turn.committed

    async def run(self, body: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`await body(conn)` in a transaction of its own, run by the committer's task; its
        result once committed. If `body` raises, its work is rolled back and the exception
        comes out here. Inside a transaction of the calling task: in a savepoint of it."""
        active = _active.get()
        if active is not None and active[1] is asyncio.current_task():
            async with active[0].begin_nested():
                return await body(active[0])
        self._ensure_running()
        turn = _Turn(asyncio.get_running_loop(), body)
        await self._queue.put(turn)
        try:
            result: T = await asyncio.shield(turn.committed)
        except asyncio.CancelledError:
            # A turn not begun is dropped; one begun finishes, and nobody reads its outcome.
            turn.abandoned = True
            turn.committed.add_done_callback(_ignore_outcome)
            raise
        return result

    async def _run_body(self, conn: AsyncConnection, turn: _Turn, savepoint: bool) -> bool:
        """Run a `run()` turn's body here; whether it succeeded (its failure goes to its
        caller now: a failed turn is in no commit)."""
        assert turn.body is not None
        turn.go.set_result(conn)  # begun: a failure of the batch from here is the turn's
        if savepoint:
            await self._turn_savepoint(conn, "SAVEPOINT")
        failure: Exception | None = None
        token = _active.set((conn, asyncio.current_task()))
        try:
            turn.result = await turn.body(conn)
        except Exception as exc:
            failure = exc
        finally:
            _active.reset(token)
        await self._end_turn(conn, savepoint, kept=failure is None)
        if failure is None:
            return True
        turn.committed.set_exception(failure)
        return False

    async def _end_turn(self, conn: AsyncConnection, savepoint: bool, *, kept: bool) -> None:
        """Keep or undo a turn's work: its savepoint released or rolled back to, or, for a
        turn without one (nothing before it to keep), the whole transaction begun again."""
        if savepoint:
            if not kept:
                await self._turn_savepoint(conn, "ROLLBACK TO")
            await self._turn_savepoint(conn, "RELEASE")
        elif not kept:
            await conn.rollback()
            await conn.begin()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            try:
                await self._batch(first)
            except Exception:  # the batch's callers got the error; keep serving new ones
                log.exception("group commit batch failed")

    async def _turn_savepoint(self, conn: AsyncConnection, verb: str) -> None:
        """SAVEPOINT, RELEASE or ROLLBACK TO the savepoint around a turn.

        Straight to the driver: through SQLAlchemy's `begin_nested()` the two statements of
        each turn cost about 150 µs of CPU, ten times SQLite's work, and a busy server's
        batches hold several turns. A turn's own savepoints (a transaction inside its
        transaction) stay SQLAlchemy's.
        """
        await driver_calls.execute(conn, f"{verb} {_TURN_SAVEPOINT}", ())
        if verb == "SAVEPOINT":
            self.savepoints += 1

    async def _writer(self) -> AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            conn = await self.engine.connect()
            await conn.execution_options(sqlite_begin="IMMEDIATE")
            self._conn = conn
        _restart_savepoint_names(self._conn)
        return self._conn

    async def _drop_writer(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _batch(self, first: _Turn) -> None:
        batch: list[_Turn] = []
        turn: _Turn | None = first
        try:
            conn = await self._writer()
            await conn.begin()
            while turn is not None:
                if turn.abandoned:
                    pass
                elif turn.body is not None:
                    if await self._run_body(conn, turn, savepoint=bool(batch)):
                        batch.append(turn)
                else:
                    # Until a turn has succeeded the transaction holds nothing to keep: a
                    # failing turn then rolls it back whole, and needs no savepoint (two
                    # statements saved per batch; an API process's batches are mostly one
                    # turn, that of accepted sends).
                    savepoint = bool(batch)
                    if savepoint:
                        await self._turn_savepoint(conn, "SAVEPOINT")
                    turn.go.set_result(conn)
                    kept = await turn.done
                    await self._end_turn(conn, savepoint, kept=kept)
                    if kept:
                        batch.append(turn)
                turn = None
                if len(batch) < self.max_batch and not self._queue.empty():
                    turn = self._queue.get_nowait()
            await conn.commit()
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else RuntimeError("commit interrupted")
            for waiting in batch:
                if not waiting.committed.done():
                    waiting.committed.set_exception(error)
            if turn is not None:  # the turn running when it failed: not in `batch`
                # A `run()` caller always waits on `committed`; a block's, once it began.
                begun = turn.body is not None or turn.go.done()
                outcome = turn.committed if begun else turn.go
                if not outcome.done():
                    outcome.set_exception(error)
            # A connection whose batch failed may be in any state: start the next afresh.
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.rollback()
            await self._drop_writer()
            raise
        self.batches += 1
        self.transactions += len(batch)
        for waiting in batch:
            if not waiting.committed.done():  # a caller cancelled while waiting cancels it
                waiting.committed.set_result(waiting.result)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self._drop_writer()


def _ignore_outcome(future: asyncio.Future[Any]) -> None:
    """Mark an abandoned turn's outcome as read (no "exception never retrieved" warning)."""
    if not future.cancelled():
        future.exception()
