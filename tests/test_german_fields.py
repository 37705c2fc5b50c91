"""The form fields that read German input."""

from __future__ import annotations

from decimal import Decimal

from werkzeug.datastructures import MultiDict
from wtforms import DateField, Form

from clause_tracker.german_fields import EuroField, GermanDateField


class _Plain(Form):
    day = DateField("Day")


class _German(Form):
    day = GermanDateField("Day")
    amount = EuroField("Amount")


def test_german_date_field_leaves_plain_date_fields_their_date_picker() -> None:
    # It once set input_type on the DateInput that every DateField shares, so after the
    # first German form the audit filter's dates were plain text boxes as well.
    _German()
    assert 'type="date"' in _Plain().day()
    assert 'type="text"' in _German().day()


def test_german_input_is_read() -> None:
    form = _German(MultiDict({"day": "05.03.2026", "amount": "1.234,56"}))
    assert form.validate()
    assert form.day.data.isoformat() == "2026-03-05"
    assert form.amount.data == Decimal("1234.56")
    assert 'value="1.234,56"' in form.amount()


def test_empty_amount_is_none_and_a_bad_one_an_error() -> None:
    assert _German(MultiDict({"amount": ""})).amount.data is None
    form = _German(MultiDict({"amount": "12,345"}))
    assert not form.validate()
    assert form.amount.data is None
    assert form.amount.errors
