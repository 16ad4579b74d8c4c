"""Shared fixtures: a real server per database backend, driven through the Telnyx SDK."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import telnyx

from tests.harness import Server, new_number, postgres_database

POSTGRES_URL = os.environ.get(
    "SWITCHBOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_available() -> bool:
    import asyncpg

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


def skip_without_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("SWITCHBOARD_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL is required here but {POSTGRES_URL} is not reachable")
    pytest.skip(f"no PostgreSQL at {POSTGRES_URL} (set SWITCHBOARD_TEST_POSTGRES_URL)")


def fresh_database(backend: str, directory: Path, name: str = "test.db") -> Iterator[str]:
    """A database for one test alone: a new SQLite file in `directory`, or a new PostgreSQL
    database dropped afterwards (the test is skipped, or failed in CI, without PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / name}"
        return
    skip_without_postgres()
    yield from postgres_database(POSTGRES_URL)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'switchboard.db'}"
        return
    skip_without_postgres()
    yield from postgres_database(POSTGRES_URL)


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(database_url, Path(tmp_path_factory.mktemp("server")))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def client(server: Server) -> telnyx.Telnyx:
    return server.client()


@pytest.fixture
def profile_id(client: telnyx.Telnyx) -> str:
    created = client.messaging_profiles.create(name="Test profile", whitelisted_destinations=["US"])
    assert created.data is not None and created.data.id is not None
    return created.data.id


@pytest.fixture
def sender(client: telnyx.Telnyx, profile_id: str) -> str:
    """A long code of the default account, assigned to `profile_id`."""
    number = new_number()
    client.number_orders.create(
        phone_numbers=[{"phone_number": number}], messaging_profile_id=profile_id
    )
    return number
