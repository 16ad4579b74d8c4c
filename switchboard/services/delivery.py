"""What workers do with messages: claim, hand to a carrier, record the outcome and receipts."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from switchboard.carriers.base import (
    Accepted,
    DeliveryReport,
    OutboundSubmission,
    Refused,
    SubmitResult,
)
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import delivery_error
from switchboard.domain.status import TERMINAL, can_transition
from switchboard.services import events
from switchboard.services.runtime import Runtime
from switchboard.store import messages as message_store

log = logging.getLogger(__name__)


def submission_for(row: dict[str, Any]) -> OutboundSubmission:
    return OutboundSubmission(
        message_id=row["id"],
        sender=row["from_address"],
        sender_type=row["sender_type"],
        to=row["to_address"],
        text=row["sent_text"],
        encoding="UCS-2" if row["encoding"] == "UCS-2" else "GSM-7",
        parts=row["parts"],
        message_type=row["type"],
        media_urls=tuple(m["url"] for m in row["media"] or []),
        valid_until=row["valid_until"],
    )


async def claim(rt: Runtime, worker_id: str, limit: int) -> list[dict[str, Any]]:
    """Claim due queued messages (→ `sending`), expiring those past `valid_until` first."""
    now = utcnow()
    async with rt.transaction() as conn:
        for row in await message_store.queued_past_deadline(conn, now, limit):
            await events.move(
                rt,
                conn,
                row,
                "sending_failed",
                now,
                completed_at=now,
                valid_until=None,
                errors=[delivery_error("40014", "The message expired in the send queue.")],
            )
        rows = await message_store.claim_due(conn, worker_id, now, limit)
        await events.record(rt, conn, rows, now)
    return rows


async def record_submit_result(
    rt: Runtime, row: dict[str, Any], carrier: str, result: SubmitResult
) -> dict[str, Any] | None:
    """Apply a carrier's answer to a claimed message."""
    now = utcnow()
    async with rt.transaction() as conn:
        if isinstance(result, Accepted):
            return await events.move(
                rt,
                conn,
                row,
                "sent",
                now,
                sent_at=now,
                valid_until=None,
                carrier=carrier,
                carrier_message_id=result.carrier_message_id,
                claimed_by=None,
            )
        assert isinstance(result, Refused)
        if result.retry_after is not None:
            retry_at = now + timedelta(seconds=result.retry_after)
            return await events.move(
                rt,
                conn,
                row,
                "queued",
                now,
                next_attempt_at=retry_at,
                claimed_by=None,
                wait_seconds=(retry_at - row["received_at"]).total_seconds(),
            )
        return await events.move(
            rt,
            conn,
            row,
            "sending_failed",
            now,
            completed_at=now,
            valid_until=None,
            carrier=carrier,
            claimed_by=None,
            errors=[delivery_error(result.code, result.detail)],
        )


async def apply_delivery_report(rt: Runtime, report: DeliveryReport) -> bool:
    """Finalize the message a receipt refers to. False when no such message is known (yet)."""
    now = utcnow()
    async with rt.transaction() as conn:
        row = await message_store.find_by_carrier_ref(
            conn, report.carrier, report.carrier_message_id
        )
        if row is None:
            return False
        if row["status"] in TERMINAL or not can_transition(row["status"], report.status):
            log.info("ignoring receipt for %s in status %s", row["id"], row["status"])
            return True
        errors_list = (
            [delivery_error(report.error_code, report.error_detail)] if report.error_code else []
        )
        await events.move(
            rt,
            conn,
            row,
            report.status,
            now,
            completed_at=report.occurred_at or now,
            errors=errors_list,
        )
    return True


async def recover_stale(rt: Runtime) -> int:
    """Requeue messages a dead worker left in `sending` (at start-up and periodically)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=rt.settings.dispatcher.lease_seconds)
    async with rt.transaction() as conn:
        rows = await message_store.stale_sending(conn, cutoff)
        for row in rows:
            await events.move(rt, conn, row, "queued", now, next_attempt_at=now, claimed_by=None)
    return len(rows)


async def release_own_claims(rt: Runtime, worker_id: str) -> int:
    """On start-up of a worker with a fixed id: rows it held when it died are requeued now."""
    now = utcnow()
    async with rt.transaction() as conn:
        rows = [
            r for r in await message_store.stale_sending(conn, now) if r["claimed_by"] == worker_id
        ]
        for row in rows:
            await events.move(rt, conn, row, "queued", now, next_attempt_at=now, claimed_by=None)
    return len(rows)


async def unconfirm_overdue(rt: Runtime, limit: int = 1000) -> int:
    """`sent` for longer than the receipt timeout → `delivery_unconfirmed`."""
    now = utcnow()
    cutoff = now - timedelta(seconds=rt.settings.dispatcher.receipt_timeout)
    async with rt.transaction() as conn:
        rows = await message_store.sent_before(conn, cutoff, limit)
        for row in rows:
            await events.move(rt, conn, row, "delivery_unconfirmed", now, completed_at=now)
    return len(rows)


async def awaiting_receipt(rt: Runtime, carrier: str) -> list[dict[str, Any]]:
    async with rt.read() as conn:
        return await message_store.awaiting_receipt(conn, carrier)
