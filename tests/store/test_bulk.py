"""update_many: each row gets its own values, only while it still matches the guard."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from switchboard.store.bulk import update_many
from switchboard.store.types import JSONType, UTCDateTime
from tests.store.conftest import fresh_tables

meta = sa.MetaData()
items = sa.Table(
    "bulk_items",
    meta,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(16)),
    sa.Column("n", sa.Integer),
    sa.Column("at", UTCDateTime),
    sa.Column("doc", JSONType),
)
T = datetime(2026, 1, 5, 10, 0, 3, 210000, tzinfo=UTC)


def test_guarded_updates_with_shared_and_varying_values(own_database_url: str) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            async with engine.begin() as conn:
                await conn.execute(
                    items.insert(),
                    [{"id": f"i{k}", "status": "open", "owner": "me", "n": 0} for k in range(6)],
                )
                await conn.execute(items.update().where(items.c.id == "i4").values(status="closed"))
                await conn.execute(items.update().where(items.c.id == "i5").values(owner="you"))
            for attempt in range(2):  # the second run reuses the statements built by the first
                async with engine.begin() as conn:
                    changes = [
                        (f"i{k}", {"status": "done", "at": T, "n": k + attempt, "doc": [k]})
                        for k in range(6)
                    ]
                    moved = await update_many(
                        conn,
                        items,
                        changes,
                        {"status": "open" if attempt == 0 else "done", "owner": "me"},
                    )
                assert moved == {"i0", "i1", "i2", "i3"}  # i4 is closed, i5 not ours
            async with engine.begin() as conn:
                lonely = await update_many(
                    conn, items, [("i0", {"at": T + timedelta(days=1)})], {"owner": "me"}
                )
                nothing_shared = await update_many(
                    conn, items, [("i1", {"n": 7}), ("i2", {"n": 8})], {"status": "done"}
                )
                none_left = await update_many(conn, items, [("i3", {"n": 9})], {"status": "open"})
            assert lonely == {"i0"} and nothing_shared == {"i1", "i2"} and none_left == set()
            async with engine.connect() as conn:
                rows = {r.id: r for r in await conn.execute(sa.select(items))}
            assert rows["i0"].at == T + timedelta(days=1) and rows["i0"].n == 1
            assert rows["i1"].n == 7 and rows["i2"].n == 8 and rows["i3"].n == 4
            assert rows["i3"].status == "done" and rows["i3"].at == T and rows["i3"].doc == [3]
            assert rows["i4"].status == "closed" and rows["i4"].n == 0
            assert rows["i5"].status == "open" and rows["i5"].n == 0 and rows["i5"].doc is None

    asyncio.run(main())
