"""Statements the workers run for every claim and batch, compiled once and run on the driver.

Through `conn.execute`, each run of a Core statement pays SQLAlchemy's per-execution work
(cache key, execution context, parameter processing, result metadata, row objects): for the
webhook claim that was about 700 µs against 200 µs of SQLite's own work, and the workers run
such statements thousands of times a second. A `Prepared` statement is compiled once per
dialect; each run expands its IN lists (SQLAlchemy's own `construct_expanded_state`),
converts the parameters with the statement's own bind processors, hands the SQL to the
driver (store/driver_calls.py), and converts the selected or returned columns with their
types' result processors. Same SQL, same conversions, same driver call, less bookkeeping
around them.

Expanding the statement is itself costly: SQLAlchemy rebuilds the parameters and rewrites the
SQL with a regular expression at every run, which took a tenth of `serve`'s CPU at low rates.
What the expansion gives depends only on the shape of the parameters (which are given, and
how long each expanding list is), so it is worked out once per shape (`_Layout`): the SQL,
and for each placeholder where its value comes from and how it is converted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from switchboard.store import driver_calls
from switchboard.store.driver_calls import DriverResult

Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class _Slot:
    """Where one placeholder's value comes from: the caller's parameter `name` (its item `i`
    of an expanding list, element `j` of a tuple in it), or the statement's own `value`."""

    name: str | None
    i: int | None = None
    j: int | None = None
    convert: Converter | None = None
    value: Any = None


@dataclass(frozen=True)
class _Layout:
    """The expanded SQL for one shape of parameters, and its placeholders' sources."""

    sql: str
    slots: tuple[_Slot, ...]

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        args = []
        for slot in self.slots:
            if slot.name is None:
                args.append(slot.value)
                continue
            value = params[slot.name]
            if slot.i is not None:
                value = value[slot.i]
                if slot.j is not None:
                    value = value[slot.j]
            args.append(value if slot.convert is None else slot.convert(value))
        return tuple(args)


Shape = tuple[tuple[str, tuple[int, int | None] | None], ...]

# Shapes kept per statement: list lengths are bounded by the batch sizes, so this is never
# reached in practice; past it a run expands in full rather than growing the cache.
MAX_LAYOUTS = 512


@dataclass
class _Compiled:
    compiled: SQLCompiler
    bind_converters: dict[str, Converter]
    columns: tuple[str, ...]  # names of the selected or returned columns
    expanding: frozenset[str]  # parameters given as lists (`IN`), expanded per run
    # Known after the first run: some drivers' converters depend on the type the server
    # reports for a column (asyncpg's numbers), which only a result's description gives.
    result_converters: tuple[Converter | None, ...] | None = None
    layouts: dict[Shape, _Layout] | None = None  # None: values rendered into the SQL

    def shape(self, params: Mapping[str, Any]) -> Shape | None:
        """Which parameters are given and how long each list is (None: a list that cannot
        be indexed, such as a set, which only the full expansion takes)."""
        shape: list[tuple[str, tuple[int, int | None] | None]] = []
        for name, value in params.items():
            if name not in self.expanding:
                shape.append((name, None))
            elif isinstance(value, list | tuple):
                shape.append((name, (len(value), _arity(value))))
            else:
                return None
        return tuple(shape)

    def layout(self, shape: Shape) -> _Layout:
        """Expand with a marker in place of each value the caller gives, and read where each
        marker landed; everything else in the SQL's parameters is the statement's own."""
        markers: dict[str, Any] = {}
        for name, size in shape:
            if size is None:
                markers[name] = _Slot(name)
                continue
            count, arity = size
            markers[name] = [
                _Slot(name, i) if arity is None else tuple(_Slot(name, i, j) for j in range(arity))
                for i in range(count)
            ]
        state = self.compiled.construct_expanded_state(markers)
        converters = {**self.bind_converters, **state.processors}
        slots = []
        for name, value in zip(state.positiontup or (), state.positional_parameters, strict=True):
            convert = converters.get(name)
            if isinstance(value, _Slot):
                slots.append(_Slot(value.name, value.i, value.j, convert))
            else:
                slots.append(_Slot(None, value=value if convert is None else convert(value)))
        return _Layout(state.statement, tuple(slots))


