"""Micro-benchmarks: what each step of accepting and dispatching a message costs, in-process.

No HTTP and no load generator: the service functions of the code under test are called
directly on a temporary SQLite database, one core. It answers "where does a message's time
go" with numbers that add up, and tries two cures without touching the application code:

* `send_message`, one at a time (no contention) and 64 at a time (as under HTTP load);
* the same 64 at a time, but with the calls serialized by an asyncio.Lock (one writer at a
  time, what a single-writer store would do);
* one transaction of 100 message rows, as the batch stores them (what group commit would do);
* the dispatcher's per-message steps: claim (per batch), record the carrier's answer, apply
  the receipt, one message per transaction; then the same answers and receipts recorded
  as the workers record them, 64 concurrent callers sharing transactions (`Batcher`), and
  both again with the webhook and sandbox-traffic rows `serve` writes with each change.

    python -m bench.micro
    BENCH_SWITCHBOARD_SRC=/tmp/sb-head python -m bench.micro     # a copy of the code
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.common import (
    FROM_NUMBER,
    PYTHON,
    SEND_BODY,
    SRC,
    TO_NUMBER,
    UNTHROTTLED,
    child_env,
    dump_json,
    header,
    table,
    workdir,
)

Row = list[str]


def per_call_us(fn: Callable[[], Any], number: int = 2000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def cpu_steps(rows: list[Row]) -> None:
    from switchboard.api.models import MessageSend
    from switchboard.api.parsing import validate
    from switchboard.api.responses import data
    from switchboard.domain.encoding import analyze
    from switchboard.domain.ids import new_id
    from switchboard.domain.phone import _classify, parse_e164

    classify = _classify.__wrapped__  # the classification without its cache

    body = json.loads(SEND_BODY)
    text = body["text"]
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("json.loads(request body)", lambda: json.loads(SEND_BODY)),
        ("pydantic MessageSend validation", lambda: validate(MessageSend, body)),
        ("parse_e164(to), a number seen before (cached)", lambda: parse_e164(TO_NUMBER)),
        ("parse_e164(to), a new number (phonenumbers)", lambda: classify(TO_NUMBER)),
        ("analyze(text) (GSM-7/UCS-2, parts)", lambda: analyze(text, "auto")),
        ("new_id() (UUIDv7)", new_id),
    ]
    for name, fn in steps:
        try:
            rows.append([name, f"{per_call_us(fn):,.1f} µs"])
        except Exception as exc:  # the code under test may have moved on; say so
            rows.append([name, f"n/a ({type(exc).__name__}: {exc})"])
    # Rendering the answer: message resource + JSON bytes.
    if _render_row is not None:
        from switchboard.domain.resources import message_resource

        row, account_id = _render_row
        try:
            us = per_call_us(lambda: data(message_resource([row], account_id)).body, 1000)
            rows.append(["message_resource + JSON response body", f"{us:,.1f} µs"])
        except Exception as exc:
            rows.append(["message_resource + JSON response body", f"n/a ({exc})"])


_render_row: tuple[dict[str, Any], str] | None = None


async def timed(n: int, fn: Callable[[], Awaitable[Any]], concurrency: int) -> float:
    """Run `fn` n times with `concurrency` tasks; calls per second."""
    done = 0

    async def worker() -> None:
        nonlocal done
        while done < n:
            done += 1
            await fn()

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - t)


async def db_steps(work: Path, rows: list[Row], n: int) -> None:
    global _render_row
    from switchboard.config import load_settings
    from switchboard.services import accounts, delivery, messages
    from switchboard.services.numbers import ensure_sandbox_numbers
    from switchboard.services.runtime import Runtime
    from switchboard.store import messages as message_store
    from switchboard.store import migrate
    from switchboard.store.database import create_engine

    url = f"sqlite:///{work / 'micro.db'}"
    os.environ.update(UNTHROTTLED)  # as for the servers: measure the platform, not the policy
    settings = load_settings(database_url=url)
    engine = create_engine(url)
    await migrate.upgrade(engine)
    rt = Runtime(settings=settings, engine=engine)
    account_id = (await accounts.ensure_default_account(rt)).account_id
    await ensure_sandbox_numbers(rt, account_id)
    request = messages.SendRequest(to=TO_NUMBER, from_=FROM_NUMBER, text="Code 493021.")

    async def send() -> dict[str, Any]:
        return await messages.send_message(rt, account_id, request)

    _render_row = (await send(), account_id)
    cpu = time.process_time()
    rate = await timed(n, send, 1)
    cpu_ms = (time.process_time() - cpu) / n * 1e3
    rows.append(
        [
            "send_message, 1 at a time",
            f"{rate:,.0f}/s ({1e3 / rate:.2f} ms each, {cpu_ms:.2f} ms of CPU)",
        ]
    )
    rate = await timed(n, send, 64)
    rows.append(["send_message, 64 at a time (pool of connections)", f"{rate:,.0f}/s"])
    lock = asyncio.Lock()

    async def send_locked() -> dict[str, Any]:
        async with lock:
            return await send()

    rate = await timed(n, send_locked, 64)
    rows.append(["send_message, 64 at a time, one writer (asyncio.Lock)", f"{rate:,.0f}/s"])

    # Group commit: 100 accepted messages stored in one transaction, as the batch stores them
    # (with their first-status events in code older than `events.created`).
    template = _render_row[0]

    async def batch_of_100() -> None:
        from switchboard.domain.ids import new_id
        from switchboard.services import events

        batch = [dict(template, id=new_id()) for _ in range(100)]
        async with rt.transaction() as conn:
            await message_store.insert_messages(conn, batch)
            store_new = getattr(events, "created", events.record)
            await store_new(rt, conn, batch, template["received_at"])

    rate = await timed(max(5, n // 100), batch_of_100, 1) * 100
    rows.append(["100 accepted message rows per transaction", f"{rate:,.0f} rows/s"])

    # The dispatcher's steps, one message at a time, no contention.
    from switchboard.carriers.base import Accepted, DeliveryReport

    while True:  # drain what the sends above queued
        if not await delivery.claim(rt, "micro", 1000):
            break
    for _ in range(n):
        await send()
    t = time.perf_counter()
    claimed: list[dict[str, Any]] = []
    while len(claimed) < n:
        got = await delivery.claim(rt, "micro", 100)
        if not got:
            break
        claimed += got
    claim_ms = (time.perf_counter() - t) / max(1, len(claimed)) * 1e3
    t, cpu = time.perf_counter(), time.process_time()
    for row in claimed:
        await delivery.record_submit_result(
            rt, row, "sandbox", Accepted(carrier_message_id=f"sbx-{row['id']}")
        )
    submit_ms = (time.perf_counter() - t) / max(1, len(claimed)) * 1e3
    submit_cpu = (time.process_time() - cpu) / max(1, len(claimed)) * 1e3
    t, cpu = time.perf_counter(), time.process_time()
    for row in claimed:
        await delivery.apply_delivery_report(
            rt,
            DeliveryReport(
                carrier="sandbox",
                carrier_message_id=f"sbx-{row['id']}",
                status="delivered",
                error_code=None,
                error_detail=None,
                occurred_at=None,
            ),
        )
    receipt_ms = (time.perf_counter() - t) / max(1, len(claimed)) * 1e3
    receipt_cpu = (time.process_time() - cpu) / max(1, len(claimed)) * 1e3
    if not claimed:
        rows.append(["dispatcher steps", "n/a (nothing could be claimed)"])
        await engine.dispose()
        return
    rows.append(
        [f"dispatcher: claim, per message ({len(claimed)} in batches of 100)", f"{claim_ms:.2f} ms"]
    )
    rows.append(
        [
            "dispatcher: record submit result, per message",
            f"{submit_ms:.2f} ms ({submit_cpu:.2f} ms of CPU)",
        ]
    )
    rows.append(
        [
            "dispatcher: apply receipt, per message",
            f"{receipt_ms:.2f} ms ({receipt_cpu:.2f} ms of CPU)",
        ]
    )
    try:  # code without the batched path has no Batcher
        await worker_steps(rt, rows, send, n, label="64 callers", one_at_a_time=False)
        await hooked_worker_steps(rt, account_id, rows, send, n)
    except Exception as exc:
        rows.append(["dispatcher, batched", f"n/a ({type(exc).__name__}: {exc})"])
    await engine.dispose()

    # What one statement costs through each layer: SQLAlchemy async over aiosqlite (as the
    # store runs it), aiosqlite alone, the stdlib driver alone.
    import aiosqlite
    import sqlalchemy as sa

    probe_engine = create_engine(url)
    async with probe_engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
        t = time.perf_counter()
        for _ in range(n):
            await conn.execute(sa.text("SELECT 1"))
        layered = (time.perf_counter() - t) / n * 1e6
    await probe_engine.dispose()
    async with aiosqlite.connect(work / "micro.db") as db:
        t = time.perf_counter()
        for _ in range(n):
            await db.execute("SELECT 1")
        bare_async = (time.perf_counter() - t) / n * 1e6
    plain = sqlite3.connect(work / "micro.db")
    t = time.perf_counter()
    for _ in range(n):
        plain.execute("SELECT 1").fetchall()
    bare = (time.perf_counter() - t) / n * 1e6
    plain.close()
    rows.append(
        [
            "one statement: SQLAlchemy async + the inline driver (store/sqlite_driver.py)",
            f"{layered:,.0f} µs",
        ]
    )
    rows.append(["one statement: aiosqlite alone", f"{bare_async:,.0f} µs"])
    rows.append(["one statement: stdlib sqlite3", f"{bare:,.1f} µs"])
    await transaction_costs(url, rows, n)

    # The floor: stdlib sqlite3, same pragmas, one ~1 KB row per transaction.
    raw = sqlite3.connect(work / "raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT)")
    t = time.perf_counter()
    for i in range(n):
        raw.execute("BEGIN")
        raw.execute("INSERT INTO t VALUES (?, ?)", (str(i), "x" * 1000))
        raw.execute("COMMIT")
    rate = n / (time.perf_counter() - t)
    raw.close()
    rows.append(["stdlib sqlite3, 1 row per transaction (WAL, FULL)", f"{rate:,.0f}/s"])


async def transaction_costs(url: str, rows: list[Row], n: int) -> None:
    """The fixed costs every transaction and statement of the pipeline pays (CPU, µs):
    what a message pays in full when batches hold one or two."""
    import itertools

    from switchboard.config import load_settings
    from switchboard.services.runtime import Runtime
    from switchboard.store.database import create_engine

    engine = create_engine(url)
    rt = Runtime(settings=load_settings(database_url=url), engine=engine)
    keys = itertools.count()
    probe = "SELECT id FROM accounts WHERE id = ?"

    async def empty_write() -> None:
        async with rt.transaction():
            pass

    async def one_insert() -> None:
        async with rt.transaction() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO sender_throughput (address, next_free_at) VALUES (?, '2026-01-01')",
                (f"micro-{next(keys)}",),
            )

    async def read_connection() -> None:
        async with rt.read() as conn:
            await conn.exec_driver_sql(probe, ("x",))

    steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("write transaction (group commit), nothing written", empty_write),
        ("write transaction (group commit), one INSERT and its commit", one_insert),
        ("read connection with one statement", read_connection),
    ]
    async with rt.transaction() as conn:
        try:
            from switchboard.store import driver_calls
        except ImportError:  # code older than store/driver_calls.py
            driver_calls = None

        async def through_sqlalchemy() -> None:
            (await conn.exec_driver_sql(probe, ("x",))).all()

        costs = [("prepared statement through exec_driver_sql", through_sqlalchemy)]
        if driver_calls is not None:

            async def direct() -> None:
                await driver_calls.execute(conn, probe, ("x",))

            costs.append(("prepared statement through store/driver_calls.py", direct))
        for label, step in costs:
            rows.append([label, f"{await cpu_each(n, step):,.1f} µs of CPU"])
    for label, step in steps:
        rows.append([label, f"{await cpu_each(n, step):,.0f} µs of CPU"])
    await rt.close()
    await engine.dispose()


async def cpu_each(n: int, step: Callable[[], Awaitable[Any]]) -> float:
    """CPU per call of `step` (all threads, so a commit's thread counts), after a warm-up."""
    for _ in range(20):
        await step()
    cpu = time.process_time()
    for _ in range(n):
        await step()
    return (time.process_time() - cpu) / n * 1e6


async def worker_steps(
    rt: Any,
    rows: list[Row],
    send: Callable[[], Awaitable[Any]],
    n: int,
    *,
    label: str,
    one_at_a_time: bool,
    concurrency: int = 64,
) -> None:
    """The carrier's answers and the receipts of `n` messages, recorded as the workers do
    (`concurrency` callers sharing one transaction per batch), or one per transaction."""
    from switchboard.carriers.base import Accepted, DeliveryReport
    from switchboard.services import delivery
    from switchboard.workers.batcher import Batcher

    for _ in range(n):
        await send()
    claimed: list[dict[str, Any]] = []
    while len(claimed) < n:
        got = await delivery.claim(rt, "micro-workers", 100)
        if not got:
            break
        claimed += got
    if not claimed:
        rows.append([f"dispatcher, {label}", "n/a (nothing could be claimed)"])
        return
    outcomes = [
        delivery.SubmitOutcome(r, "sandbox", Accepted(carrier_message_id=f"sbx-{r['id']}"))
        for r in claimed
    ]
    reports = [
        DeliveryReport(carrier="sandbox", carrier_message_id=f"sbx-{r['id']}", status="delivered")
        for r in claimed
    ]

    async def record(batch: list[Any]) -> Any:
        return await delivery.record_submit_results(rt, batch)

    async def apply(batch: list[Any]) -> Any:
        return await delivery.apply_delivery_reports(rt, batch)

    for step, handler, items in (
        ("record submit results", record, outcomes),
        ("apply receipts", apply, reports),
    ):
        batcher = Batcher(handler, name=step, max_batch=concurrency)
        slots = asyncio.Semaphore(1 if one_at_a_time else concurrency)

        async def one(item: Any, batcher: Any = batcher, slots: Any = slots) -> None:
            async with slots:
                await batcher.submit(item)

        t, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(item) for item in items))
        ms = (time.perf_counter() - t) / len(items) * 1e3
        cpu_ms = (time.process_time() - cpu) / len(items) * 1e3
        await batcher.close()
        rows.append(
            [
                f"dispatcher: {step}, {label}, per message",
                f"{ms:.2f} ms ({cpu_ms:.2f} ms of CPU; {batcher.batches} transactions)",
            ]
        )


