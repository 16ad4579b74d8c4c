"""A database of the test's own per backend: these tests create, alter and drop tables, so
they never share the database of the session's running server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.store.database import create_engine
from tests.conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgres"])
def own_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path, "store.db")


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL database of the test's own, for what only PostgreSQL does."""
    yield from fresh_database("postgres", tmp_path)


@asynccontextmanager
async def fresh_tables(url: str, meta: sa.MetaData) -> AsyncIterator[AsyncEngine]:
    """An engine on `url` (a database of the test's own) with `meta`'s tables created."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(meta.create_all)
        yield engine
    finally:
        await engine.dispose()
