"""Tells caches when this process writes to the tables that say who may send what.

Resolving a sender (number → profile, short code, sender id) reads rows that change rarely
but are read on every send; the send path caches them (services/sender_cache.py). Any write
this process makes to those tables bumps a generation counter twice: when the statement runs
and when its transaction commits, so an entry read between the two is dropped too. Writes by
other processes are seen when an entry's time to live ends.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

WATCHED_TABLES = ("messaging_profiles", "phone_numbers", "short_codes", "alphanumeric_sender_ids")
_DIRTY = "switchboard_watched_write"


class ChangeWatch:
    """A counter that moves whenever a watched table may have changed."""

    def __init__(self) -> None:
        self.generation = 0

    def bump(self) -> None:
        self.generation += 1


def writes_watched(statement: str) -> bool:
    """Whether `statement` may write one of the watched tables."""
    head = statement.lstrip()[:6].upper()
    if head in ("SELECT", "SAVEPO", "RELEAS", "PRAGMA", "BEGIN", "COMMIT"):
        return False
    return any(table in statement for table in WATCHED_TABLES)


def watch(engine: AsyncEngine) -> ChangeWatch:
    """A `ChangeWatch` bumped by every write to the watched tables through `engine`."""
    changes = ChangeWatch()

    @sa.event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if writes_watched(statement):
            conn.info[_DIRTY] = True
            changes.bump()

    @sa.event.listens_for(engine.sync_engine, "commit")
    def _after_commit(conn: Any) -> None:
        if conn.info.pop(_DIRTY, False):
            changes.bump()

    @sa.event.listens_for(engine.sync_engine, "rollback")
    def _after_rollback(conn: Any) -> None:
        if conn.invalidated:
            # A lost connection (the server went away mid-transaction) took its record of
            # writes with it; reading `info` now would raise in place of the error that
            # lost it. Assume a write.
            changes.bump()
            return
        if conn.info.pop(_DIRTY, False):
            changes.bump()

    return changes
