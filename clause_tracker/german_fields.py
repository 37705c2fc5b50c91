"""Form fields that read German input: 05.03.2026 and 1.234,56."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, widgets

_AMOUNT = re.compile(r"\A-?\d{1,3}(\.\d{3})*(,\d{1,2})?\Z|\A-?\d+(,\d{1,2})?\Z")


def parse_amount(text: str) -> Decimal:
    """'1.234,56' or '1234,56' or '1234' → Decimal('1234.56'); ValueError otherwise."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").removesuffix("€")
    if not _AMOUNT.match(cleaned):
        raise ValueError(text)
    try:
        return Decimal(cleaned.replace(".", "").replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(text) from exc


class GermanDateField(DateField):
    """A text box that takes 05.03.2026 (and ISO 2026-03-05 from date pickers)."""

    # Its own widget: setting input_type on the inherited one changed the DateField class's
    # shared DateInput, so every plain DateField (the audit filter) lost its date picker.
    widget = widgets.DateInput(input_type="text")

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.setdefault("format", ["%d.%m.%Y", "%Y-%m-%d"])
        render_kw = kwargs.setdefault("render_kw", {})
        render_kw.setdefault("placeholder", "TT.MM.JJJJ")
        render_kw.setdefault("inputmode", "numeric")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%d.%m.%Y") if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Please enter a date like 05.03.2026."))) from exc


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
        return f"{self.data:,.2f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_amount(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError(str(_l("Please enter an amount like 1.234,56."))) from exc
