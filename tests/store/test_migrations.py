"""The migrations build exactly the schema the code declares, and step down and up again."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from switchboard.store.database import create_engine
from switchboard.store.migrate import alembic_config, upgrade
from switchboard.store.schema import metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, metadata))


def _normal(where: Any) -> str:
    # PostgreSQL gives back its own rendering: `(status)::text = 'sent'::text`.
    text = str(where).replace("::text", "").replace("(", " ").replace(")", " ")
    return " ".join(text.lower().split())


def _partial_predicates(connection: Connection) -> tuple[dict[str, str], dict[str, str]]:
    """Each partial index's WHERE on `messages`: as reflected, and as declared."""
    dialect = connection.dialect.name
    reflected = {
        ix["name"]: _normal(ix["dialect_options"][f"{dialect}_where"])
        for ix in sa.inspect(connection).get_indexes("messages")
        if ix.get("dialect_options", {}).get(f"{dialect}_where") is not None
    }
    declared = {
        str(ix.name): _normal(ix.dialect_options[dialect]["where"])
        for ix in metadata.tables["messages"].indexes
        if ix.dialect_options[dialect]["where"] is not None
    }
    return reflected, declared


def _down_then_up(connection: Connection) -> None:
    config = alembic_config(connection)
    command.downgrade(config, "0007")
    command.upgrade(config, "head")


def test_migrated_schema_matches_the_declared_one_both_ways(own_database_url: str) -> None:
    async def main() -> None:
        engine = create_engine(own_database_url)
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                assert await conn.run_sync(_differences) == []
                reflected, declared = await conn.run_sync(_partial_predicates)
            assert "ix_messages_group" in declared and "ix_messages_carrier_ref" in declared
            assert reflected == declared
            async with engine.begin() as conn:
                await conn.run_sync(_down_then_up)
            async with engine.connect() as conn:
                assert await conn.run_sync(_differences) == []
        finally:
            await engine.dispose()

    asyncio.run(main())
