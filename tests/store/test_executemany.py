"""insert_many and update_by_id store what SQLAlchemy's own statements store, on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from switchboard.store.executemany import ROW_ID, insert_many, update_by_id
from switchboard.store.types import JSONType, UTCDateTime
from tests.store.conftest import fresh_tables

meta = sa.MetaData()
rows_table = sa.Table(
    "insert_many_rows",
    meta,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("count", sa.Integer, nullable=True),
    sa.Column("flag", sa.Boolean, nullable=True),
    sa.Column("at", UTCDateTime, nullable=True),
    sa.Column("doc", JSONType, nullable=True),
    sa.Column("label", sa.String(20), nullable=False, server_default="none"),
)

PARIS = timezone(timedelta(hours=1))
T = datetime(2026, 1, 5, 10, 0, 3, 210000, tzinfo=UTC)


def sample(prefix: str) -> list[dict[str, Any]]:
    return [
        {"id": f"{prefix}1", "count": 1, "flag": True, "at": T, "doc": {"a": [1, "é"]}},
        {"id": f"{prefix}2", "count": None, "flag": False, "at": None, "doc": None},
        {
            "id": f"{prefix}3",
            "count": 3,
            "flag": None,
            "at": T.astimezone(PARIS),
            "doc": ["x"],
            "label": "set",  # another key set: its own statement
        },
    ]


def test_rows_read_back_the_same_as_through_table_insert(own_database_url: str) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            async with engine.begin() as conn:
                await insert_many(conn, rows_table, sample("fast-"))
                for row in sample("orm-"):
                    await conn.execute(rows_table.insert(), [row])
            async with engine.connect() as conn:
                stored = {
                    r.id: r._asdict()
                    for r in await conn.execute(sa.select(rows_table).order_by(rows_table.c.id))
                }
            for n in (1, 2, 3):
                fast, orm = stored[f"fast-{n}"], stored[f"orm-{n}"]
                assert {**fast, "id": None} == {**orm, "id": None}
            assert stored["fast-1"]["at"] == T and stored["fast-3"]["at"] == T
            assert stored["fast-1"]["doc"] == {"a": [1, "é"]}
            assert stored["fast-2"]["doc"] is None and stored["fast-2"]["label"] == "none"
            assert stored["fast-3"]["label"] == "set"

    asyncio.run(main())


@pytest.mark.filterwarnings("ignore:Column .* is marked as a member of the primary key")
def test_a_row_without_a_required_column_fails_the_whole_insert(own_database_url: str) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            with pytest.raises(sa.exc.IntegrityError):
                async with engine.begin() as conn:
                    await insert_many(conn, rows_table, [{"id": "ok"}, {"count": 2}])
            async with engine.connect() as conn:
                assert (
                    await conn.execute(sa.select(sa.func.count()).select_from(rows_table))
                ).scalar() == 0

    asyncio.run(main())


def test_update_by_id_sets_each_rows_own_values(own_database_url: str) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            async with engine.begin() as conn:
                await insert_many(conn, rows_table, sample("r-"))
            async with engine.begin() as conn:
                await update_by_id(
                    conn,
                    rows_table,
                    [
                        {ROW_ID: "r-1", "count": 10, "doc": None, "at": None},
                        {ROW_ID: "r-2", "count": 20, "doc": {"b": 2}, "at": T.astimezone(PARIS)},
                        {ROW_ID: "r-3", "label": "again"},  # another key set
                        {ROW_ID: "missing", "count": 99, "doc": None, "at": None},
                    ],
                )
            async with engine.connect() as conn:
                stored = {r.id: r for r in await conn.execute(sa.select(rows_table))}
            assert set(stored) == {"r-1", "r-2", "r-3"}
            assert (stored["r-1"].count, stored["r-1"].doc, stored["r-1"].at) == (10, None, None)
            assert (stored["r-2"].count, stored["r-2"].doc, stored["r-2"].at) == (20, {"b": 2}, T)
            assert stored["r-3"].label == "again" and stored["r-3"].count == 3
            assert stored["r-1"].flag is True  # columns not named are left as they were

    asyncio.run(main())


def test_insert_unless_conflicting_skips_duplicates_only(own_database_url: str) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            async with engine.begin() as conn:
                await insert_many(conn, rows_table, sample("d-"))
            async with engine.begin() as conn:
                again = [
                    {"id": "d-1", "count": 100, "flag": None, "at": None, "doc": None},
                    {"id": "d-9", "count": 9, "flag": None, "at": None, "doc": None},
                ]
                await insert_many(conn, rows_table, again, unless_conflicting_on=("id",))
            async with engine.connect() as conn:
                stored = {r.id: r for r in await conn.execute(sa.select(rows_table))}
            assert set(stored) == {"d-1", "d-2", "d-3", "d-9"}
            assert stored["d-1"].count == 1 and stored["d-9"].count == 9  # kept, added

    asyncio.run(main())


def test_columns_none_in_every_row_store_what_table_insert_stores(own_database_url: str) -> None:
    """Such columns are written as NULL in the statement (no parameter per row), except
    where the type stores None as something else (JSON's 'null'): the raw values match."""

    def rows(prefix: str) -> list[dict[str, Any]]:
        return [
            {"id": f"{prefix}{n}", "count": None, "flag": None, "at": None, "doc": None}
            for n in (1, 2)
        ] + [{"id": f"{prefix}3", "count": None, "flag": True, "at": None, "doc": None}]

    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            async with engine.begin() as conn:
                await insert_many(conn, rows_table, rows("fast-"))
                await insert_many(conn, rows_table, rows("single-")[:1])  # a batch of one
                await conn.execute(rows_table.insert(), rows("orm-"))
            async with engine.connect() as conn:
                raw = {
                    r[0]: tuple(r[1:])
                    for r in await conn.exec_driver_sql(
                        "SELECT id, count IS NULL, flag IS NULL, at IS NULL, doc IS NULL, "
                        "CAST(doc AS TEXT), label FROM insert_many_rows"
                    )
                }
            for n in (1, 2, 3):
                assert raw[f"fast-{n}"] == raw[f"orm-{n}"]
            assert raw["single-1"] == raw["orm-1"]
            assert raw["orm-1"][:3] == (1, 1, 1) and not raw["orm-3"][1]  # bools or ints

    asyncio.run(main())
