"""Webhook events, deliveries (the sender's queue) and attempts; signing keys in rotation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store.bulk import update_many
from switchboard.store.claims import picked_ids
from switchboard.store.executemany import insert_many
from switchboard.store.pagination import fetch_page
from switchboard.store.prepared import Prepared
from switchboard.store.schema import (
    inline,
    signing_keys,
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
)


async def insert_events(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await insert_many(conn, webhook_events, rows)


async def insert_deliveries(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await insert_many(conn, webhook_deliveries, rows)


def _earlier_unsettled() -> sa.Exists:
    """An earlier delivery of the same message is being tried, or has not been tried yet.

    Keeps `message.sent` ahead of `message.finalized` for a receiver that answers, without
    letting a failing receiver hold later events back past the first round.

    Written so that the one plan PostgreSQL can choose is a probe of the `(message_id,
    created_at)` index per candidate, whatever the table's statistics say. Planned as an
    anti-join from a new table's missing statistics, under a backlog of 5,485 pending
    deliveries, a claim took 9.5 s: each probe read every entry of the partial indexes on
    `status` (dead ones included) through a bitmap OR. `OFFSET 0` keeps the subquery a
    per-row subplan instead of a join, `status IN (…)` matches neither partial index's
    predicate, and comparing `(created_at, id)` as one row makes the probe one index range
    rather than two: 1.4–3 ms with or without statistics (1.6–3.9 ms before, with them).
    """
    other = webhook_deliveries.alias("earlier")
    d = webhook_deliveries.c
    return (
        sa.select(other.c.id)
        .where(
            other.c.message_id == d.message_id,
            sa.tuple_(other.c.created_at, other.c.id) < sa.tuple_(d.created_at, d.id),
            other.c.status.in_([inline("delivering"), inline("pending")]),
            sa.or_(other.c.status == inline("delivering"), other.c.attempt_count == 0),
        )
        .offset(sa.literal_column("0"))
        .exists()
    )


# What the sender uses of a claimed delivery (each column read back costs its conversion).
_CLAIMED_COLUMNS = (
    "id",
    "account_id",
    "event_id",
    "event_type",
    "message_id",
    "targets",
    "target_host",
    "rounds",
    "attempt_count",
    "started_at",
    "next_attempt_at",
    "created_at",
)


def _claim_statement(*, skip_busy_hosts: bool) -> sa.Update:
    d = webhook_deliveries.c
    due = (
        sa.select(d.id)
        .where(
            d.status == inline("pending"),
            d.next_attempt_at <= sa.bindparam("now"),
            ~_earlier_unsettled(),
        )
        .order_by(d.next_attempt_at, d.created_at)
        .limit(sa.bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    if skip_busy_hosts:
        due = due.where(d.target_host.not_in(sa.bindparam("busy_hosts", expanding=True)))
    return (
        webhook_deliveries.update()
        .where(d.id.in_(picked_ids(due)), d.status == inline("pending"))
        .values(
            status="delivering",
            claimed_by=sa.bindparam("worker_id"),
            claimed_at=sa.bindparam("now"),
            updated_at=sa.bindparam("now"),
        )
        .returning(*(webhook_deliveries.c[name] for name in _CLAIMED_COLUMNS))
    )


# The statements the sender runs for every claim are built once, with bind parameters, and
# run on the driver (store/prepared.py): constructing the claim, deriving its cache key and
# SQLAlchemy's execution around it took about 1 ms, several times SQLite's own work.
_CLAIM = Prepared(_claim_statement(skip_busy_hosts=False))
_CLAIM_SKIPPING_HOSTS = Prepared(_claim_statement(skip_busy_hosts=True))


async def claim_due(
    conn: AsyncConnection,
    worker_id: str,
    now: datetime,
    limit: int,
    busy_hosts: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Move up to `limit` due pending deliveries to `delivering`, owned by `worker_id`; the
    columns the sender needs of each (`_CLAIMED_COLUMNS`).

    Rows whose first target is on a host in `busy_hosts` stay queued, so one slow receiver
    cannot fill the sender. Each returned row carries its event's `data` text as `event_data`.
    On PostgreSQL the inner select skips rows other workers hold and runs once
    (store/claims.py).
    """
    params: dict[str, Any] = {"now": now, "limit": limit, "worker_id": worker_id}
    statement = _CLAIM
    if busy_hosts:
        statement = _CLAIM_SKIPPING_HOSTS
        params["busy_hosts"] = list(busy_hosts)
    rows = await statement.rows(conn, params)
    if not rows:
        return rows
    data = await event_data(conn, [r["event_id"] for r in rows])
    for row in rows:
        row["event_data"] = data[row["event_id"]]
    rows.sort(key=lambda r: (r["next_attempt_at"], r["created_at"]))
    return rows


