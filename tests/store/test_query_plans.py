"""The workers' claims and polls use their partial indexes on SQLite, whatever is bound.

Each of these statements runs several times a second whatever the load. A full scan of
`messages` or `webhook_deliveries` would make every round cost as much as the store is
large; and a plan that depends on a bound value (SQLite matches `status = ?` to a partial
index's `status = 'queued'` by the value bound) makes SQLite prepare the statement again at
every run. So each statement is planned as the driver receives it, with its parameters
bound, and again with every text parameter replaced: the plans must use indexes and agree.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from switchboard.domain.clock import utcnow
from switchboard.store import messages, scheduling, webhooks
from switchboard.store.schema import inline, metadata

# "SEARCH messages" without an index is how SQLite plans min() over the whole table.
_FULL_SCAN = re.compile(r"\b(?:SCAN|SEARCH) (messages|webhook_deliveries)\b(?! USING)")

Call = Callable[[AsyncConnection], Awaitable[Any]]
NOW = utcnow()

# What the dispatcher, the sender, the scheduler and their housekeeping run in every round.
WORKER_CALLS: dict[str, Call] = {
    "dispatcher claim": lambda c: messages.claim_due(c, "w1", NOW, 64),
    "dispatcher: past their validity": lambda c: messages.queued_past_deadline(c, NOW, 64),
    "dispatcher: next due": messages.next_due_at,
    "dispatcher: renew claims": lambda c: messages.renew_claims(c, "w1", ["m1", "m2"], NOW),
    "dispatcher: stale sending": lambda c: messages.stale_sending(c, NOW),
    "receipts: awaiting": lambda c: messages.awaiting_receipt(c, "sandbox"),
    "receipts: sent before": lambda c: messages.sent_before(c, NOW, 64),
    "scheduler: due": lambda c: scheduling.due_scheduled(c, NOW, 64),
    "scheduler: next": scheduling.next_send_at,
    "sender claim": lambda c: webhooks.claim_due(c, "w1", NOW, 64),
    "sender claim, busy hosts": lambda c: webhooks.claim_due(c, "w1", NOW, 64, ["a.example"]),
    "sender: pending of messages": lambda c: webhooks.messages_with_pending(c, ["m1"]),
    "sender: next due": webhooks.next_due_at,
    "sender: lease recovery": lambda c: webhooks.requeue_claimed(
        c, NOW, claimed_before=NOW - timedelta(minutes=1)
    ),
}


def plans_of(tmp_path: Path, call: Call) -> list[tuple[str, list[str], list[str]]]:
    """Each statement `call` runs, with SQLite's plan for it as bound by the driver, and its
    plan with every text parameter bound to another value.

    Runs on plain aiosqlite, where every statement goes through SQLAlchemy's events with
    its placeholders (the inline driver's direct calls run the same SQL text).
    """

    async def main() -> list[tuple[str, list[str], list[str]]]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'plans.db'}")
        seen: list[tuple[str, Any]] = []

        @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
        def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
            seen.append((sql, params))

        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            seen.clear()
            async with engine.begin() as conn:
                await call(conn)
                statements = list(seen)
                plans = []
                for sql, params in statements:
                    other = tuple("other" if isinstance(p, str) else p for p in params)
                    plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
                    replan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", other)
                    plans.append((sql, [str(r[3]) for r in plan], [str(r[3]) for r in replan]))
            return plans
        finally:
            await engine.dispose()

    return asyncio.run(main())


def scans(plan: list[str]) -> list[str]:
    return [step for step in plan if _FULL_SCAN.search(step)]


def test_worker_statements_use_indexes_whatever_is_bound(tmp_path: Path) -> None:
    wrong: dict[str, list[str]] = {}
    for name, call in WORKER_CALLS.items():
        plans = plans_of(tmp_path, call)
        assert plans, f"{name}: ran no statement"
        for sql, plan, replan in plans:
            if scans(plan) or plan != replan:
                wrong[name] = [" ".join(sql.split())[:160], *plan, "rebound:", *replan]
    assert not wrong, wrong


def test_a_bound_status_makes_the_plan_depend_on_the_value(tmp_path: Path) -> None:
    """Why `inline`: the same poll with its status bound is planned from the value."""
    m = metadata.tables["messages"].c
    bound = sa.select(sa.func.min(m.next_attempt_at)).where(m.status == "queued")
    written = sa.select(sa.func.min(m.next_attempt_at)).where(m.status == inline("queued"))

    def running(statement: sa.Select[Any]) -> Call:
        return lambda c: c.execute(statement)

    [(_, plan, replan)] = plans_of(tmp_path, running(bound))
    assert not scans(plan) and plan != replan
    [(_, plan, replan)] = plans_of(tmp_path, running(written))
    assert not scans(plan) and plan == replan


def test_inline_refuses_anything_but_a_plain_word() -> None:
    for value in ("queued'; DROP TABLE messages; --", "Queued", "a b", ""):
        try:
            inline(value)
        except ValueError:
            continue
        raise AssertionError(f"accepted {value!r}")
