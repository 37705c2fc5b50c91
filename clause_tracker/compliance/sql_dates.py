"""Date arithmetic in SQL for both databases, so the sweep can compute due dates in one
INSERT … SELECT instead of a Python loop over every agreement.

SQLite keeps dates as 'YYYY-MM-DD' text and shifts them with date(x, '+N months');
PostgreSQL adds an interval. (At the end of a month the two differ by a day or two:
SQLite rolls 31 January + 1 month over to 3 March, PostgreSQL stops at 28/29 February.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class _Shift(FunctionElement):
    type = Date()
    inherit_cache = True
    unit = "days"


class add_days(_Shift):
    name = "add_days"
    inherit_cache = True
    unit = "days"


class add_months(_Shift):
    name = "add_months"
    inherit_cache = True
    unit = "months"


@compiles(add_days, "sqlite")
@compiles(add_months, "sqlite")
def _sqlite(element: _Shift, compiler: Any, **kw: Any) -> str:
    day, amount = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date({day}, printf('%+d {element.unit}', {amount}))"


@compiles(add_days, "postgresql")
def _pg_days(element: _Shift, compiler: Any, **kw: Any) -> str:
    day, amount = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({day} AS DATE) + CAST({amount} AS INTEGER))"


@compiles(add_months, "postgresql")
def _pg_months(element: _Shift, compiler: Any, **kw: Any) -> str:
    day, amount = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(CAST({day} AS DATE) + make_interval(months => CAST({amount} AS INTEGER)) AS DATE)"