def _arity(rows: Any) -> int | None:
    """How many values each row of a tuple `IN` list has (None: a list of plain values)."""
    return len(rows[0]) if rows and isinstance(rows[0], tuple) else None


class Prepared:
    """A Select or DML statement (with or without RETURNING) to run many times with new
    parameters."""

    def __init__(self, statement: sa.Select[Any] | sa.Update | sa.Insert | sa.Delete) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}
        if isinstance(statement, sa.Select):
            self._result_columns = list(statement.selected_columns)
        else:
            self._result_columns = list(statement.exported_columns)

    def _for(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        found = self._by_dialect.get(key)
        if found is not None:
            return found
        compiled = self.statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        bind_converters: dict[str, Converter] = {}
        for bind, name in compiled.bind_names.items():
            converter = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if converter is not None:
                bind_converters[name] = converter
        columns = tuple(str(c.key) for c in self._result_columns)
        expanding = frozenset(name for bind, name in compiled.bind_names.items() if bind.expanding)
        found = _Compiled(compiled, bind_converters, columns, expanding)
        if not compiled.literal_execute_params:
            found.layouts = {}
        self._by_dialect[key] = found
        return found

    async def _execute(
        self, conn: AsyncConnection, params: Mapping[str, Any]
    ) -> tuple[DriverResult, _Compiled]:
        plan = self._for(conn.dialect)
        layout = None
        if plan.layouts is not None and (shape := plan.shape(params)) is not None:
            layout = plan.layouts.get(shape)
            if layout is None:
                layout = plan.layout(shape)
                if len(plan.layouts) < MAX_LAYOUTS:
                    plan.layouts[shape] = layout
        if layout is None:
            sql, args = _expanded(plan, params)
        else:
            sql, args = layout.sql, layout.arguments(params)
        describe = plan.result_converters is None
        result = await driver_calls.execute(conn, sql, args, describe=describe)
        if describe:
            described = result.description or ()
            type_codes = [d[1] for d in described] or [None] * len(self._result_columns)
            plan.result_converters = tuple(
                c.type.dialect_impl(conn.dialect).result_processor(conn.dialect, code)
                for c, code in zip(self._result_columns, type_codes, strict=True)
            )
        return result, plan

    async def rows(self, conn: AsyncConnection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row, as a dict of column name → converted value."""
        result, plan = await self._execute(conn, params)
        assert plan.result_converters is not None
        pairs = tuple(zip(plan.columns, plan.result_converters, strict=True))
        return [
            {
                name: value if convert is None else convert(value)
                for (name, convert), value in zip(pairs, row, strict=True)
            }
            for row in result.rows
        ]

    async def run(self, conn: AsyncConnection, params: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows."""
        await self._execute(conn, params)

    async def scalar(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, converted; None without rows."""
        result, plan = await self._execute(conn, params)
        if not result.rows:
            return None
        assert plan.result_converters is not None
        convert = plan.result_converters[0]
        value = result.rows[0][0]
        return value if convert is None else convert(value)


def _expanded(plan: _Compiled, params: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """SQLAlchemy's own expansion, run in full: for statements whose values it writes into
    the SQL, lists it cannot index (sets), and shapes past `MAX_LAYOUTS`."""
    state = plan.compiled.construct_expanded_state(dict(params))
    converters = {**plan.bind_converters, **state.processors}
    args = tuple(
        value if (convert := converters.get(name)) is None else convert(value)
        for name, value in zip(state.positiontup or (), state.positional_parameters, strict=True)
    )
    return state.statement, args
