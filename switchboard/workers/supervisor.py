"""Starts and stops every worker loop of one process, around one carrier setup."""

from __future__ import annotations

import asyncio
import logging
import socket

from switchboard.carriers.base import Carrier
from switchboard.carriers.sandbox import SandboxCarrier
from switchboard.services import delivery
from switchboard.services.runtime import Runtime
from switchboard.workers.dispatcher import Dispatcher
from switchboard.workers.intake import CarrierIntake
from switchboard.workers.maintenance import run_maintenance

log = logging.getLogger(__name__)


def default_worker_id(role: str = "serve") -> str:
    """Stable across restarts of the same process role, so its own stale claims are reclaimed."""
    return f"{socket.gethostname()}:{role}"


class Workers:
    def __init__(self, rt: Runtime, worker_id: str | None = None) -> None:
        self.rt = rt
        self.worker_id = worker_id or default_worker_id()
        sandbox = rt.settings.sandbox
        self.carrier: Carrier = SandboxCarrier(sandbox.delivery_delay, sandbox.unconfirmed_after)
        self.intake = CarrierIntake(rt)
        self.dispatcher = Dispatcher(rt, self.carrier, self.worker_id)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.carrier.start(self.intake)
        released = await delivery.release_own_claims(self.rt, self.worker_id)
        if released:
            log.warning("requeued %d message(s) this worker held when it stopped", released)
        await self._resume_receipts()
        self._tasks = [
            asyncio.create_task(self.dispatcher.run(), name="dispatcher"),
            asyncio.create_task(run_maintenance(self.rt, self._stopping), name="maintenance"),
        ]

    async def _resume_receipts(self) -> None:
        """Sandbox messages accepted before a restart still get their receipts."""
        if isinstance(self.carrier, SandboxCarrier):
            for row in await delivery.awaiting_receipt(self.rt, self.carrier.name):
                if row["carrier_message_id"]:
                    self.carrier.expect_receipt(row["to_address"], row["carrier_message_id"])

    async def stop(self) -> None:
        self._stopping.set()
        await self.dispatcher.stop()
        await self.carrier.stop()
        await self.intake.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
