"""A database of the test's own per backend: these tests create, alter and drop tables, so
they never share the database of the session's running server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, skip_without_postgres
from tests.harness import postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def own_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    skip_without_postgres()
    yield from postgres_database(POSTGRES_URL)
