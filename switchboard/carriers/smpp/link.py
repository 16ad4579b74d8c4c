"""Keeping one bind up: connect, bind, wait for the session to end, back off, again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from switchboard.carriers.smpp.backoff import Backoff
from switchboard.carriers.smpp.config import SmppCarrierConfig
from switchboard.carriers.smpp.errors import SmppError
from switchboard.carriers.smpp.session import RequestHandler, Role, Session

log = logging.getLogger(__name__)

LinkState = Literal["idle", "connecting", "bound", "backoff", "stopped"]


class BindLink:
    def __init__(
        self,
        config: SmppCarrierConfig,
        role: Role,
        handler: RequestHandler,
        *,
        label: str,
        on_bound: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.role = role
        self.label = label
        self.state: LinkState = "idle"
        self.session: Session | None = None
        self.binds = 0
        self.bound_since: datetime | None = None
        self.last_error: str | None = None
        self._handler = handler
        self._on_bound = on_bound
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()
        self._submitted_before = 0  # counters of sessions that have ended
        self._acked_before = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"smpp-{self.label}")

    async def wait_first_attempt(self) -> None:
        await self._first_attempt.wait()

    @property
    def bound_session(self) -> Session | None:
        session = self.session
        return session if session is not None and session.bound else None

    @property
    def submitted(self) -> int:
        return self._submitted_before + (self.session.submitted if self.session else 0)

    @property
    def acked(self) -> int:
        return self._acked_before + (self.session.acked if self.session else 0)

    async def stop(self) -> None:
        """Unbind cleanly if bound, and stop reconnecting."""
        self._stopping.set()
        session = self.session
        if session is not None:
            if session.bound:
                await session.unbind()
            else:
                session.abort("stopping")
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.state = "stopped"

    async def _run(self) -> None:
        backoff = Backoff(self.config.reconnect_backoff_min, self.config.reconnect_backoff_max)
        while not self._stopping.is_set():
            session = Session(self.config, self.role, self._handler, label=self.label)
            self._retire(session)
            self.state = "connecting"
            try:
                await session.open()
            except (OSError, TimeoutError, SmppError) as exc:
                self.last_error = str(exc) or repr(exc)
                log.warning("%s: bind failed: %s", self.label, self.last_error)
            else:
                backoff.reset()
                self.binds += 1
                self.state = "bound"
                self.bound_since = datetime.now(UTC)
                self._first_attempt.set()
                self._on_bound()
                await session.wait_closed()
                self.bound_since = None
                if self._stopping.is_set():
                    break
                self.last_error = session.close_reason
            self._first_attempt.set()
            await session.wait_closed()
            if self._stopping.is_set():
                break
            self.state = "backoff"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff.next())
        self.state = "stopped"

    def _retire(self, replacement: Session) -> None:
        old = self.session
        if old is not None:
            self._submitted_before += old.submitted
            self._acked_before += old.acked
        self.session = replacement
