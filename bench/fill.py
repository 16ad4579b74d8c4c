"""Pre-fill a migrated Switchboard database with finished messages, fast, through SQLAlchemy Core.

Not through the API: rows go in by bulk `INSERT` (executemany, 5,000 rows a statement batch)
using the tables of switchboard/store/schema.py, so the stored shape is exactly what the
server writes. Each message is an outbound SMS from the sandbox account's first number,
`delivered`, received at a time spread over the last `--days` days (inside the retention
window, so lookups find them), with a time-ordered id made from that time, plus its
`--events` status events (sending, sent, delivered: its first status, queued, is the row's own).

Run by bench/growth.py in a child process so that `switchboard` is imported from the code
under test (BENCH_SWITCHBOARD_SRC):

    python -m bench.fill --db sqlite:///x.db --rows 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from switchboard.store import schema
from switchboard.store.database import create_engine

BATCH = 5_000
EVENT_STATUSES = ("sending", "sent", "delivered")


def uuid7_at(when: datetime) -> str:
    ms = int(when.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def message_row(template: dict[str, Any], received: datetime, n: int) -> dict[str, Any]:
    row = dict(template)
    row["id"] = uuid7_at(received)
    row["to_address"] = f"+1312555{n % 10_000:04d}"
    row["received_at"] = received
    row["sent_at"] = received + timedelta(milliseconds=20)
    row["completed_at"] = received + timedelta(milliseconds=250)
    row["next_attempt_at"] = received
    row["claimed_at"] = received
    row["carrier_message_id"] = f"sbx-{row['id']}"
    row["updated_at"] = row["completed_at"]
    return row


async def fill(url: str, rows: int, events: int, days: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    engine = create_engine(url)
    began = time.monotonic()
    try:
        async with engine.connect() as conn:
            number = (
                await conn.execute(
                    sa.select(schema.phone_numbers).order_by(schema.phone_numbers.c.created_at)
                )
            ).first()
            if number is None:
                raise SystemExit("no phone number: start `switchboard serve` on it once first")
            account_id = number.account_id
            profile_id = number.messaging_profile_id
            from_address = number.phone_number
        known = {c.name for c in schema.messages.c}
        template: dict[str, Any] = {
            "account_id": account_id,
            "group_id": None,
            "direction": "outbound",
            "type": "SMS",
            "messaging_profile_id": profile_id,
            "from_address": from_address,
            "sender_type": "long_code",
            "from_line_type": "VoIP",
            "to_line_type": "Wireless",
            "to_country": "US",
            "cc": [],
            "text": "Your Switchboard verification code is 493021. Reply STOP to opt out.",
            "sent_text": "Your Switchboard verification code is 493021. Reply STOP to opt out.",
            "subject": None,
            "media": [],
            "encoding": "GSM-7",
            "parts": 1,
            "num_chars": 68,
            "smart_encoding_applied": False,
            "tags": [],
            "errors": [],
            "cost_amount": "0.0040",
            "cost_currency": "USD",
            "status": "delivered",
            "send_at": None,
            "valid_until": None,
            "wait_seconds": 0.0,
            "claimed_by": None,
            "attempts": 1,
            "carrier": "sandbox",
            "webhook_url": None,
            "webhook_failover_url": None,
            "use_profile_webhooks": True,
        }
        # Columns added later with server defaults or nullable are left to the database.
        template = {k: v for k, v in template.items() if k in known}
        now = datetime.now(UTC)
        span = timedelta(days=days).total_seconds()
        # Oldest first, as a real store fills.
        offsets = sorted((rng.random() * span for _ in range(rows)), reverse=True)
        done = 0
        while done < rows:
            msgs: list[dict[str, Any]] = []
            evs: list[dict[str, Any]] = []
            for n in range(done, min(rows, done + BATCH)):
                received = now - timedelta(seconds=offsets[n]) - timedelta(minutes=5)
                row = message_row(template, received, n)
                msgs.append(row)
                for k, status in enumerate(EVENT_STATUSES[:events]):
                    at = received + timedelta(milliseconds=80 * (k + 1))
                    evs.append(
                        {
                            "id": uuid7_at(at),
                            "account_id": account_id,
                            "message_id": row["id"],
                            "status": status,
                            "occurred_at": at,
                            "detail": None,
                        }
                    )
            async with engine.begin() as conn:
                await conn.execute(schema.messages.insert(), msgs)
                if evs:
                    await conn.execute(schema.message_events.insert(), evs)
            done += len(msgs)
        # What a store that grew over months has done long since, and a bulk load leaves to
        # do while the next measurement runs: on PostgreSQL, autovacuum's pass over the
        # inserted rows and a checkpoint of the gigabytes of WAL (after it every page the
        # accepts touch would be logged whole); on SQLite, the WAL folded in.
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(sa.text("VACUUM ANALYZE"))
                await conn.execute(sa.text("CHECKPOINT"))
        else:
            async with engine.begin() as conn:
                await conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        await engine.dispose()
    return {"rows": rows, "events": rows * events, "seconds": time.monotonic() - began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=3, choices=range(0, 4))
    parser.add_argument("--days", type=float, default=9.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = asyncio.run(
        fill(args.db, min(args.rows, 20_000_000), args.events, args.days, args.seed)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
