"""Prepared statements read and write what `conn.execute` would, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from switchboard.store.prepared import Prepared
from switchboard.store.types import JSONType, UTCDateTime
from tests.store.conftest import fresh_tables

meta = sa.MetaData()
things = sa.Table(
    "prepared_things",
    meta,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("n", sa.Integer),
    sa.Column("share", sa.Float),
    sa.Column("flag", sa.Boolean),
    sa.Column("at", UTCDateTime),
    sa.Column("doc", JSONType),
)
T = datetime(2026, 1, 5, 10, 0, 3, 210000, tzinfo=UTC)

BY_IDS = Prepared(
    sa.select(things)
    .where(
        things.c.id.in_(sa.bindparam("ids", expanding=True)), things.c.at >= sa.bindparam("since")
    )
    .order_by(things.c.id)
)
BUMP = Prepared(
    things.update()
    .where(things.c.id.in_(sa.bindparam("ids", expanding=True)), things.c.flag.is_(True))
    .values(n=things.c.n + 1, at=sa.bindparam("at", type_=UTCDateTime))
    .returning(things.c.id, things.c.n, things.c.at, things.c.doc)
)
LATEST = Prepared(sa.select(sa.func.max(things.c.at)).where(things.c.flag == sa.bindparam("flag")))


def test_rows_and_scalars_match_conn_execute(own_database_url: str) -> None:
    async def main() -> None:
        rows: list[dict[str, Any]] = [
            {"id": "a", "n": 1, "share": 0.5, "flag": True, "at": T, "doc": {"k": [1, "é"]}},
            {
                "id": "b",
                "n": 2,
                "share": None,
                "flag": False,
                "at": T + timedelta(hours=1),
                "doc": None,
            },
            {
                "id": "c",
                "n": 3,
                "share": 2.25,
                "flag": True,
                "at": T - timedelta(days=1),
                "doc": [1],
            },
        ]
        async with fresh_tables(own_database_url, meta) as engine:
            async with engine.begin() as conn:
                await conn.execute(things.insert(), rows)
            for _ in range(2):  # the first run learns the result types, the second reuses them
                async with engine.connect() as conn:
                    since = T.astimezone(timezone(timedelta(hours=-5)))
                    got = await BY_IDS.rows(conn, {"ids": ["a", "b", "c", "zz"], "since": since})
                    expected = [
                        dict(r._mapping)
                        for r in await conn.execute(
                            sa.select(things)
                            .where(things.c.id.in_(["a", "b", "c", "zz"]), things.c.at >= T)
                            .order_by(things.c.id)
                        )
                    ]
                    assert got == expected and [r["id"] for r in got] == ["a", "b"]
                    assert got[0]["flag"] is True and got[0]["share"] == 0.5
                    assert got[0]["doc"] == {"k": [1, "é"]} and got[0]["at"] == T
                    assert await LATEST.scalar(conn, {"flag": True}) == T
                    assert await BY_IDS.rows(conn, {"ids": [], "since": T}) == []
            async with engine.begin() as conn:
                later = T + timedelta(days=2)
                bumped = await BUMP.rows(conn, {"ids": ["a", "b", "c"], "at": later})
            assert sorted(bumped, key=lambda r: r["id"]) == [
                {"id": "a", "n": 2, "at": later, "doc": {"k": [1, "é"]}},
                {"id": "c", "n": 4, "at": later, "doc": [1]},
            ]

    asyncio.run(main())


def test_a_statement_without_rows_runs(own_database_url: str) -> None:
    clear = Prepared(
        things.update()
        .where(things.c.id.in_(sa.bindparam("ids", expanding=True)))
        .values(doc=sa.bindparam("doc", type_=JSONType), at=sa.bindparam("at", type_=UTCDateTime))
    )

    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            async with engine.begin() as conn:
                await conn.execute(things.insert(), [{"id": "a", "n": 1}, {"id": "b", "n": 2}])
            for value in ({"x": 1}, [2]):
                async with engine.begin() as conn:
                    await clear.run(conn, {"ids": ["a"], "doc": value, "at": T})
            async with engine.connect() as conn:
                stored = {r.id: r for r in await conn.execute(sa.select(things))}
            assert (stored["a"].doc, stored["a"].at) == ([2], T)
            assert (stored["b"].doc, stored["b"].at) == (None, None)

    asyncio.run(main())


def test_each_shape_of_parameters_expands_as_sqlalchemy_expands_it() -> None:
    """The expansion worked out once per shape (which parameters, how long each list) gives
    the SQL and the converted arguments SQLAlchemy's own expansion gives, on both drivers."""
    from sqlalchemy.dialects import postgresql, sqlite

    from switchboard.store import messages, optouts, webhooks
    from switchboard.store.bulk import _guarded_update
    from switchboard.store.prepared import _expanded

    pairs = [("p1", "+13125550100"), ("p2", "+13125550101"), ("p1", "+13125550102")]
    guarded = _guarded_update(things, ("n", "at"), (("flag", None),))
    cases: list[tuple[Prepared, dict[str, Any]]] = [
        *((BY_IDS, {"ids": ids, "since": T}) for ids in ([], ["a"], ["a", "b", "c"])),
        (BUMP, {"ids": ["a", "b"], "at": T}),
        (LATEST, {"flag": True}),
        *((optouts._BLOCKED_PAIRS, {"pairs": pairs[:n]}) for n in (1, 3)),
        (messages._CLAIM, {"now": T, "limit": 64, "worker_id": "w1"}),
        (
            webhooks._CLAIM_SKIPPING_HOSTS,
            {"now": T, "limit": 8, "worker_id": "w", "busy_hosts": ["h"]},
        ),
        (guarded, {"_bulk_ids": ["a", "b"], "_set_n": 3, "_set_at": T, "_is_flag": True}),
    ]
    for dialect in (sqlite.dialect(), postgresql.asyncpg.dialect()):  # type: ignore[attr-defined]
        for statement, params in cases:
            plan = statement._for(dialect)
            assert plan.layouts is not None
            shape = plan.shape(params)
            assert shape is not None
            layout = plan.layout(shape)
            assert (layout.sql, layout.arguments(params)) == _expanded(plan, params), (
                dialect.name,
                params,
            )
            # The same shape with other values: the same SQL, the new values.
            other = {k: _other(v) for k, v in params.items()}
            assert (layout.sql, layout.arguments(other)) == _expanded(plan, other)


def _other(value: Any) -> Any:
    if isinstance(value, list):
        return [_other(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_other(v) for v in value)
    if isinstance(value, str):
        return value + "-other"
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return value


def test_a_set_for_a_list_parameter_takes_the_full_expansion(own_database_url: str) -> None:
    async def main() -> None:
        async with fresh_tables(own_database_url, meta) as engine:
            async with engine.begin() as conn:
                await conn.execute(
                    things.insert(),
                    [{"id": i, "n": 1, "flag": True, "at": T, "doc": None} for i in "abc"],
                )
            async with engine.connect() as conn:
                plan = BY_IDS._for(conn.dialect)
                assert plan.shape({"ids": {"a", "c"}, "since": T}) is None
                got = await BY_IDS.rows(conn, {"ids": {"a", "c"}, "since": T})
                assert [r["id"] for r in got] == ["a", "c"]

    asyncio.run(main())
