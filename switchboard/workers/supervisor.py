"""Starts and stops every worker loop of one process, around one carrier setup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from switchboard.carriers.sandbox import SandboxCarrier
from switchboard.carriers.smpp.carrier import SmppCarrier
from switchboard.services import carriers as carrier_service
from switchboard.services import delivery, webhooks
from switchboard.services.runtime import Runtime
from switchboard.workers.bulk_updater import BulkUpdater
from switchboard.workers.carriers import CarrierSet
from switchboard.workers.dispatcher import Dispatcher
from switchboard.workers.intake import CarrierIntake
from switchboard.workers.maintenance import run_maintenance
from switchboard.workers.scheduler import Scheduler
from switchboard.workers.webhook_sender import WebhookSender

log = logging.getLogger(__name__)


def default_worker_id(role: str = "serve") -> str:
    """Stable across restarts of the same process role, so its own stale claims are reclaimed."""
    return f"{socket.gethostname()}:{role}"


class Workers:
    def __init__(self, rt: Runtime, worker_id: str | None = None) -> None:
        self.rt = rt
        self.worker_id = worker_id or default_worker_id()
        self.carriers = CarrierSet.from_settings(rt.settings)
        self.dispatcher = Dispatcher(rt, self.carriers, self.worker_id)
        self.intake = CarrierIntake(rt, sent_recorded=self.dispatcher.recorded)
        webhooks.install(rt)  # status changes made by these workers queue their webhooks
        self.webhook_sender = WebhookSender(rt, self.worker_id)
        self.scheduler = Scheduler(rt)
        self.bulk_updater = BulkUpdater(rt, self.worker_id)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.carriers.start(self.intake)
        released = await delivery.release_own_claims(self.rt, self.worker_id)
        if released:
            log.warning("requeued %d message(s) this worker held when it stopped", released)
        await self._resume_receipts()
        await self.webhook_sender.start()
        await self.bulk_updater.start()
        self._tasks = [
            asyncio.create_task(self.dispatcher.run(), name="dispatcher"),
            asyncio.create_task(self.webhook_sender.run(), name="webhook-sender"),
            asyncio.create_task(run_maintenance(self.rt, self._stopping), name="maintenance"),
            asyncio.create_task(self._report_carrier_status(), name="carrier-status"),
            asyncio.create_task(self.scheduler.run(), name="scheduler"),
            asyncio.create_task(self.bulk_updater.run(), name="bulk-updater"),
        ]

    async def _resume_receipts(self) -> None:
        """Messages accepted before a restart still get their receipts matched.

        The sandbox re-reports them; SMPP carriers re-learn multi-part ids so their parts'
        receipts are joined again.
        """
        for name, carrier in self.carriers.carriers.items():
            for row in await delivery.awaiting_receipt(self.rt, name):
                if not row["carrier_message_id"]:
                    continue
                if isinstance(carrier, SandboxCarrier):
                    carrier.expect_receipt(row["to_address"], row["carrier_message_id"])
                elif isinstance(carrier, SmppCarrier):
                    carrier.restore(row["carrier_message_id"])

    async def _report_carrier_status(self, interval: float = 5.0) -> None:
        """Publish carrier state for `switchboard carriers status`, from any machine."""
        while not self._stopping.is_set():
            try:
                await carrier_service.report_status(self.rt, self.worker_id, self.carriers.status())
            except Exception:
                log.warning("could not record carrier status", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    async def stop(self) -> None:
        self._stopping.set()
        await self.scheduler.stop()
        await self.bulk_updater.stop()
        await self.dispatcher.stop()
        await self.carriers.stop()
        await self.intake.stop()
        await self.webhook_sender.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