_EVENT_DATA = Prepared(
    sa.select(webhook_events.c.id, webhook_events.c.data).where(
        webhook_events.c.id.in_(sa.bindparam("ids", expanding=True))
    )
)


async def event_data(conn: AsyncConnection, event_ids: Sequence[str]) -> dict[str, str]:
    rows = await _EVENT_DATA.rows(conn, {"ids": list(set(event_ids))})
    return {r["id"]: r["data"] for r in rows}


async def insert_attempts(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await insert_many(conn, webhook_attempts, rows)


async def update_claimed_many(
    conn: AsyncConnection, worker_id: str, changes: Sequence[tuple[str, Mapping[str, Any]]]
) -> set[str]:
    """Update deliveries this worker still holds (`delivering`, claimed by `worker_id`); the
    ids updated. A delivery whose claim was lost meanwhile is left as the new holder has it."""
    return await update_many(
        conn, webhook_deliveries, changes, {"status": "delivering", "claimed_by": worker_id}
    )


async def requeue_claimed(
    conn: AsyncConnection, now: datetime, *, claimed_before: datetime, worker_id: str | None = None
) -> int:
    """Claims older than `claimed_before` (of `worker_id`, or anyone's) → pending, due now."""
    d = webhook_deliveries.c
    query = webhook_deliveries.update().where(
        d.status == inline("delivering"), d.claimed_at < claimed_before
    )
    if worker_id is not None:
        query = query.where(d.claimed_by == worker_id)
    result = await conn.execute(
        query.values(status="pending", next_attempt_at=now, claimed_by=None, updated_at=now)
    )
    return result.rowcount or 0


_WITH_PENDING = Prepared(
    sa.select(webhook_deliveries.c.message_id)
    .where(
        webhook_deliveries.c.message_id.in_(sa.bindparam("message_ids", expanding=True)),
        webhook_deliveries.c.status == inline("pending"),
    )
    .distinct()
)


async def messages_with_pending(conn: AsyncConnection, message_ids: Iterable[str]) -> set[str]:
    """Those of `message_ids` with a delivery still pending."""
    ids = sorted(message_ids)
    if not ids:
        return set()
    return {r["message_id"] for r in await _WITH_PENDING.rows(conn, {"message_ids": ids})}


_NEXT_DUE = Prepared(
    sa.select(sa.func.min(webhook_deliveries.c.next_attempt_at)).where(
        webhook_deliveries.c.status == inline("pending")
    )
)


async def next_due_at(conn: AsyncConnection) -> datetime | None:
    """When the earliest pending delivery becomes due (for the sender's sleep)."""
    value: datetime | None = await _NEXT_DUE.scalar(conn, {})
    return value


# --- reading deliveries -----------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None  # delivered | failed
    event_types: tuple[str, ...] = ()
    webhook_contains: str | None = None
    attempts_contains: str | None = None
    started_gte: datetime | None = None
    started_lte: datetime | None = None
    finished_gte: datetime | None = None
    finished_lte: datetime | None = None


def _with_event() -> sa.Select[Any]:
    return sa.select(webhook_deliveries, webhook_events.c.data.label("event_data")).join(
        webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id
    )


async def list_deliveries(
    conn: AsyncConnection,
    account_id: str,
    flt: DeliveryFilter,
    page_number: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    d = webhook_deliveries.c
    query = _with_event().where(d.account_id == account_id)
    if flt.status is not None:
        query = query.where(d.status == flt.status)
    if flt.event_types:
        query = query.where(d.event_type.in_(list(flt.event_types)))
    if flt.webhook_contains:
        query = query.where(webhook_events.c.data.contains(flt.webhook_contains, autoescape=True))
    if flt.attempts_contains:
        text = flt.attempts_contains
        a = webhook_attempts.c
        query = query.where(
            sa.select(a.id)
            .where(
                a.delivery_id == d.id,
                sa.or_(
                    a.url.contains(text, autoescape=True),
                    a.response_body.contains(text, autoescape=True),
                    a.error_detail.contains(text, autoescape=True),
                    a.status == text,
                    sa.cast(a.response_status, sa.String).contains(text, autoescape=True),
                ),
            )
            .exists()
        )
    if flt.started_gte is not None:
        query = query.where(d.started_at >= flt.started_gte)
    if flt.started_lte is not None:
        query = query.where(d.started_at <= flt.started_lte)
    if flt.finished_gte is not None:
        query = query.where(d.finished_at >= flt.finished_gte)
    if flt.finished_lte is not None:
        query = query.where(d.finished_at <= flt.finished_lte)
    query = query.order_by(d.created_at.desc(), d.id.desc())
    return await fetch_page(conn, query, page_number, page_size)


async def get_delivery(
    conn: AsyncConnection, account_id: str, delivery_id: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            _with_event().where(
                webhook_deliveries.c.account_id == account_id,
                webhook_deliveries.c.id == delivery_id,
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def deliveries_for_message(
    conn: AsyncConnection, account_id: str, message_id: str
) -> list[dict[str, Any]]:
    """Deliveries of one message's events, oldest first, each with its `event_data`."""
    d = webhook_deliveries.c
    rows = await conn.execute(
        _with_event()
        .where(d.account_id == account_id, d.message_id == message_id)
        .order_by(d.created_at, d.id)
    )
    return [dict(r._mapping) for r in rows]


async def requeue_delivery(
    conn: AsyncConnection, account_id: str, delivery_id: str, now: datetime
) -> bool:
    """Make a delivery due now with a fresh retry schedule, unless it is being tried
    (`delivering`); its attempts are kept and its attempt count goes on."""
    d = webhook_deliveries.c
    result = await conn.execute(
        webhook_deliveries.update()
        .where(d.id == delivery_id, d.account_id == account_id, d.status != "delivering")
        .values(
            status="pending",
            rounds=0,
            next_attempt_at=now,
            finished_at=None,
            claimed_by=None,
            claimed_at=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount)


async def attempts_for(
    conn: AsyncConnection, delivery_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Attempts of each delivery, newest first."""
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return out
    rows = await conn.execute(
        sa.select(webhook_attempts)
        .where(webhook_attempts.c.delivery_id.in_(list(delivery_ids)))
        .order_by(webhook_attempts.c.number.desc(), webhook_attempts.c.started_at.desc())
    )
    for r in rows:
        out[r.delivery_id].append(dict(r._mapping))
    return out


# --- signing keys ----------------------------------------------------------------------


_KEYS_IN_USE = Prepared(
    sa.select(signing_keys)
    .where(
        signing_keys.c.account_id.in_(sa.bindparam("account_ids", expanding=True)),
        sa.or_(
            signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > sa.bindparam("now")
        ),
    )
    .order_by(signing_keys.c.created_at.desc(), signing_keys.c.id.desc())
)


async def signing_keys_in_use(
    conn: AsyncConnection, account_ids: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """Keys that sign at `now`: current (never retired) and retiring ones still in grace."""
    return await _KEYS_IN_USE.rows(conn, {"account_ids": list(account_ids), "now": now})


async def retire_signing_keys(
    conn: AsyncConnection, account_id: str, now: datetime, until: datetime
) -> list[dict[str, Any]]:
    """End the account's current key(s) at `until`; keys already retiring end now at the latest.

    Returns the keys that were current.
    """
    current = await conn.execute(
        signing_keys.update()
        .where(signing_keys.c.account_id == account_id, signing_keys.c.retired_at.is_(None))
        .values(retired_at=until)
        .returning(*signing_keys.c)
    )
    rows = [dict(r._mapping) for r in current]
    await conn.execute(
        signing_keys.update()
        .where(
            signing_keys.c.account_id == account_id,
            signing_keys.c.retired_at > now,
            signing_keys.c.id.not_in([r["id"] for r in rows] or [""]),
        )
        .values(retired_at=now)
    )
    return rows
