"""Work to do when a connection's transaction commits, and dropped if it rolls back.

Waking a worker for rows a transaction queues must wait for its commit, or the worker finds
nothing. SQLAlchemy's `event.listen(connection, "commit", fn, once=True)` does that, but a
`once` listener is only disarmed when it fires, never removed: on a connection kept for good
(the group committer's writer, store/group_commit.py) every commit went through every
listener ever added to it, one per batch that queued a webhook since the server started, so
a commit's cost grew with the server's uptime. Here the callbacks wait in the connection's
`info` dictionary, and one listener per engine runs (on commit) or drops (on rollback) them.

SQLAlchemy's commit event fires as the COMMIT is issued, not once it has returned. For a
wake-up that is soon enough on SQLite: the woken worker's own transaction queues behind the
commit on the same writer connection. On PostgreSQL a worker woken that early could find
nothing yet (its claim's snapshot taken before the COMMIT had finished on the server) and
take the rows only at its next wake-up or poll. There the event only sets the callbacks
aside, and a `transaction` of this module calls them once the COMMIT has returned, or drops
them if it failed (no rollback event follows a failed COMMIT).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

_PENDING = "switchboard_after_commit"
_COMMITTED = "switchboard_committed"  # set aside at a COMMIT, for `transaction`
_installed: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _call(callbacks: Iterable[Callable[[], Any]]) -> None:
    for callback in callbacks:
        callback()


def _run(conn: sa.Connection) -> None:
    pending = conn.info.pop(_PENDING, ())
    if conn.dialect.name == "sqlite":
        _call(pending)
        return
    # Left by a commit made outside `transaction`: committed, so due.
    _call(conn.info.pop(_COMMITTED, ()))
    if pending:
        conn.info[_COMMITTED] = pending


def _drop(conn: sa.Connection) -> None:
    if not conn.invalidated:  # a lost connection's `info` is gone (and reading it raises)
        conn.info.pop(_PENDING, None)


def _install(engine: sa.Engine) -> None:
    if engine not in _installed:
        sa.event.listen(engine, "commit", _run)
        sa.event.listen(engine, "rollback", _drop)
        _installed.add(engine)


def after_commit(conn: AsyncConnection, callback: Callable[[], Any]) -> None:
    """Call `callback` when `conn`'s transaction commits (at once if none is open); never if
    it rolls back."""
    sync = conn.sync_connection
    if sync is None or not sync.in_transaction():
        callback()
        return
    _install(sync.engine)
    sync.info.setdefault(_PENDING, []).append(callback)


@asynccontextmanager
async def transaction(conn: AsyncConnection) -> AsyncIterator[None]:
    """A transaction on `conn` whose callbacks run once its COMMIT has returned, and never
    if the block or the COMMIT fails (PostgreSQL; on SQLite the commit event runs them)."""
    try:
        async with conn.begin():
            yield
    except BaseException:
        _set_aside(conn, drop=True)
        raise
    _set_aside(conn, drop=False)


def _set_aside(conn: AsyncConnection, *, drop: bool) -> None:
    sync = conn.sync_connection
    if sync is not None and not sync.invalidated:
        callbacks = sync.info.pop(_COMMITTED, ())
        if not drop:
            _call(callbacks)
