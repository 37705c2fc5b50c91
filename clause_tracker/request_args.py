"""Values from the query string and forms, read so that no typed or crafted value reaches
the database as something it cannot hold.

- A NUL character is in no text anyone types; PostgreSQL refuses it in text, so a request
  carrying one (path, query or form field; uploaded files are not looked at) is answered
  400 before any view runs.
- Whole numbers (ids, counts) beyond the database's integer columns (INTEGER: 32 bits on
  PostgreSQL, where a larger value is an error, not a miss), and page numbers beyond any
  list, count as not given: the list shows unfiltered or its last page; such an id in a
  path matches no route.
- Days outside 1900–2199 count as not given: date arithmetic at 9999-12-31 overflows,
  and no contract of the city lies there.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter
from wtforms import Field, Form, ValidationError

# The id and counter columns are INTEGER: PostgreSQL's 32-bit range (SQLite's is wider).
INT_LIMIT = 2**31 - 1
MAX_PAGE = 1_000_000
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


class DatabaseInt(IntegerConverter):
    """`<int:…>` in a route path: only values a database integer holds; a larger id matches
    no route (404) instead of overflowing the driver (SQLite) or the column (PostgreSQL)."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", INT_LIMIT)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


class OddInput(BadRequest):
    """400 with a message for the user (errors.py shows it)."""

    def __init__(self, message: object) -> None:
        super().__init__()
        self.user_message = str(message)


def db_int(text: str) -> int:
    """For `request.args.get(name, type=db_int)`: ValueError (so: not given) outside the
    range of a database integer."""
    value = int(text)
    if not -INT_LIMIT <= value <= INT_LIMIT:
        raise ValueError(text)
    return value


def page_number(text: str) -> int:
    """For `request.args.get("page", 1, type=page_number)`: 1 … MAX_PAGE (the lists clamp
    a number past their end to their last page)."""
    return min(max(1, db_int(text)), MAX_PAGE)


def in_range(day: date | None) -> date | None:
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def day_in_range(form: Form, field: Field) -> None:
    """WTForms validator for a date field."""
    if field.data is not None and in_range(field.data) is None:
        raise ValidationError(_l("Please enter a day between 1900 and 2199."))


def parse_day(value: str | None) -> date | None:
    """ISO (from a date input) or German (TT.MM.JJJJ); None if neither or out of range."""
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return in_range(datetime.strptime((value or "").strip(), fmt).date())
        except ValueError:
            continue
    return None


def refuse_nul() -> None:
    values = [request.path, *(value for _, value in request.args.items(multi=True))]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += [value for _, value in request.form.items(multi=True)]
    if any("\x00" in value for value in values):
        raise OddInput(_l("The request contains a NUL character, which no text may contain. "
                          "Please check what was pasted into the form."))


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)
