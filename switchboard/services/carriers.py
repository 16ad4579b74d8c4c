"""Carrier health as the operator sees it."""

from __future__ import annotations

from typing import Any

from switchboard.domain.clock import utcnow
from switchboard.services.runtime import Runtime
from switchboard.store import carriers as carrier_store


async def report_status(rt: Runtime, worker_id: str, snapshot: dict[str, Any]) -> None:
    async with rt.transaction() as conn:
        await carrier_store.save_status(conn, worker_id, snapshot, utcnow())


async def all_status(rt: Runtime) -> list[dict[str, Any]]:
    async with rt.read() as conn:
        return await carrier_store.all_status(conn)
