"""The workers' claims, polls and guarded updates: indexed, and compiled once by SQLite.

Each of these statements runs several times a second whatever the load. A full scan of
`messages` or `webhook_deliveries` would make every round cost as much as the store is
large. And SQLite matches `status = ?` to a partial index's `status = 'queued'` by the value
bound, which marks the statement to be compiled again every time it is bound: that cost the
claims two to three times SQLite's own work. So each statement is examined as the driver
receives it: planned with its parameters bound, and run again to see it is not recompiled.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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

# What the dispatcher, the sender, the scheduler and their housekeeping run in every round
# (the guarded updates too, with several rows: SQLite plans a lookup of one id by a shortcut
# that never looks at the other indexes).
WORKER_CALLS: dict[str, Call] = {
    "dispatcher claim": lambda c: messages.claim_due(c, "w1", NOW, 64),
    "dispatcher: past their validity": lambda c: messages.queued_past_deadline(c, NOW, 64),
    "dispatcher: next due": messages.next_due_at,
    "dispatcher: renew claims": lambda c: messages.renew_claims(c, "w1", ["m1", "m2"], NOW),
    "dispatcher: stale sending": lambda c: messages.stale_sending(c, NOW),
    "recording status moves": lambda c: messages.transition_many(
        c, [(m, "sending", {"status": "sent", "sent_at": NOW}) for m in ("m1", "m2")]
    ),
    "receipts: awaiting": lambda c: messages.awaiting_receipt(c, "sandbox"),
    "receipts: sent before": lambda c: messages.sent_before(c, NOW, 64),
    "scheduler: due": lambda c: scheduling.due_scheduled(c, NOW, 64),
    "scheduler: next": scheduling.next_send_at,
    "sender claim": lambda c: webhooks.claim_due(c, "w1", NOW, 64),
    "sender claim, busy hosts": lambda c: webhooks.claim_due(c, "w1", NOW, 64, ["a.example"]),
    "sender: pending of messages": lambda c: webhooks.messages_with_pending(c, ["m1"]),
    "sender: next due": webhooks.next_due_at,
    "sender: recording attempts": lambda c: webhooks.update_claimed_many(
        c, "w1", [(d, {"status": "delivered", "finished_at": NOW}) for d in ("d1", "d2")]
    ),
    "sender: lease recovery": lambda c: webhooks.requeue_claimed(
        c, NOW, claimed_before=NOW - timedelta(minutes=1)
    ),
}


@dataclass
class Examined:
    sql: str
    plan: list[str]  # SQLite's plan, with the parameters bound
    prepared_again: int  # authorizer calls when run again: SQLite compiled it anew


def examine(tmp_path: Path, call: Call) -> list[Examined]:
    """Each statement `call` runs, as the driver receives it (placeholders and parameters).

    The statements are collected on plain aiosqlite, where all of them pass through
    SQLAlchemy's events (the inline driver's direct calls run the same SQL text), then run on
    a `sqlite3` connection twice more: SQLite calls the authorizer only while compiling a
    statement, so a call on a rerun means it was prepared again.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "plans.db"

    async def collect() -> list[tuple[str, Any]]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
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
            return seen
        finally:
            await engine.dispose()

    statements = asyncio.run(collect())
    compiled = 0

    def authorizer(*_: Any) -> int:
        nonlocal compiled
        compiled += 1
        return sqlite3.SQLITE_OK

    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.set_authorizer(authorizer)  # set first: setting it expires prepared statements
        db.execute("BEGIN")
        found = []
        for sql, params in statements:
            plan = [str(r[3]) for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            db.execute(sql, params).fetchall()
            compiled = 0
            for _ in range(2):
                db.execute(sql, params).fetchall()
            found.append(Examined(sql, plan, compiled))
        db.execute("ROLLBACK")
        return found
    finally:
        db.close()


def scans(plan: list[str]) -> list[str]:
    return [step for step in plan if _FULL_SCAN.search(step)]


def test_worker_statements_use_indexes_and_are_prepared_once(tmp_path: Path) -> None:
    wrong: dict[str, tuple[str, list[str], int]] = {}
    for name, call in WORKER_CALLS.items():
        found = examine(tmp_path / name.replace(" ", "_").replace(":", ""), call)
        assert found, f"{name}: ran no statement"
        for e in found:
            if scans(e.plan) or e.prepared_again:
                wrong[name] = (" ".join(e.sql.split())[:120], e.plan, e.prepared_again)
    assert not wrong, "\n".join(f"{k}: {v}" for k, v in wrong.items())


def test_a_bound_status_is_prepared_again_at_every_run(tmp_path: Path) -> None:
    """Why `inline`: a status bound where a partial index names one makes SQLite compile the
    statement again each time it runs, even when the plan comes out the same."""
    m = metadata.tables["messages"].c
    bound = sa.select(sa.func.min(m.next_attempt_at)).where(m.status == "queued")
    written = sa.select(sa.func.min(m.next_attempt_at)).where(m.status == inline("queued"))

    def running(statement: sa.Select[Any]) -> Call:
        return lambda c: c.execute(statement)

    [again] = examine(tmp_path / "bound", running(bound))
    assert again.prepared_again > 0 and not scans(again.plan)
    [once] = examine(tmp_path / "written", running(written))
    assert once.prepared_again == 0 and once.plan == again.plan


def test_inline_refuses_anything_but_a_plain_word() -> None:
    for value in ("queued'; DROP TABLE messages; --", "Queued", "a b", ""):
        try:
            inline(value)
        except ValueError:
            continue
        raise AssertionError(f"accepted {value!r}")


def test_a_guard_status_that_is_not_a_plain_word_stays_bound() -> None:
    from switchboard.store.bulk import _guard

    assert _guard({"status": "sending", "claimed_by": "w1"}) == (
        ("claimed_by", None),
        ("status", "sending"),
    )
    assert _guard({"status": "Odd-Status"}) == (("status", None),)
