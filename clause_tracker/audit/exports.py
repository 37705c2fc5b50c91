"""The audit trail as CSV or XLSX: the events the filters select, oldest first, their
messages in the reader's language, texts formula-safe (spreadsheets module)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select

from clause_tracker.audit import messages
from clause_tracker.audit.labels import PERSONAL_FIELD_LABELS, actor_label
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.queries import EventFilter, personal_parts
from clause_tracker.audit.services import record
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.i18n import day_format, format_moment
from clause_tracker.spreadsheets import csv_text, xlsx_value
from clause_tracker.transaction import transactional

FORMATS = ("csv", "xlsx")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BOM = "\ufeff"
BATCH = 1000
BERLIN = ZoneInfo("Europe/Berlin")
COLUMNS = [_l("No."), _l("When"), _l("Who"), _l("Role"), _l("Area"), _l("Record"),
           _l("Event"), _l("Personal details")]
WIDTHS = [9, 20, 18, 18, 24, 28, 70, 40]
EXPORT = "audit.export"


def filename(fmt: str) -> str:
    return f"protokoll-{utcnow().strftime('%Y-%m-%d')}.{fmt}"


def _events(filters: EventFilter) -> Iterator[list[AuditEvent]]:
    last = 0
    while True:
        batch = list(db.session.scalars(filters.apply(select(AuditEvent))
                                        .where(AuditEvent.id > last)
                                        .order_by(AuditEvent.id).limit(BATCH)))
        if not batch:
            return
        yield batch
        last = batch[-1].id


def _personal(part) -> str:
    if part is None:
        return ""
    if part.values:
        return "; ".join(f"{PERSONAL_FIELD_LABELS.get(k, k)}: {v}" for k, v in part.values.items())
    return str(_l("erased"))


def _rows(filters: EventFilter) -> Iterator[tuple[AuditEvent, list[Any]]]:
    for batch in _events(filters):
        rendered = messages.render_events(batch)
        personal = personal_parts(batch)
        for event in batch:
            shown = rendered[event.id]
            yield event, [event.id, event.occurred_at,
                          actor_label(event.actor_name, event.actor_role, event.actor_id),
                          messages.code_label("role", event.actor_role),
                          messages.action_label(event.action), shown.record, shown.text,
                          _personal(personal.get(event.id))]


def export(filters: EventFilter, fmt: str) -> tuple[bytes, int]:
    """The file and the number of events in it."""
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write(BOM)
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow([str(c) for c in COLUMNS])
        count = 0
        for _event, values in _rows(filters):
            values[1] = format_moment(values[1])
            writer.writerow([values[0], *(csv_text(str(v)) for v in values[1:])])
            count += 1
        return buffer.getvalue().encode("utf-8"), count
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_l("Audit trail"))[:31])
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=str(column))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    moment_format = day_format().replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy")
    for _event, values in _rows(filters):
        when = WriteOnlyCell(sheet, value=_local(values[1]))
        when.number_format = f"{moment_format} hh:mm:ss"
        sheet.append([values[0], when, *(xlsx_value(str(v), sheet) for v in values[2:])])
        count += 1
    sheet.auto_filter.ref = f"A1:H{count + 1}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), count


def _local(moment: datetime) -> datetime:
    """Stored in UTC (naive); a spreadsheet shows Berlin's time, without a zone."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(BERLIN).replace(tzinfo=None)


@transactional
def record_export(fmt: str, count: int, filters: dict[str, str]) -> None:
    record(EXPORT, "AuditTrail", None, f"audit trail exported as {fmt}: {count} events",
           {"format": fmt.upper(), "count": count, "filters": filters},
           changes_records=False)
