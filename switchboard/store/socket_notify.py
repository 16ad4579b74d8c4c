"""Cross-process wake-ups for processes sharing one SQLite file: Unix datagram sockets.

PostgreSQL deployments wake other processes' workers with LISTEN/NOTIFY (store/notify.py).
SQLite has nothing like it, so an API process beside a `switchboard worker` on the same
file used to leave the worker to find new messages at its next poll (half a second for
the dispatcher, a second for webhooks): at 200 messages/s, accept → `delivered` took
300–348 ms at the median, 51–71 ms with these wake-ups (`python -m bench.end_to_end
--role split`).

Every process with workers binds a datagram socket in a directory named after the
database (under the system's temporary directory: a socket's path must stay under ~100
bytes, which a database's own directory does not promise). A notification is one
datagram, the topic's name, to each socket there but the sender's own. Nothing here is
needed for correctness: a lost datagram, a full socket buffer or a dead listener (its
socket file is removed when found) only leaves the work to the poll, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# How long the list of listening sockets is trusted; a worker started since is found then.
LISTENERS_TTL = 1.0


def wakeup_dir(database: str) -> Path:
    """The directory of `database`'s listeners: the same for every process using the file."""
    digest = hashlib.sha256(os.path.realpath(database).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"switchboard-wakeups-{digest}"


class SocketNotifier:
    """Sends topics to the other processes' sockets, and hands received ones to handlers."""

    def __init__(self, database: str) -> None:
        self.dir = wakeup_dir(database)
        self._out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._out.setblocking(False)
        self._in: socket.socket | None = None
        self._own: str | None = None
        self._handlers: dict[str, Callable[[], None]] = {}
        self._pending: set[str] = set()
        self._flush_scheduled = False
        self._listeners: list[str] = []
        self._listed_at = -LISTENERS_TTL

    async def listen(self, handlers: dict[str, Callable[[], None]]) -> None:
        """Call `handlers[topic]()` whenever another process notifies `topic`.

        A socket that cannot be made (a directory another user owns, say) leaves this
        process to its polls, with a warning: wake-ups only ever save latency.
        """
        self._handlers = handlers
        path = str(self.dir / f"{os.getpid()}-{os.urandom(4).hex()}.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
        try:
            for attempt in range(2):
                self.dir.mkdir(mode=0o700, exist_ok=True)
                try:
                    sock.bind(path)
                    break
                except FileNotFoundError:  # the last listener removed the directory
                    if attempt:
                        raise
        except OSError as exc:
            sock.close()
            log.warning("no wake-ups from other processes (%s): %s", self.dir, exc)
            return
        self._in, self._own = sock, path
        asyncio.get_running_loop().add_reader(sock.fileno(), self._on_readable)

    def _on_readable(self) -> None:
        assert self._in is not None
        topics: set[str] = set()
        while True:
            try:
                topics.add(self._in.recv(64).decode("ascii", "replace"))
            except (BlockingIOError, InterruptedError):
                break
        for topic in topics:
            handler = self._handlers.get(topic)
            if handler is not None:
                handler()

    def notify(self, topic: str) -> None:
        """Send `topic` at the end of this event-loop turn (a burst sends it once)."""
        self._pending.add(topic)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        topics, self._pending = self._pending, set()
        for path in list(self._others()):
            for topic in topics:
                try:
                    self._out.sendto(topic.encode("ascii"), path)
                except (BlockingIOError, InterruptedError):
                    break  # its buffer is full of wake-ups already
                except (ConnectionRefusedError, FileNotFoundError):
                    self._forget(path)  # its process has gone
                    break
                except OSError as exc:
                    log.debug("wake-up to %s failed: %s", path, exc)
                    break

    def _others(self) -> list[str]:
        now = time.monotonic()
        if now - self._listed_at >= LISTENERS_TTL:
            self._listed_at = now
            try:
                names = os.listdir(self.dir)
            except OSError:  # none yet, or not usable: nobody to wake
                names = []
            self._listeners = [
                str(self.dir / name)
                for name in names
                if name.endswith(".sock") and str(self.dir / name) != self._own
            ]
        return self._listeners

    def _forget(self, path: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(ValueError):
            self._listeners.remove(path)

    async def close(self) -> None:
        if self._in is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._in.fileno())
            self._in.close()
            self._in = None
        if self._own is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._own)
                os.rmdir(self.dir)  # only when no other listener is left in it
            self._own = None
        self._out.close()
