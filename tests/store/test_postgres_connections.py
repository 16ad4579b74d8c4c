"""PostgreSQL connections: a lookup's SELECT goes to asyncpg directly once its types are
known and gives what SQLAlchemy would; a pooled connection the server closed is replaced on
checkout, with no round trip asked of a live one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest
import sqlalchemy as sa

from switchboard.config import load_settings
from switchboard.services.runtime import Runtime
from switchboard.store.change_watch import watch
from switchboard.store.database import create_engine
from switchboard.store.prepared import Prepared
from switchboard.store.types import JSONType, UTCDateTime
from tests.store.conftest import fresh_tables

meta = sa.MetaData()
things = sa.Table(
    "pg_things",
    meta,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("n", sa.Integer),
    sa.Column("price", sa.Numeric(12, 4)),
    sa.Column("flag", sa.Boolean),
    sa.Column("at", UTCDateTime),
    sa.Column("doc", JSONType),
    sa.Column("note", sa.Text),
)
ROW = {
    "id": "t-1",
    "n": 7,
    "price": Decimal("0.0040"),
    "flag": True,
    "at": datetime(2026, 11, 28, 9, 30, 1, 123456, tzinfo=UTC),
    "doc": {"a": [1, "two", None]},
    "note": None,
}
BY_ID = Prepared(sa.select(things).where(things.c.id == sa.bindparam("id")))
BY_N = Prepared(sa.select(things.c.id).where(things.c.n == sa.bindparam("n")))


@asynccontextmanager
async def runtime(url: str) -> AsyncIterator[Runtime]:
    async with fresh_tables(url, meta) as engine:
        async with engine.begin() as conn:
            await conn.execute(things.insert(), [ROW])
        rt = Runtime(settings=load_settings(database_url=url), engine=engine)
        try:
            yield rt
        finally:
            await rt.close()


def test_a_single_read_runs_on_asyncpg_and_reads_what_sqlalchemy_reads(postgres_url: str) -> None:
    async def main() -> None:
        async with runtime(postgres_url) as rt:
            through_sqlalchemy: list[str] = []

            @sa.event.listens_for(rt.engine.sync_engine, "before_cursor_execute")
            def trace(*args: object) -> None:
                through_sqlalchemy.append(str(args[2]))

            async with rt.read() as conn:  # in a transaction: SQLAlchemy's adapter
                in_transaction = await BY_ID.rows(conn, {"id": "t-1"})
            assert len(through_sqlalchemy) == 1
            through_sqlalchemy.clear()
            direct = []
            for _ in range(3):
                async with rt.read_one() as conn:
                    direct.append(await BY_ID.rows(conn, {"id": "t-1"}))
            assert through_sqlalchemy == []  # the types were known: asyncpg alone
            assert direct == [[ROW]] * 3
            assert in_transaction == [ROW]
            async with rt.read_one() as conn:
                assert await BY_ID.rows(conn, {"id": "nothing"}) == []

    asyncio.run(main())


def test_a_failing_single_read_raises_sqlalchemy_s_error(postgres_url: str) -> None:
    async def main() -> None:
        async with runtime(postgres_url) as rt:
            async with rt.read_one() as conn:
                assert [r["id"] for r in await BY_N.rows(conn, {"n": 7})] == ["t-1"]
            # On asyncpg directly this fails (2**40 is no int4): it comes out as it would
            # through SQLAlchemy, and the connection goes on serving.
            async with rt.read_one() as conn:
                with pytest.raises(sa.exc.DBAPIError):
                    await BY_N.rows(conn, {"n": 2**40})
            async with rt.read_one() as conn:
                assert [r["id"] for r in await BY_N.rows(conn, {"n": 7})] == ["t-1"]

    asyncio.run(main())


async def _backend_pid(rt: Runtime) -> int:
    async with rt.read_one() as conn:
        return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


def test_a_connection_the_server_closed_is_replaced_without_pinging_live_ones(
    postgres_url: str,
) -> None:
    async def main() -> None:
        engine = create_engine(postgres_url, pool_size=1)
        rt = Runtime(settings=load_settings(database_url=postgres_url), engine=engine)
        try:
            first = await _backend_pid(rt)
            # A live connection is handed out again with nothing sent before the statement.
            sent: list[str] = []
            async with rt.read_one() as conn:
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                driver.add_query_logger(lambda logged: sent.append(logged.query))
            assert await _backend_pid(rt) == first
            await asyncio.sleep(0)  # the logger is called soon after each query
            assert sent == []  # pg_backend_pid() went through SQLAlchemy's adapter, unlogged
            # The server ends the connection (a restart, an administrator): the next
            # checkout gets a new one instead of an error.
            admin = await asyncpg.connect(postgres_url)
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
            finally:
                await admin.close()
            for _ in range(100):  # until the event loop has read the closed socket
                if driver.is_closed():
                    break
                await asyncio.sleep(0.01)
            second = await _backend_pid(rt)
            assert second != first
        finally:
            await rt.close()
            await engine.dispose()

    asyncio.run(main())


def test_a_connection_lost_mid_transaction_raises_its_own_error(postgres_url: str) -> None:
    """The server ends a connection inside a transaction: the statement's disconnect error
    comes out (not one raised by the caches' rollback listener), the caches are told, and
    the next transaction gets a new connection."""

    async def main() -> None:
        engine = create_engine(postgres_url, pool_size=1)
        changes = watch(engine)
        try:
            async with engine.connect() as conn:
                await conn.begin()
                pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
                admin = await asyncpg.connect(postgres_url)
                try:
                    assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
                finally:
                    await admin.close()
                before = changes.generation
                with pytest.raises(sa.exc.DBAPIError) as lost:
                    await conn.execute(sa.text("SELECT 1"))
                assert lost.value.connection_invalidated
                await conn.rollback()
            assert changes.generation > before
            async with engine.begin() as conn:
                assert (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one() != pid
        finally:
            await engine.dispose()

    asyncio.run(main())
