"""Form fields that read German input: 05.03.2026 and 1.234,56."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, widgets

from clause_tracker.i18n import format_money, input_day
from clause_tracker.request_args import FIRST_DAY, LAST_DAY

AMOUNT_LOCALE = "de"
DAY_PLACEHOLDER = _l("DD/MM/YYYY")  # German: TT.MM.JJJJ
MAX_AMOUNT = Decimal("999999999999.99")  # the columns' NUMERIC(14, 2)
# Above this an amount is possible but unusual: forms ask to confirm it, imports warn
# (config PLAUSIBLE_MAX_AMOUNT).
PLAUSIBLE_MAX_AMOUNT = Decimal("100000000")


class AmountTooLarge(ValueError):
    pass


# Groups of three after a point (the first not led by a zero: "0.500" is no amount), or
# no points at all; at most two decimals after the comma.
_AMOUNT = re.compile(r"-?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d{1,2})?")
_TOO_PRECISE = re.compile(r"-?[\d.]*,\d{3,}")  # more than two decimals


def parse_amount(text: str) -> Decimal:
    """'1.234,56', '1234,56', '1234' or '-5' (spaces and a trailing € allowed) → a Decimal.

    Always German, whatever the interface language; ValueError otherwise, among others
    for the English '1,234.56' and '1234.56', for misplaced groups ('1.2.3', '1.23') and
    for more than two decimals. A pattern, not Babel's strict parser: an import reads
    100,000 amounts, and the parser took a fifth of the time of checking a row.
    """
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").removesuffix("€")
    if not _AMOUNT.fullmatch(cleaned):
        raise ValueError(text)
    amount = Decimal(cleaned.replace(".", "").replace(",", "."))
    if abs(amount) > MAX_AMOUNT:
        raise AmountTooLarge(text)
    return amount


class GermanDateField(DateField):
    """A text box that takes 05.03.2026 (and ISO 2026-03-05 from date pickers)."""

    # Its own widget: setting input_type on the inherited one changed the DateField class's
    # shared DateInput, so every plain DateField (the audit filter) lost its date picker.
    widget = widgets.DateInput(input_type="text")

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.setdefault("format", ["%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d"])
        render_kw = kwargs.setdefault("render_kw", {})
        render_kw.setdefault("placeholder", DAY_PLACEHOLDER)
        render_kw.setdefault("inputmode", "numeric")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return input_day(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Please enter a date like 05/03/2026."))) from exc
        # 31.12.9999 is a date, but a day later is none: date arithmetic would overflow.
        if self.data is not None and not FIRST_DAY <= self.data <= LAST_DAY:
            self.data = None
            raise ValueError(str(_l("Please enter a day between 1900 and 2199.")))


class EuroField(Field):
    """An amount in euros written the German way: 1.234,56.

    A text box like StringField's, but its data is the amount, not the text.
    """

    widget = widgets.TextInput()
    data: Decimal | None

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        render_kw = kwargs.setdefault("render_kw", {})
        render_kw.setdefault("inputmode", "decimal")
        render_kw.setdefault("placeholder", "1.234,56")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format_money(self.data, locale=AMOUNT_LOCALE, symbol=False)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_amount(valuelist[0])
        except AmountTooLarge as exc:
            self.data = None
            raise ValueError(str(_l("The amount may be at most 999.999.999.999,99 €."))) from exc
        except ValueError as exc:
            self.data = None
            if _TOO_PRECISE.fullmatch(valuelist[0].strip().replace(" ", "").removesuffix("€")):
                raise ValueError(str(_l("At most two decimal places (cents): please enter an "
                                        "amount like 1.234,56."))) from exc
            raise ValueError(str(_l("Please enter an amount like 1.234,56."))) from exc


class PercentField(EuroField):
    """A rate in percent written the German way: 19 or 7,5."""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.setdefault("render_kw", {}).setdefault("placeholder", "19")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format_decimal(self.data, "#,##0.##", locale=AMOUNT_LOCALE)

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Please enter a rate like 19 or 7,5."))) from exc
        if self.data is not None and not Decimal(0) <= self.data <= Decimal(100):
            self.data = None
            raise ValueError(str(_l("Please enter a rate like 19 or 7,5.")))
