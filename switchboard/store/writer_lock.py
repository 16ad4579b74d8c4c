"""A lock file in front of SQLite's write lock, so the next writer starts as soon as it is free.

SQLite has no queue for its write lock. A writer that finds it taken sleeps in the busy
handler (1, 2, 5, 10, … up to 100 ms at a time) and tries again; a process that writes
continuously (an API process committing batch after batch, a worker process recording
results) takes the lock back between those tries, and the other one can wait hundreds of
milliseconds: two API processes on one file under 64 clients answered with a p99 of
1.4–1.7 s, 46–57 ms with this lock file (docs/performance.md).

So every write transaction of our driver first takes an exclusive `flock` on a file beside
the database, and gives it up once the transaction has ended. A writer blocked there is
woken by the kernel the moment the holder lets go; it then takes SQLite's lock, which is
free. SQLite's locking stays the authority: a process that does not take the lock file
(the `sqlite3` shell, another program) is still waited for in the busy handler.

`flock` locks belong to an open file description, not a process, so each connection opens
the file for itself, and connections of one process queue behind each other too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3


class WriterLock:
    """The lock file of one SQLite database, as one connection holds it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self.held = False

    def _open(self) -> int:
        if self._fd is None:
            # flock needs no write access: read-only, a file another user created serves
            # too (permissions as the umask leaves them, like SQLite's own -wal and -shm).
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
        return self._fd

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits."""
        try:
            fcntl.flock(self._open(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        return True

    async def acquire(self, timeout: float) -> None:
        """Take the lock, waiting in a thread (the loop runs on) up to `timeout` seconds.

        Raises `sqlite3.OperationalError("database is locked")`, as SQLite's own wait would,
        when the time runs out.
        """
        if self.try_acquire():
            return
        fd = self._open()
        waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), timeout)
        except BaseException as exc:
            # The thread cannot be stopped: it takes the lock when it can, and closing its
            # file then gives the lock back. Later acquisitions use a file of their own (a
            # second flock on this one would succeed at once, and be undone by that close).
            self._fd = None
            waiting.add_done_callback(lambda _: os.close(fd))
            if isinstance(exc, TimeoutError):
                raise sqlite3.OperationalError("database is locked") from None
            raise
        self.held = True

    def release(self) -> None:
        if self.held and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.held = False

    def close(self) -> None:
        self.release()
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def lock_path(database: str) -> str | None:
    """The lock file of `database`, or None for a database with no file of its own."""
    if database in ("", ":memory:"):
        return None
    return f"{database}-writer.lock"
