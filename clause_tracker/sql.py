"""SQL that differs between SQLite and PostgreSQL, written once: date arithmetic (so the
sweep computes due dates in one INSERT … SELECT instead of a Python loop over every
agreement) and INSERT … ON CONFLICT.

SQLite keeps dates as 'YYYY-MM-DD' text and shifts them with date(x, …); PostgreSQL adds
an interval. Both give the same day: a month shift that lands past the end of the target
month stops at its last day (31 January + 1 month = 28/29 February), as PostgreSQL does.
SQLite's own '+N months' would roll over to 3 March instead, so it is not used directly:
we go to the first of the month, shift by whole months (never overflows), add the day of
the month back and take the earlier of that and the target month's last day.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import Date, Integer, Table, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from clause_tracker.extensions import db


class _Shift(FunctionElement):
    type = Date()
    inherit_cache = True


class add_days(_Shift):
    name = "add_days"
    inherit_cache = True


class add_months(_Shift):
    name = "add_months"
    inherit_cache = True


class days_between(FunctionElement):
    """days_between(later, earlier): the whole days from `earlier` to `later`."""

    name = "days_between"
    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _sqlite_between(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _pg_between(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"


@compiles(add_days, "sqlite")
def _sqlite_days(element: _Shift, compiler: Any, **kw: Any) -> str:
    day, amount = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date({day}, printf('%+d days', {amount}))"


@compiles(add_months, "sqlite")
def _sqlite_months(element: _Shift, compiler: Any, **kw: Any) -> str:
    day, amount = (compiler.process(arg, **kw) for arg in element.clauses)
    first = f"date({day}, 'start of month', printf('%+d months', {amount}))"
    # min() of two ISO dates is the earlier one (text order is date order).
    same_day = f"date({first}, printf('%+d days', CAST(strftime('%d', {day}) AS INTEGER) - 1))"
    last_day = f"date({first}, '+1 months', '-1 days')"
    return f"min({same_day}, {last_day})"


@compiles(add_days, "postgresql")
def _pg_days(element: _Shift, compiler: Any, **kw: Any) -> str:
    day, amount = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({day} AS DATE) + CAST({amount} AS INTEGER))"


@compiles(add_months, "postgresql")
def _pg_months(element: _Shift, compiler: Any, **kw: Any) -> str:
    day, amount = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(CAST({day} AS DATE) + make_interval(months => CAST({amount} AS INTEGER)) AS DATE)"


def counted_insert(model: Any) -> Any:
    """INSERT on the Core table, not the ORM entity, so the database's row count comes
    back (the ORM's bulk path does not report it). Unlike dialect_insert's, its SQL is
    compiled once and then taken from SQLAlchemy's cache (an INSERT … SELECT of the sweep
    took some 10 ms to compile, every time)."""
    return insert(model.__table__).execution_options(preserve_rowcount=True)


def dialect_insert(model):
    """INSERT with ON CONFLICT for this database, otherwise as counted_insert. SQLAlchemy
    never caches the SQL of the dialects' INSERT: use it only for ON CONFLICT."""
    name = db.session.get_bind().dialect.name
    stmt = (postgresql.insert if name == "postgresql" else sqlite.insert)(model.__table__)
    # SQLAlchemy reports an INSERT's row count only when asked to keep it.
    return stmt.execution_options(preserve_rowcount=True)


def insert_rows(table: Table, columns: list[str], rows: list[tuple]) -> None:
    """Plain INSERT of many rows in this transaction. PostgreSQL: COPY, which streams the
    rows without a statement per row (25,000 audit events: about a third of the time of
    executemany); elsewhere an executemany in chunks."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        names = ", ".join(f'"{name}"' for name in columns)
        try:
            with connection.connection.cursor() as cursor, cursor.copy(  # type: ignore[attr-defined]  # psycopg's cursor is one
                    f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.IntegrityError as exc:  # as SQLAlchemy reports it for its statements
            raise IntegrityError(f"COPY {table.name}", None, exc) from exc
        return
    for i in range(0, len(rows), 5000):
        connection.execute(table.insert(),
                           [dict(zip(columns, row, strict=True)) for row in rows[i:i + 5000]])


def insert_with_ids(table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT the rows (dicts with the same keys) and return their new ids in order.

    PostgreSQL: the ids drawn from the table's sequence in one query, then COPY. An INSERT
    … VALUES of 1,000 rows with RETURNING cost psycopg more time to parse than the server
    to run (100,000 imported rows: most of the import's time). Elsewhere (SQLite): an
    executemany with RETURNING in chunks."""
    if not rows:
        return []
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        ids = list(connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                 "FROM generate_series(1, :count)"),
            {"table": table.name, "count": len(rows)}).scalars())
        # COPY knows nothing of the columns' defaults in the models: they are added here.
        defaults = {column.key: column.default.arg for column in table.c  # type: ignore[attr-defined]  # a ScalarElementColumnDefault
                    if column.default is not None and column.default.is_scalar
                    and column.key not in rows[0]}
        columns = ["id", *rows[0], *defaults]
        insert_rows(table, columns, [(ident, *row.values(), *defaults.values())
                                     for ident, row in zip(ids, rows, strict=True)])
        return ids
    ids = []
    for start in range(0, len(rows), 1000):
        ids += connection.execute(insert(table).returning(
            table.c.id, sort_by_parameter_order=True), rows[start:start + 1000]).scalars().all()
    return ids


def move_sequences_past_rows(tables: list[Table]) -> None:
    """PostgreSQL: after rows were inserted with explicit ids (bulk loads), move each
    table's id sequence past its largest id, so the next row inserted the ordinary way
    does not collide with them. Nothing to do on SQLite (it takes max(id) + 1)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
            f"GREATEST((SELECT max(id) FROM {table.name}), 1), "
            f"(SELECT max(id) FROM {table.name}) IS NOT NULL)"))
