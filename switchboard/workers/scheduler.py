"""The scheduler: moves scheduled messages to `queued` when their `send_at` comes.

It sleeps until the earliest `send_at` it knows of (so release is accurate to the second),
is woken early when this process schedules a message, and looks at the database at least
every `scheduling.max_sleep` seconds for messages other processes scheduled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from switchboard.domain.clock import utcnow
from switchboard.services import scheduling
from switchboard.services.runtime import Runtime

log = logging.getLogger(__name__)

MIN_SLEEP = 0.01


class Scheduler:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        settings = self.rt.settings.scheduling
        while not self._stopping.is_set():
            # Cleared before looking, so a message scheduled during the look still wakes us.
            self.rt.schedule_wakeup.clear()
            sleep = settings.max_sleep
            try:
                released = await scheduling.release_due(self.rt, settings.batch_size)
                if released:
                    log.debug("released %d scheduled message(s)", released)
                    self.rt.wake_dispatcher()
                if released >= settings.batch_size:
                    continue
                due = await scheduling.next_send_at(self.rt)
                if due is not None:
                    sleep = min(sleep, max((due - utcnow()).total_seconds(), MIN_SLEEP))
            except Exception:
                log.exception("releasing scheduled messages failed; retrying")
                sleep = min(sleep, 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.rt.schedule_wakeup.wait(), sleep)

    async def stop(self) -> None:
        self._stopping.set()
        self.rt.wake_scheduler()
