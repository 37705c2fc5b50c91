"""The overview page, its drill-downs, the exports and the ECCAR report over HTTP."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.overview.overview_dataset import EXPECTED_TOTAL, EXPECTED_UNITS

DRILL = re.compile(r'<a href="(/agreements/\?[^"]*)" data-drill="([a-z_]+)">([^<]+)</a>')
RECORDS = re.compile(r'<p role="status">(\d+) (?:Vorgang|Vorgänge|record|records)</p>')


def _number(text: str) -> int:
    return int(text.replace(".", "").replace(",", ""))


def _drills(html: str) -> list[tuple[str, str, str]]:
    return [(unescape(url), table, unescape(shown)) for url, table, shown in DRILL.findall(html)]


def test_auditor_sees_all_units_and_every_count_drills_down(client, signed_in, dataset) -> None:
    signed_in("auditor")
    page = client.get("/overview/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for code in ("ZVS", "KIJ", "JK"):
        assert f"{code} – " in html
    assert 'role="img"' in html and "<title id=\"chart-units-title\">" in html
    checked = 0
    for url, table, shown in _drills(html):
        if "€" in shown or table == "exclusions":
            continue  # a value links to the same list as its count; a reference to its record
        listing = client.get(url).get_data(as_text=True)
        found = RECORDS.search(listing)
        assert found, url
        assert int(found.group(1)) == _number(shown), (url, shown)
        checked += 1
    assert checked >= 40


def test_officer_sees_only_their_unit(client, signed_in, dataset) -> None:
    signed_in("procurement_officer", "ZVS")
    html = client.get("/overview/").get_data(as_text=True)
    assert "ZVS – " in html and "KIJ – " not in html and "JK – " not in html
    assert client.get("/overview/eccar").status_code == 403
    # The drill-down keeps to their unit even when asked for another one.
    kij = re.search(r'/agreements/\?[^"]*unit=(\d+)', html)
    assert kij
    listing = client.get("/agreements/?scope=in_scope").get_data(as_text=True)
    assert RECORDS.search(listing).group(1) == str(EXPECTED_UNITS["ZVS"][0])


def _page_counts(client, table_key: str) -> list[int]:
    html = client.get("/overview/").get_data(as_text=True)
    return [_number(shown) for _url, table, shown in _drills(html)
            if table == table_key and "€" not in shown]


TOTAL = ("Gesamt", "Total")


def test_xlsx_and_csv_have_the_pages_numbers(client, signed_in, dataset) -> None:
    signed_in("auditor")
    on_page = _page_counts(client, "coverage_by_unit")
    response = client.get("/overview/?format=xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    # the count columns: in scope, covered, pending, not compliant, exempt
    in_sheet = [row[i] for row in rows for i in (2, 3, 8, 9, 10)]
    assert in_sheet == on_page
    by_code = {str(r[0]).split(" – ")[0]: r for r in rows}
    for code, (scope, covered, value, *_rest) in EXPECTED_UNITS.items():
        assert by_code[code][2:4] == (scope, covered)
        assert by_code[code][5] == float(value)

    text = client.get("/overview/?format=csv").get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header = lines.index(next(line for line in lines if line and line[0] == sheet.cell(1, 1).value))
    csv_rows = lines[header + 2: header + 2 + len(rows)]
    assert [int(row[i]) for row in csv_rows for i in (2, 3, 8, 9, 10)] == on_page
    total = next(line for line in lines if line and line[0] in TOTAL)
    assert (int(total[1]), int(total[2])) == EXPECTED_TOTAL[:2]
    assert total[3] == "33,3" and total[4] == "26700,00"


def test_agreement_list_exports_follow_the_filters(client, signed_in, dataset) -> None:
    signed_in("auditor")
    text = client.get("/overview/agreements.csv?scope=in_scope&compliance=compliant") \
        .get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Kennzeichen"  # German headers
    assert len(rows) - 1 == EXPECTED_TOTAL[1]
    values = [row[4] for row in rows[1:] if row[4]]  # a decimal comma, no thousands separator
    assert values and all(re.fullmatch(r"\d+,\d\d", value) for value in values)
    book = load_workbook(io.BytesIO(client.get("/overview/agreements.xlsx?unit_kind=eigenbetrieb")
                                    .data))
    assert book.active.max_row - 1 == 8  # a5, a6, a7, a8, a9, a11, a12, a13


def test_eccar_report_matches_the_database(client, signed_in, dataset) -> None:
    signed_in("auditor")
    assert client.get("/overview/eccar").status_code == 200
    assert client.get("/overview/eccar?from=2025-06-01&to=2025-01-01").status_code == 400
    # Ending today, the report's compliance states are today's, as on the overview.
    end = date.today()
    response = client.get(f"/overview/eccar?from=2024-01-01&to={end.isoformat()}")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "01.01.2024" in text and end.strftime("%d.%m.%Y") in text
    total = _row(document, *TOTAL)
    assert (int(total[1]), int(total[2])) == EXPECTED_TOTAL[:2]
    # The charts are pictures now, each with its alternative text.
    assert len(document.inline_shapes) >= 3
    assert all(shape._inline.docPr.get("descr") for shape in document.inline_shapes)


def _row(document, *first: str) -> list[str]:
    for table in document.tables:
        for row in table.rows:
            cells = [c.text for c in row.cells]
            if cells[0] in first:
                return cells
    raise AssertionError(f"no row {first!r}")


def test_report_command_docx_and_json(runner, dataset, tmp_path) -> None:
    out = tmp_path / "eccar.docx"
    end = date.today().isoformat()
    result = runner.invoke(args=["report", "eccar", "--from", "2024-01-01", "--to", end,
                                 "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["coverage"]["total"]["in_scope"] == EXPECTED_TOTAL[0]
    assert figures["self_commitments"]["with_self_commitment"] == 1
    again = runner.invoke(args=["report", "eccar", "--from", "2024-01-01", "--to", end,
                                "--json"])
    assert json.loads(again.stdout) == figures  # same inputs, same numbers
    total = _row(Document(str(out)), *TOTAL)
    assert int(total[1]) == EXPECTED_TOTAL[0]


@pytest.mark.parametrize("role", ["grant_manager", "admin"])
def test_other_roles(client, signed_in, dataset, role) -> None:
    signed_in(role)
    assert client.get("/overview/").status_code == 200
    assert client.get("/overview/?format=pdf").status_code == 404


def test_eccar_as_of_the_period_end(dataset) -> None:
    """A period that has ended is judged as of its last day: re-running it later gives the
    same numbers (here a9's check, overdue only since yesterday, was not overdue then)."""
    from clause_tracker.overview import eccar
    from clause_tracker.overview.metrics import Period

    end = date.today() - timedelta(days=2)
    data = eccar.figures(Period(date(2024, 1, 1), end), date.today())
    assert data.day == end
    assert data.follow_up.agreements["check_overdue"] == 0
    later = eccar.figures(Period(date(2024, 1, 1), end), date.today() + timedelta(days=30))
    assert eccar.raw(later) == eccar.raw(data)


def test_list_offers_its_own_export_with_its_filters(client, signed_in, dataset) -> None:
    signed_in("auditor")
    html = client.get("/agreements/?scope=in_scope&kind=grant").get_data(as_text=True)
    link = unescape(re.search(r'href="(/overview/agreements\.csv\?[^"]+)"', html).group(1))
    rows = list(csv.reader(io.StringIO(client.get(link).get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert len(rows) - 1 == int(RECORDS.search(html).group(1)) == 2


def test_figures_follow_records_and_language(client, signed_in, dataset) -> None:
    """The figures are stored per (scope, period, day, newest audit event): a changed record
    is shown at once, and the stored figures are rendered in the user's language (another
    unit: the officer test)."""
    from clause_tracker.audit.services import record
    from clause_tracker.extensions import db

    auditor = signed_in("auditor")
    first = client.get("/overview/").get_data(as_text=True)
    assert "<h2>Abdeckung</h2>" in first

    agreement = dataset[next(iter(dataset))]
    agreement.exemption_approved_at = agreement.exemption_approved_at or agreement.created_at
    agreement.exemption_reason = "Test: neu befreit"
    record("agreement.exemption_approved", "agreement", agreement.id, "test")
    db.session.commit()
    changed = client.get("/overview/").get_data(as_text=True)
    assert "Test: neu befreit" in changed and "Test: neu befreit" not in first

    auditor.locale = "en"
    db.session.commit()
    english = client.get("/overview/").get_data(as_text=True)
    assert "<h2>Coverage</h2>" in english and "<h2>Abdeckung</h2>" not in english
