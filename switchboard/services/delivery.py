"""What workers do with messages: claim, hand to a carrier, record the outcome and receipts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.carriers.base import (
    Accepted,
    DeliveryReport,
    OutboundSubmission,
    SubmitResult,
)
from switchboard.domain.clock import utcnow
from switchboard.domain.errors import delivery_error
from switchboard.domain.status import TERMINAL, InvalidTransition, can_transition
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
    expired = {
        "completed_at": now,
        "valid_until": None,
        "errors": [delivery_error("40014", "The message expired in the send queue.")],
    }

    async def claim_in(conn: AsyncConnection) -> list[dict[str, Any]]:
        overdue = await message_store.queued_past_deadline(conn, now, limit)
        if overdue:
            moves = [events.Move(row, "sending_failed", expired) for row in overdue]
            await events.move_many(rt, conn, moves, now)
        rows = await message_store.claim_due(conn, worker_id, now, limit)
        await events.record(rt, conn, rows, now)
        return rows

    return await rt.run_transaction(claim_in)


@dataclass(frozen=True)
class SubmitOutcome:
    """A carrier's answer to one claimed message, waiting to be recorded."""

    row: dict[str, Any]
    carrier: str
    result: SubmitResult


# What recording an outcome or a receipt gives its caller: the message's row after the
# change, None when another actor moved it first, or the error that concerns it alone.
Recorded = dict[str, Any] | None | Exception


def _submit_move(outcome: SubmitOutcome, now: datetime) -> events.Move:
    row, result = outcome.row, outcome.result
    if isinstance(result, Accepted):
        return events.Move(
            row,
            "sent",
            {
                "sent_at": now,
                "valid_until": None,
                "carrier": outcome.carrier,
                "carrier_message_id": result.carrier_message_id,
                "claimed_by": None,
            },
        )
    if result.retry_after is not None:
        retry_at = now + timedelta(seconds=result.retry_after)
        return events.Move(
            row,
            "queued",
            {
                "next_attempt_at": retry_at,
                "claimed_by": None,
                "wait_seconds": (retry_at - row["received_at"]).total_seconds(),
            },
        )
    return events.Move(
        row,
        "sending_failed",
        {
            "completed_at": now,
            "valid_until": None,
            "carrier": outcome.carrier,
            "claimed_by": None,
            "errors": [delivery_error(result.code, result.detail)],
        },
    )


async def record_submit_results(rt: Runtime, outcomes: Sequence[SubmitOutcome]) -> list[Recorded]:
    """Apply carriers' answers to claimed messages: one transaction for the batch.

    A move the state machine refuses fails alone (its entry is the `InvalidTransition`,
    nothing is written for it); the rest commit together with their events and webhooks.
    """
    now = utcnow()
    moves = [_submit_move(o, now) for o in outcomes]
    results: list[Recorded] = [None] * len(moves)
    legal: list[int] = []
    for i, move in enumerate(moves):
        if can_transition(move.message["status"], move.status):
            legal.append(i)
        else:
            results[i] = InvalidTransition(
                f"message {move.message['id']} cannot go from "
                f"{move.message['status']!r} to {move.status!r}"
            )
    if legal:
        legal_moves = [moves[i] for i in legal]
        rows = await rt.run_transaction(lambda conn: events.move_many(rt, conn, legal_moves, now))
        for i, row in zip(legal, rows, strict=True):
            results[i] = row
    return results


async def record_submit_result(
    rt: Runtime, row: dict[str, Any], carrier: str, result: SubmitResult
) -> dict[str, Any] | None:
    """Apply a carrier's answer to one claimed message (a batch of one)."""
    (recorded,) = await record_submit_results(rt, [SubmitOutcome(row, carrier, result)])
    if isinstance(recorded, Exception):
        raise recorded
    return recorded


async def apply_delivery_reports(rt: Runtime, reports: Sequence[DeliveryReport]) -> list[bool]:
    """Finalize the messages receipts refer to, in one transaction.

    For each receipt: False when no such message is known (yet), True otherwise, also when
    its message is already final or cannot take that status (the receipt is ignored, as is
    a repeat of a receipt earlier in the same batch: `move_many` keeps the first).
    """
    now = utcnow()

    async def apply_in(conn: AsyncConnection) -> list[bool]:
        known: list[bool] = []
        moves: list[events.Move] = []
        found = await message_store.find_by_carrier_refs(
            conn, [(r.carrier, r.carrier_message_id) for r in reports]
        )
        for report in reports:
            row = found.get((report.carrier, report.carrier_message_id))
            known.append(row is not None)
            if row is None:
                continue
            if row["status"] in TERMINAL or not can_transition(row["status"], report.status):
                log.info("ignoring receipt for %s in status %s", row["id"], row["status"])
                continue
            errors_list = (
                [delivery_error(report.error_code, report.error_detail)]
                if report.error_code
                else []
            )
            values = {"completed_at": completed_at(report, row, now), "errors": errors_list}
            moves.append(events.Move(row, report.status, values))
        if moves:
            await events.move_many(rt, conn, moves, now)
        return known

    return await rt.run_transaction(apply_in)


def completed_at(report: DeliveryReport, row: dict[str, Any], now: datetime) -> datetime:
    """When a receipt says its message was final: the carrier's time, unless that cannot be
    right, then the receipt's arrival (`now`).

    The carrier's time cannot be before the message was sent nor after the receipt arrived.
    SMPP's `done date` has only minutes (often no seconds), so it is routinely up to 59 s
    before `sent_at`; an SMSC writing its local time as UTC is hours off either way.
    """
    sent_at = row.get("sent_at")
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    # `now` was read before this transaction began; the `sent` it follows may be younger.
    arrival = now if sent_at is None else max(now, sent_at)
    at = report.occurred_at
    if at is None:
        return arrival
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if at > arrival or (sent_at is not None and at < sent_at):
        return arrival
    return at


async def apply_delivery_report(rt: Runtime, report: DeliveryReport) -> bool:
    """Finalize the message a receipt refers to. False when no such message is known (yet)."""
    (known,) = await apply_delivery_reports(rt, [report])
    return known


async def recover_stale(rt: Runtime) -> int:
    """Requeue messages a dead worker left in `sending` (at start-up and periodically)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=rt.settings.dispatcher.lease_seconds)
    async with rt.transaction() as conn:
        rows = await message_store.stale_sending(conn, cutoff)
        for row in rows:
            await events.move(rt, conn, row, "queued", now, next_attempt_at=now, claimed_by=None)
    return len(rows)


async def renew_claims(rt: Runtime, worker_id: str, message_ids: Sequence[str]) -> int:
    """Keep the leases of messages a live worker is still submitting (a carrier may take up
    to its `submit_timeout` to answer, longer than `dispatcher.lease_seconds`)."""
    async with rt.transaction() as conn:
        return await message_store.renew_claims(conn, worker_id, message_ids, utcnow())


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
