"""`Runtime.read_one`: a single read statement, outside any transaction on PostgreSQL.

A one-row lookup in `read()` costs BEGIN and ROLLBACK round trips on PostgreSQL; alone, the
SELECT sees one snapshot anyway. The server's own view of the connection says which it got.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from switchboard.config import load_settings
from switchboard.services.runtime import Runtime
from switchboard.store.database import create_engine


async def _in_transaction_after_select(rt: Runtime, *, single: bool) -> bool | None:
    """Whether the server holds a transaction open after one SELECT (None: not PostgreSQL)."""
    reading = rt.read_one() if single else rt.read()
    async with reading as conn:
        assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        if rt.engine.dialect.name != "postgresql":
            return None
        return bool(driver.is_in_transaction())  # type: ignore[union-attr]


def test_a_single_read_runs_outside_a_transaction_on_postgresql(own_database_url: str) -> None:
    async def main() -> None:
        engine = create_engine(own_database_url)
        rt = Runtime(settings=load_settings(database_url=own_database_url), engine=engine)
        try:
            single = await _in_transaction_after_select(rt, single=True)
            wrapped = await _in_transaction_after_select(rt, single=False)
            # The pool hands the connection back as it was: `read()` still begins one.
            again = await _in_transaction_after_select(rt, single=False)
            if engine.dialect.name == "postgresql":
                assert (single, wrapped, again) == (False, True, True)
            else:
                assert (single, wrapped, again) == (None, None, None)
        finally:
            await rt.close()
            await engine.dispose()

    asyncio.run(main())
