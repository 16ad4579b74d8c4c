"""The settings every SQLite connection of the engine gets (store/database.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard.store.database import create_engine


def test_connections_are_durable_wal_with_in_memory_savepoint_journals(tmp_path: Path) -> None:
    async def main() -> dict[str, object]:
        engine = create_engine(f"sqlite:///{tmp_path / 'settings.db'}")
        try:
            async with engine.connect() as conn:
                return {
                    name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "temp_store")
                }
        finally:
            await engine.dispose()

    # synchronous 2 = FULL (a commit is on disk before it returns); temp_store 2 = MEMORY.
    assert asyncio.run(main()) == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "temp_store": 2,
    }
