"""An asyncio SQLite driver that runs statements on the event loop's own thread.

SQLAlchemy's async SQLite dialect expects an aiosqlite-shaped connection. aiosqlite runs
every call (cursor creation, execute, fetch, close) on a helper thread, so one statement
costs four thread hand-offs, each a GIL switch and an event-loop wake-up: about 280 µs per
statement through SQLAlchemy, against 36 µs inline and under 1 µs for the statement itself
on a local WAL database (`python -m bench.micro`). No published driver makes the opposite
trade, so this module does it by hand: every call runs inline except two.

- COMMIT runs in a thread. It writes the transaction's pages to the WAL and waits for
  their fsync (most of a millisecond for a batch of sends), with the GIL released: inline,
  the event loop stood still that long once per batch; in a thread, it goes on reading and
  checking requests, which join the next batch. Group commit makes it one hand-off per
  batch (accepting: 156 → 130 µs of CPU per message, 18% more messages/s). A caller
  cancelled meanwhile still waits for the outcome (a begun COMMIT cannot be stopped), so
  it never reports a commit that happened as failed.
- Waiting for the write lock. A write transaction (`BEGIN IMMEDIATE`) first takes the
  database's lock file (store/writer_lock.py), which wakes the next writer as soon as the
  holder's transaction ends, then SQLite's own lock. Each is tried inline without
  waiting; only if it is taken (by another process: a split `api`/`worker` deployment, a
  CLI command) does the wait happen in a thread, up to the connection's timeout.

Statements stay inline: the sqlite3 module releases and retakes the GIL around every row
it steps, and a thread retaking it from a busy event loop waits up to the interpreter's
switch interval (5 ms) each time.

SQLAlchemy's aiosqlite dialect wraps this connection unchanged, given through
`create_async_engine(..., async_creator=...)`. One connection is used by one task at a time
(SQLAlchemy's pool guarantees it), and a thread call runs while that task awaits it, so the
`sqlite3` connection is never used from two threads at once (`check_same_thread=False` only
lifts the module's own guard).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from switchboard.store.writer_lock import WriterLock, lock_path

_T = TypeVar("_T")

_LOCKING_BEGINS = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


def _takes_write_lock(sql: str) -> bool:
    return sql.startswith(_LOCKING_BEGINS)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(exc)


class InlineCursor:
    """A cursor whose coroutines finish without suspending (but a BEGIN IMMEDIATE that waits)."""

    def __init__(self, owner: InlineConnection) -> None:
        self._owner = owner
        self._cursor = owner._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        args = (sql,) if parameters is None else (sql, parameters)
        if _takes_write_lock(sql):
            await self._owner._take_write_lock(self._cursor, args)
        else:
            self._cursor.execute(*args)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    async def nextset(self) -> None:
        return None

    def __aiter__(self) -> InlineCursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class InlineConnection:
    """The aiosqlite.Connection surface SQLAlchemy's dialect uses, over one `sqlite3` one."""

    def __init__(
        self, conn: sqlite3.Connection, busy_timeout: float, writer_lock: WriterLock | None
    ) -> None:
        self._conn = conn
        self._closed = False
        self._busy_timeout = busy_timeout
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._writer_lock = writer_lock

    async def _take_write_lock(self, cursor: sqlite3.Cursor, args: tuple[Any, ...]) -> None:
        """The lock file, then BEGIN IMMEDIATE: each at once if free, else waited for in a
        thread."""
        if self._writer_lock is not None:
            await self._writer_lock.acquire(self._busy_timeout)
        try:
            await self._begin_immediate(cursor, args)
        except BaseException:
            self._release_writer_lock()
            raise

    async def _begin_immediate(self, cursor: sqlite3.Cursor, args: tuple[Any, ...]) -> None:
        self._conn.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute(*args)
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
        finally:
            self._conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        await self._in_thread(cursor.execute, *args)

    def _release_writer_lock(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()

    def _commit(self) -> None:
        """COMMIT, then the lock file: its next holder finds SQLite's lock free."""
        try:
            self._conn.commit()
        finally:
            self._release_writer_lock()

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The `sqlite3` connection itself, for statements run on it directly
        (store/driver_calls.py)."""
        return self._conn

    @property
    def _connection(self) -> sqlite3.Connection | None:  # aiosqlite's "is open" check
        return None if self._closed else self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def _in_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def begin(self, sql: str) -> None:
        """BEGIN (DEFERRED, IMMEDIATE, …): the write lock first for the locking kinds."""
        cursor = self.cursor()
        try:
            await cursor.execute(sql)
        finally:
            await cursor.close()

    async def commit(self) -> None:
        # In a thread: the fsync of the WAL must not stop the event loop (module docstring).
        committing = asyncio.get_running_loop().run_in_executor(None, self._commit)
        cancelled = False
        while not committing.done():
            try:
                await asyncio.wait([committing])  # cancelling the wait leaves the commit be
            except asyncio.CancelledError:
                # Begun, a COMMIT cannot be stopped: wait for its outcome, so the caller
                # reports what happened (and the connection is not used meanwhile), and
                # pass the cancellation on at the caller's next await.
                cancelled = True
        if cancelled:
            task = asyncio.current_task()
            if task is not None:
                task.cancel()
        committing.result()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._release_writer_lock()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close (also SQLAlchemy's forced close, terminate)."""
        if not self._closed:
            self._closed = True
            self._conn.close()  # ends an open transaction: the lock file can go
            if self._writer_lock is not None:
                self._writer_lock.close()


def connector(path: str, timeout: float = 30.0) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: new inline connections to `path`.

    The `sqlite3` module's own transaction handling is off (`isolation_level=None`): its
    implicit BEGINs break SAVEPOINTs, and SQLAlchemy emits BEGIN itself.
    """
    writer_lock_at = lock_path(path)

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        lock = WriterLock(writer_lock_at) if writer_lock_at is not None else None
        return InlineConnection(conn, timeout, lock)

    return connect
