"""Alembic environment: runs on the connection `switchboard.store.migrate` hands it."""

from __future__ import annotations

from alembic import context

from switchboard.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via switchboard.store.migrate
    raise RuntimeError("run migrations with `switchboard migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
