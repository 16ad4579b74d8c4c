"""Messages: the rows that are also the dispatcher's queue, and their event history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.bulk import update_many
from switchboard.store.claims import picked_ids
from switchboard.store.executemany import insert_many
from switchboard.store.prepared import Prepared
from switchboard.store.schema import inline, message_events, messages


async def insert_messages(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await insert_many(conn, messages, rows)


async def insert_events(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await insert_many(conn, message_events, rows)


# `GET /v2/messages/{id}`: built for each call, SQLAlchemy's work around this one-row
# lookup was most of the endpoint's CPU (store/prepared.py).
_BY_ID_FOR_ACCOUNT = Prepared(
    sa.select(messages).where(
        messages.c.id == sa.bindparam("id"),
        messages.c.account_id == sa.bindparam("account_id"),
        messages.c.received_at >= sa.bindparam("received_after"),
    )
)


async def get_message(
    conn: AsyncConnection, account_id: str, message_id: str, *, received_after: datetime
) -> dict[str, Any] | None:
    rows = await _BY_ID_FOR_ACCOUNT.rows(
        conn, {"id": message_id, "account_id": account_id, "received_after": received_after}
    )
    return rows[0] if rows else None


async def get_message_by_id(conn: AsyncConnection, message_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(messages).where(messages.c.id == message_id))).first()
    return dict(row._mapping) if row else None


def _claim_statement() -> sa.Update:
    due = (
        sa.select(messages.c.id)
        .where(
            messages.c.status == inline("queued"),
            messages.c.next_attempt_at <= sa.bindparam("now"),
        )
        .order_by(messages.c.next_attempt_at)
        .limit(sa.bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        messages.update()
        .where(messages.c.id.in_(picked_ids(due)), messages.c.status == inline("queued"))
        .values(
            status="sending",
            claimed_by=sa.bindparam("worker_id"),
            claimed_at=sa.bindparam("now"),
            attempts=messages.c.attempts + 1,
            updated_at=sa.bindparam("now"),
        )
        .returning(*messages.c)
    )


# The statements every dispatcher claim runs are built once, with bind parameters, and run
# on the driver (store/prepared.py): SQLAlchemy's work around them cost more than SQLite's.
_CLAIM = Prepared(_claim_statement())


async def claim_due(
    conn: AsyncConnection, worker_id: str, now: datetime, limit: int
) -> list[dict[str, Any]]:
    """Move up to `limit` due queued rows to `sending`, owned by `worker_id`, and return them.

    On PostgreSQL the inner select skips rows other workers hold and runs once
    (store/claims.py); on SQLite the single writer lock makes the update atomic on its own.
    """
    return await _CLAIM.rows(conn, {"now": now, "limit": limit, "worker_id": worker_id})


async def transition(
    conn: AsyncConnection,
    message_id: str,
    from_statuses: Iterable[str],
    values: dict[str, Any],
) -> dict[str, Any] | None:
    """Update a message only if it is still in one of `from_statuses`; the new row or None.

    The status guard is what makes duplicate receipts and racing workers harmless.
    """
    result = await conn.execute(
        messages.update()
        .where(messages.c.id == message_id, messages.c.status.in_(list(from_statuses)))
        .values(**values)
        .returning(*messages.c)
    )
    row = result.first()
    return dict(row._mapping) if row else None


async def transition_many(
    conn: AsyncConnection, changes: Sequence[tuple[str, str, Mapping[str, Any]]]
) -> set[str]:
    """`transition` for many rows: each `(id, expected status, values)` is applied only if the
    row is still in its expected status. The ids that moved; each id at most once."""
    by_status: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for message_id, expected, values in changes:
        by_status.setdefault(expected, []).append((message_id, values))
    moved: set[str] = set()
    for expected, group in by_status.items():
        moved |= await update_many(conn, messages, group, {"status": expected})
    return moved


async def find_by_carrier_refs(
    conn: AsyncConnection, refs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Outbound messages by `(carrier, carrier_message_id)` (the key receipts quote): one
    query per carrier. References no message has are absent."""
    by_carrier: dict[str, set[str]] = {}
    for carrier, carrier_message_id in refs:
        by_carrier.setdefault(carrier, set()).add(carrier_message_id)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for carrier, ids in by_carrier.items():
        rows = await _BY_CARRIER_REFS.rows(conn, {"carrier": carrier, "refs": list(ids)})
        for row in rows:
            found.setdefault((carrier, row["carrier_message_id"]), row)
    return found


# Run for every batch of receipts.
_BY_CARRIER_REFS = Prepared(
    sa.select(messages).where(
        messages.c.carrier == sa.bindparam("carrier"),
        messages.c.carrier_message_id.in_(sa.bindparam("refs", expanding=True)),
        messages.c.direction == "outbound",  # receipts only concern sent messages
    )
)


