"""Amounts: one parser (German input, strict) and one formatter (Babel) for the whole app."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict
from wtforms import Form

from clause_tracker.german_fields import EuroField, parse_amount
from clause_tracker.i18n import format_money


@pytest.mark.parametrize(("text", "amount"), [
    ("1.234,56", "1234.56"),
    ("1234,56", "1234.56"),
    ("1234", "1234"),
    ("12.000", "12000"),  # a thousands separator, not a decimal point
    ("1.234.567,89", "1234567.89"),
    ("1,5", "1.5"),
    ("-1.234,56", "-1234.56"),
    ("  1 234,56 ", "1234.56"),
    ("1.234,56 €", "1234.56"),
    ("1.234,56\u00a0€", "1234.56"),
])
def test_german_amounts_are_read(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text", [
    "1234.56",  # English decimal point: 123456 in German, so refused rather than guessed
    "1,234.56", "12,345.00",
    "1.2.3", "12.34.5", "1.23", "0.500",  # groups of three digits only
    "1.234,567", "1,500",  # more than two decimals
    "1.234,", ",5", "-", "", "€",
    "1e3", "1_000", "+5", "NaN", "Infinity", "--5", "1-2", "zwölf",
])
def test_other_input_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_money_in_the_user_language_and_in_german_files(app) -> None:
    with force_locale("de"):
        assert format_money(Decimal("1234.56")) == "1.234,56\u00a0€"
        assert format_money(Decimal("-5")) == "-5,00\u00a0€"
    with force_locale("en"):
        assert format_money(Decimal("1234.56")) == "€1,234.56"
        # Files and form fields stay German whatever the interface language.
        assert format_money(Decimal("1234.56"), locale="de", symbol=False) == "1.234,56"
        assert format_money(Decimal("1234.56"), locale="de", symbol=False,
                            grouping=False) == "1234,56"
    assert format_money(None) == ""


@pytest.mark.parametrize(("value", "shown"), [
    (Decimal("0.125"), "0,13"), (Decimal("0.135"), "0,14"), (2.675, "2,68"),
    (Decimal("-0.125"), "-0,13"), (1234567.891, "1.234.567,89"), (0, "0,00"),
])
def test_half_cents_round_up(value: Decimal | float, shown: str) -> None:
    assert format_money(value, locale="de", symbol=False) == shown


class _AmountForm(Form):
    amount = EuroField("Amount")


def test_euro_field_round_trip_in_both_languages(app) -> None:
    for language in ("de", "en"):
        with app.test_request_context(), force_locale(language):
            form = _AmountForm(data={"amount": Decimal("12345.6")})
            assert form.amount._value() == "12.345,60"
            form = _AmountForm(MultiDict({"amount": "12.345,60"}))
            assert form.validate() and form.amount.data == Decimal("12345.60")
            form = _AmountForm(MultiDict({"amount": ""}))
            assert form.validate() and form.amount.data is None


def test_euro_field_explains_bad_input_in_the_user_language(app) -> None:
    expected = {"de": "Bitte geben Sie einen Betrag wie 1.234,56 ein.",
                "en": "Please enter an amount like 1.234,56."}
    for language, message in expected.items():
        with app.test_request_context(), force_locale(language):
            form = _AmountForm(MultiDict({"amount": "1,234.56"}))
            assert not form.validate()
            assert form.amount.errors == [message]
            assert form.amount._value() == "1,234.56"  # what was typed stays for correction


def test_percentages_as_written(app) -> None:
    from clause_tracker.i18n import format_percent

    with force_locale("de"):
        assert [format_percent(Decimal(v)) for v in ("2.00", "1.50", "19", "0.25")] == [
            "2\u00a0%", "1,5\u00a0%", "19\u00a0%", "0,25\u00a0%"]
    with force_locale("en"):
        assert format_percent(Decimal("1.50")) == "1.5\u00a0%"
    assert format_percent(None) == ""


def test_percent_field_reads_german_rates_and_refuses_others(app) -> None:
    from clause_tracker.german_fields import PercentField

    class RateForm(Form):
        rate = PercentField("rate")

    assert RateForm(MultiDict({"rate": "7,5"})).rate.data == Decimal("7.5")
    for bad in ("120", "-1", "neunzehn"):
        form = RateForm(MultiDict({"rate": bad}))
        assert form.rate.data is None and form.rate.process_errors, bad
