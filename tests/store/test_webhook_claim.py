"""The webhook sender's claim: a message's deliveries in order, and on PostgreSQL one good
plan whatever the statistics say.

A new database under a burst has no statistics (autovacuum analyzes a table a minute or
more after it fills), and PostgreSQL then planned the claim's "no earlier unsettled
delivery of the same message" as an anti-join whose every probe read the whole partial
indexes on `status`: 9.5 s per claim with 5,485 deliveries pending. The claim must probe
the `(message_id, created_at)` index once per candidate instead, and still take the right
rows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.domain.clock import utcnow
from switchboard.store import webhooks
from switchboard.store.schema import metadata, webhook_deliveries
from tests.store.conftest import fresh_tables

SETTLED = 3_000  # messages whose two deliveries went pending → delivering → delivered
PENDING = 2_000  # messages whose two deliveries wait, `message.sent` first

_FILL = [
    "INSERT INTO accounts (id, name, created_at) VALUES ('acc', 'test', now())",
    f"""INSERT INTO webhook_events (id, account_id, event_type, message_id, occurred_at, data,
            created_at)
        SELECT 'e' || i || '-' || k, 'acc',
               CASE k WHEN 0 THEN 'message.sent' ELSE 'message.finalized' END,
               'm' || i, now(), '{{}}', now()
        FROM generate_series(1, {SETTLED + PENDING}) i, generate_series(0, 1) k""",
    # Messages 1 ms apart; each one's `message.finalized` created 0.1 ms after its
    # `message.sent`, so the claim's order (due time, then creation) puts `sent` first.
    f"""INSERT INTO webhook_deliveries (id, account_id, event_id, event_type, message_id,
            targets, target_host, status, next_attempt_at, created_at, updated_at)
        SELECT 'd' || i || '-' || k, 'acc', 'e' || i || '-' || k,
               CASE k WHEN 0 THEN 'message.sent' ELSE 'message.finalized' END,
               'm' || i, '["http://127.0.0.1:9/hook"]', '127.0.0.1:9', 'pending', at, at, at
        FROM generate_series(1, {SETTLED + PENDING}) i, generate_series(0, 1) k,
             LATERAL (SELECT now() - interval '1 hour' + i * interval '1 millisecond'
                             + k * interval '100 microseconds' AS at) t""",
    # The settled ones moved the way the sender moves them, leaving dead index entries.
    f"""UPDATE webhook_deliveries SET status = 'delivering', claimed_by = 'w0',
            claimed_at = now()
        WHERE message_id IN (SELECT 'm' || i FROM generate_series(1, {SETTLED}) i)""",
    """UPDATE webhook_deliveries SET status = 'delivered', attempt_count = 1,
            finished_at = now()
        WHERE status = 'delivering'""",
]


async def _claim_and_plan(conn: AsyncConnection, limit: int) -> tuple[list[dict[str, Any]], str]:
    """Claim as the sender does; the plan of the statement PostgreSQL received."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    sa.event.listen(conn.sync_connection, "before_cursor_execute", record)
    try:
        claimed = await webhooks.claim_due(conn, "w1", utcnow(), limit)
    finally:
        sa.event.remove(conn.sync_connection, "before_cursor_execute", record)
    [(sql, params)] = [(s, p) for s, p in seen if "UPDATE webhook_deliveries" in s]
    plan = (await conn.exec_driver_sql(f"EXPLAIN {sql}", params)).scalars().all()
    return claimed, "\n".join(plan)


def test_webhook_claim_probes_the_message_index_without_statistics(postgres_url: str) -> None:
    async def main() -> tuple[list[dict[str, Any]], str]:
        async with fresh_tables(postgres_url, metadata) as engine, engine.begin() as conn:
            for statement in _FILL:
                await conn.exec_driver_sql(statement)
            analyzed = await conn.scalar(
                sa.text(
                    "SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL"
                    " FROM pg_stat_user_tables WHERE relname = 'webhook_deliveries'"
                )
            )
            assert not analyzed  # the case under test: no statistics yet
            return await _claim_and_plan(conn, limit=64)

    claimed, plan = asyncio.run(main())
    assert "Anti Join" not in plan, plan
    assert "ix_webhook_deliveries_inflight" not in plan, plan
    assert "ix_webhook_deliveries_message" in plan, plan
    # The 64 earliest due: each waiting message's `message.sent`, never its
    # `message.finalized` while the `sent` before it is untried.
    expected = [f"d{i}-0" for i in range(SETTLED + 1, SETTLED + 65)]
    assert [row["id"] for row in claimed] == expected


def test_deliveries_created_at_the_same_instant_go_in_id_order(own_database_url: str) -> None:
    """Two events of one message queued in the same transaction share `created_at`: the
    lower id goes first, and the other waits until it is settled."""
    now = utcnow()
    rows = [
        {
            "id": f"d-{name}",
            "account_id": "acc",
            "event_id": f"e-{name}",
            "event_type": "message.sent",
            "message_id": "m1",
            "targets": ["http://127.0.0.1:9/hook"],
            "target_host": "127.0.0.1:9",
            "status": "pending",
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for name in ("b", "a")
    ]

    async def main() -> tuple[list[str], list[str], list[str]]:
        async with fresh_tables(own_database_url, metadata) as engine:
            async with engine.begin() as conn:
                await conn.execute(
                    metadata.tables["accounts"].insert(),
                    {"id": "acc", "name": "test", "created_at": now},
                )
                await conn.execute(
                    metadata.tables["webhook_events"].insert(),
                    [
                        {
                            "id": r["event_id"],
                            "account_id": "acc",
                            "event_type": "message.sent",
                            "message_id": "m1",
                            "occurred_at": now,
                            "data": "{}",
                            "created_at": now,
                        }
                        for r in rows
                    ],
                )
                await conn.execute(webhook_deliveries.insert(), rows)
            async with engine.begin() as conn:
                first = [r["id"] for r in await webhooks.claim_due(conn, "w1", utcnow(), 10)]
            async with engine.begin() as conn:
                held = [r["id"] for r in await webhooks.claim_due(conn, "w1", utcnow(), 10)]
                await conn.execute(
                    webhook_deliveries.update()
                    .where(webhook_deliveries.c.id == "d-a")
                    .values(status="delivered")
                )
            async with engine.begin() as conn:
                then = [r["id"] for r in await webhooks.claim_due(conn, "w1", utcnow(), 10)]
            return first, held, then

    first, held, then = asyncio.run(main())
    assert first == ["d-a"]
    assert held == []  # `d-b` waits while `d-a` is in flight
    assert then == ["d-b"]
