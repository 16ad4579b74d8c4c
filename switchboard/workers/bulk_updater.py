"""The bulk-update runner: claims messaging-settings orders and applies them batch by batch."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from switchboard.services import bulk_updates
from switchboard.services.runtime import Runtime

log = logging.getLogger(__name__)


class BulkUpdater:
    def __init__(self, rt: Runtime, worker_id: str, poll_interval: float = 1.0) -> None:
        self.rt = rt
        self.worker_id = worker_id
        self.poll_interval = poll_interval
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        released = await bulk_updates.release_own_claims(self.rt, self.worker_id)
        if released:
            log.warning("resuming %d bulk update order(s) this worker held", released)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                order = await bulk_updates.claim_next(self.rt, self.worker_id)
                if order is not None:
                    await bulk_updates.run_order(self.rt, order, self.worker_id)
                    continue
            except Exception:
                log.exception("applying a bulk update order failed; retrying")
            await self._idle()

    async def _idle(self) -> None:
        wakeup = self.rt.bulk_update_wakeup
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), self.poll_interval)
        wakeup.clear()

    async def stop(self) -> None:
        self._stopping.set()
        self.rt.wake_bulk_updater()