async def hooked_worker_steps(
    rt: Any, account_id: str, rows: list[Row], send: Callable[[], Awaitable[Any]], n: int
) -> None:
    """The worker steps as `switchboard serve` runs them: the webhook rows
    (`message.sent`, `message.finalized`) and the sandbox's traffic written with each
    status change, the sender's profile having a webhook URL."""
    from switchboard.services import profiles, sandbox, webhooks

    webhooks.install(rt)
    sandbox.install(rt)
    listed, _total = await profiles.list_profiles(
        rt, account_id, name_eq=None, name_contains=None, page_number=1, page_size=100
    )
    for profile in listed:
        await profiles.update_profile(
            rt, account_id, profile["id"], {"webhook_url": "http://127.0.0.1:9/hooks"}
        )
    await worker_steps(rt, rows, send, n, label="1 at a time, as serve", one_at_a_time=True)
    await worker_steps(rt, rows, send, n, label="64 callers, as serve", one_at_a_time=False)


def run(n: int = 500) -> list[Row]:
    rows: list[Row] = []
    with workdir() as work:
        try:
            asyncio.run(db_steps(work, rows, n))
        except Exception as exc:
            rows.append(["database steps", f"n/a ({type(exc).__name__}: {exc})"])
    cpu_steps(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=500, help="messages per database step")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    if SRC and os.environ.get("BENCH_MICRO_CHILD") != "1":
        # Import the code under test: run again with it first on the path, from a neutral cwd.
        with workdir() as cwd:
            env = child_env({"BENCH_MICRO_CHILD": "1"})
            raise SystemExit(
                subprocess.run(
                    [PYTHON, "-m", "bench.micro", *sys.argv[1:]], env=env, cwd=cwd, timeout=3600
                ).returncode
            )
    print(header("Micro: the steps of a message, in-process, one core"), flush=True)
    rows = run(max(50, min(args.n, 100_000)))
    print(table(["step", "cost"], rows))
    dump_json(args.json, {"rows": rows})


if __name__ == "__main__":
    main()
