"""The rows a claim takes: picked once, locked, and never more than asked for.

`UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` is the usual queue claim,
but PostgreSQL may run the subquery more than once while it executes the update (a semi-join
rescanned per row), and with SKIP LOCKED each run skips the rows the previous one locked:
asked for 4 rows it updated all 10 due ones. A claim that takes more than it can hand over
leaves rows in `sending` until their lease expires and they are sent again. A MATERIALIZED
common table expression is evaluated exactly once (PostgreSQL ≥ 12, SQLite ≥ 3.35).
"""

from __future__ import annotations

import sqlalchemy as sa


def picked_ids(pick: sa.Select[tuple[str]], name: str = "picked") -> sa.Select[tuple[str]]:
    """`SELECT id FROM <pick, materialized>`, to use as `column.in_(picked_ids(...))`.

    `pick` selects the ids to claim, with its order, limit and row locks.
    """
    picked = pick.cte(name).prefix_with("MATERIALIZED")
    return sa.select(picked.c[0])
