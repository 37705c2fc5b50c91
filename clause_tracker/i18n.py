"""German first, English second: locale choice, compiled catalogs, German dates and money."""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

from babel import numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale, gettext
from flask_login import current_user

from clause_tracker.extensions import babel

CATALOG_SOURCE = Path(__file__).resolve().parent / "translations"
LANGUAGE_COOKIE = "lang"


def compile_catalogs(source: Path, target: Path) -> list[Path]:
    """Compile every messages.po below `source` into `target`, when the .mo is missing or older.

    Catalogs are committed as .po text only; the binary .mo files are built here, on
    install (`clause-tracker init`) or at start-up, into the instance folder.
    """
    written = []
    for po_path in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        # A file of this process's own, then an atomic rename: concurrent workers never
        # read a half-written file, nor write into each other's.
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)
        written.append(mo_path)
    return written


def select_locale() -> str:
    if not has_request_context():  # command line: its own setting (English by default)
        return current_app.config.get("CLI_LOCALE", "en")
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen is not None and chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    compiled = Path(app.instance_path) / "translations"
    compile_catalogs(CATALOG_SOURCE, compiled)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(compiled),
    )
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.filters.update(date=format_day, datetime=format_moment, money=format_money,
                                  number=format_decimal, percent=format_percent)
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale()),
                                 input_day=input_day)


def input_day(value: date | None) -> str:
    """A day as a date field of the current language shows it."""
    return value.strftime(day_format()) if value else ""


# One way to write a day per language, for display and input alike: what a page shows
# is what its date fields take (GermanDateField, request_args.parse_day).
DAY_PATTERNS = {"de": "dd.MM.yyyy", "en": "dd/MM/yyyy"}
DAY_FORMATS = {"de": "%d.%m.%Y", "en": "%d/%m/%Y"}


def _language() -> str:
    return str(get_locale() or "de").split("_")[0]


def day_format() -> str:
    """strftime form of the current language's day: 05.03.2026 or 05/03/2026."""
    return DAY_FORMATS.get(_language(), DAY_FORMATS["de"])


def format_day(value: date | datetime | None) -> str:
    """05.03.2026 in German, 05/03/2026 in English (as the date fields take it); empty for
    no date."""
    return format_date(value, DAY_PATTERNS.get(_language(), DAY_PATTERNS["de"])) if value else ""


def format_quarter(key: str) -> str:
    """A quarter's key ("2025-Q3") as read: "3. Quartal 2025", "Q3 2025"."""
    year, _, number = key.partition("-Q")
    if not (year.isdigit() and number.isdigit()):
        return key
    return gettext("Q%(number)s %(year)s", number=number, year=year)


def format_moment(value: datetime | None) -> str:
    if not value:
        return ""
    if _language() == "de":
        return format_datetime(value, "medium")
    return format_datetime(value, f"{DAY_PATTERNS['en']}, HH:mm:ss")


def format_percent(value: Decimal | float | int | None, *, locale: str | None = None) -> str:
    """A percentage as written: "2 %", "1,5 %" in German ("1.5 %" in English), no needless
    zeros; empty for none."""
    if value is None:
        return ""
    number = numbers.format_decimal(value, "#,##0.##", locale=locale or get_locale())
    return f"{number}\u00a0%"


def format_money(value: Decimal | float | int | None, *, locale: str | None = None,
                 symbol: bool = True, grouping: bool = True,
                 currency: str | None = None) -> str:
    """Euros and cents: 1.234,56 € in German, €1,234.56 in English; empty for no amount.

    `locale` is the user's unless given: contracts, form fields and exports are German
    whatever the interface language. Without `symbol` for input fields labelled "in EUR",
    without `grouping` for CSV files (a decimal comma and no thousands separator). Half
    cents round up, as commercial rounding does, not to even as Babel's default does.
    `currency`: another ISO 4217 code than EUR (an award imported from an eForms notice).
    """
    if value is None:
        return ""
    where = locale or get_locale()
    with localcontext(rounding=ROUND_HALF_UP):
        if symbol:
            return numbers.format_currency(value, currency or "EUR", locale=where,
                                           group_separator=grouping)
        return numbers.format_decimal(value, "#,##0.00", locale=where, group_separator=grouping)
