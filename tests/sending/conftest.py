"""Fixtures for the sending tests: servers with their own settings, on a fresh database."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, skip_without_postgres
from tests.harness import Server, postgres_database

ServerFactory = Callable[[dict[str, str]], Server]


def _fresh_database(backend: str, workdir: Path, stack: ExitStack) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'switchboard.db'}"
    skip_without_postgres()
    databases = postgres_database(POSTGRES_URL)
    url = next(databases)
    stack.callback(lambda: next(databases, None))
    return url


@pytest.fixture
def make_server(backend: str, tmp_path: Path) -> Iterator[ServerFactory]:
    """Start a server with extra `SWITCHBOARD_*` settings on its own database (same backend
    as the shared `server`); everything started is stopped and dropped afterwards."""
    counter = itertools.count()
    with ExitStack() as stack:

        def start(env: dict[str, str]) -> Server:
            workdir = tmp_path / f"server{next(counter)}"
            workdir.mkdir()
            srv = Server(_fresh_database(backend, workdir, stack), workdir, env=env)
            stack.callback(srv.stop)
            srv.start()
            return srv

        yield start


@pytest.fixture(scope="session")
def media_host() -> Iterator[str]:
    """Base URL of a local server with MMS media (see media_server.py)."""
    from tests.sending.media_server import serve

    yield from serve()