async def renew_claims(
    conn: AsyncConnection, worker_id: str, message_ids: Sequence[str], now: datetime
) -> int:
    """Move `claimed_at` of rows `worker_id` still holds in `sending` to `now`.

    Rows another transaction has locked are skipped, not waited for: that transaction is
    recording their outcome, which ends the claim anyway, and waiting could deadlock with
    it on PostgreSQL (both lock several rows, not necessarily in the same order).
    """
    if not message_ids:
        return 0
    held = (
        messages.c.id.in_(list(message_ids)),
        messages.c.status == inline("sending"),
        messages.c.claimed_by == worker_id,
    )
    free = sa.select(messages.c.id).where(*held).with_for_update(skip_locked=True)
    result = await conn.execute(
        messages.update()
        .where(messages.c.id.in_(picked_ids(free)), *held)
        .values(claimed_at=now)
        .returning(messages.c.id)  # the sqlite3 module gives no rowcount for WITH … UPDATE
    )
    return len(result.all())


async def stale_sending(conn: AsyncConnection, cutoff: datetime) -> list[dict[str, Any]]:
    """Rows left in `sending` since before `cutoff`: their worker died mid-submit."""
    rows = await conn.execute(
        sa.select(messages).where(
            messages.c.status == inline("sending"), messages.c.claimed_at < cutoff
        )
    )
    return [dict(r._mapping) for r in rows]


async def awaiting_receipt(
    conn: AsyncConnection, carrier: str, limit: int = 10_000
) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(messages)
        .where(messages.c.status == inline("sent"), messages.c.carrier == carrier)
        .order_by(messages.c.sent_at)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


async def sent_before(conn: AsyncConnection, cutoff: datetime, limit: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(messages)
        .where(messages.c.status == inline("sent"), messages.c.sent_at < cutoff)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


_PAST_DEADLINE = Prepared(
    sa.select(messages)
    .where(messages.c.status == inline("queued"), messages.c.valid_until < sa.bindparam("now"))
    .limit(sa.bindparam("limit"))
)
_NEXT_DUE = Prepared(
    sa.select(sa.func.min(messages.c.next_attempt_at)).where(messages.c.status == inline("queued"))
)


async def queued_past_deadline(
    conn: AsyncConnection, now: datetime, limit: int
) -> list[dict[str, Any]]:
    """Queued rows whose validity has run out (looked for before every claim)."""
    return await _PAST_DEADLINE.rows(conn, {"now": now, "limit": limit})


async def next_due_at(conn: AsyncConnection) -> datetime | None:
    """When the earliest queued row becomes due (for the dispatcher's sleep)."""
    value: datetime | None = await _NEXT_DUE.scalar(conn, {})
    return value


async def events_for(conn: AsyncConnection, message_id: str) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(message_events)
        .where(message_events.c.message_id == message_id)
        .order_by(message_events.c.occurred_at, message_events.c.id)
    )
    return [dict(r._mapping) for r in rows]


# --- browsing (the console) ------------------------------------------------------------

_INBOUND = messages.c.direction == sa.literal_column("'inbound'")
# The two sides of a conversation: the handset (or other party) and our number.
_HANDSET = sa.case((_INBOUND, messages.c.from_address), else_=messages.c.to_address)
_NUMBER = sa.case((_INBOUND, messages.c.to_address), else_=messages.c.from_address)


async def list_recent(
    conn: AsyncConnection,
    account_id: str,
    *,
    received_after: datetime,
    number: str | None = None,
    direction: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Messages of both directions, newest first; `number` is part of either address."""
    m = messages.c
    query = sa.select(messages).where(m.account_id == account_id, m.received_at >= received_after)
    if number:
        query = query.where(
            sa.or_(
                m.from_address.contains(number, autoescape=True),
                m.to_address.contains(number, autoescape=True),
            )
        )
    if direction:
        query = query.where(m.direction == direction)
    if status:
        query = query.where(m.status == status)
    query = query.order_by(m.received_at.desc(), m.id.desc()).limit(limit).offset(offset)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def conversations(
    conn: AsyncConnection, account_id: str, *, received_after: datetime, limit: int = 200
) -> list[dict[str, Any]]:
    """One row per (handset, our number) pair, most recently active first, with its latest
    message (`id`, `direction`, `text`, `status`, `received_at`) and its message count."""
    m = messages.c
    pair = (_HANDSET, _NUMBER)
    ranked = (
        sa.select(
            _HANDSET.label("handset"),
            _NUMBER.label("number"),
            m.id,
            m.direction,
            m.sent_text.label("text"),
            m.status,
            m.received_at,
            sa.func.row_number()
            .over(partition_by=pair, order_by=(m.received_at.desc(), m.id.desc()))
            .label("rank"),
            sa.func.count().over(partition_by=pair).label("count"),
        )
        .where(m.account_id == account_id, m.received_at >= received_after)
        .subquery()
    )
    query = (
        sa.select(ranked)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.received_at.desc(), ranked.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in await conn.execute(query)]


async def conversation(
    conn: AsyncConnection,
    account_id: str,
    handset: str,
    number: str,
    *,
    received_after: datetime,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Messages between `handset` and our `number`, oldest first (the latest `limit`)."""
    m = messages.c
    query = (
        sa.select(messages)
        .where(
            m.account_id == account_id,
            m.received_at >= received_after,
            sa.or_(
                sa.and_(
                    m.direction == "inbound", m.from_address == handset, m.to_address == number
                ),
                sa.and_(
                    m.direction == "outbound", m.from_address == number, m.to_address == handset
                ),
            ),
        )
        .order_by(m.received_at.desc(), m.id.desc())
        .limit(limit)
    )
    rows = [dict(r._mapping) for r in await conn.execute(query)]
    rows.reverse()
    return rows
