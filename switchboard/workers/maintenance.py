"""Periodic housekeeping: requeue abandoned claims, give up on receipts that never came."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from switchboard.services import delivery, idempotency
from switchboard.services.runtime import Runtime

log = logging.getLogger(__name__)


async def run_maintenance(rt: Runtime, stopping: asyncio.Event, interval: float = 5.0) -> None:
    while not stopping.is_set():
        try:
            requeued = await delivery.recover_stale(rt)
            if requeued:
                log.warning("requeued %d message(s) abandoned in 'sending'", requeued)
                rt.wake_dispatcher()
            await delivery.unconfirm_overdue(rt)
            await idempotency.purge_expired(rt)
        except Exception:
            log.exception("maintenance pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval)
