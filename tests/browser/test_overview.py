"""The overview in Chromium: an auditor opens it, drills down, downloads the XLSX (parsed
here) and generates the ECCAR report (opened with python-docx, checked against the
database); an officer sees only their unit. axe-core on every page."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.browser.helpers import sign_in
from tests.helpers import PASSWORD
from tests.overview.overview_dataset import EXPECTED_TOTAL, EXPECTED_UNITS, build

pytestmark = pytest.mark.browser


def test_auditor_overview_drilldown_xlsx_and_eccar(page, make_user, check_axe) -> None:
    build()
    from clause_tracker.overview import metrics

    auditor = make_user("auditor", username="auditor-overview")
    sign_in(page, auditor.username, PASSWORD)
    page.goto("/overview/")
    check_axe(page)
    assert page.locator("svg[role=img] title").count() == 2
    covered = page.locator("#table-coverage_by_kind tbody tr").last.locator("a").nth(1)
    assert covered.inner_text() == str(EXPECTED_TOTAL[1])
    with page.expect_navigation():
        covered.click()
    assert re.search(rf"\b{EXPECTED_TOTAL[1]}\b", page.locator("main p[role=status]").inner_text())
    assert page.locator("main table tbody tr").count() == EXPECTED_TOTAL[1]
    check_axe(page)

    page.goto("/overview/")
    with page.expect_download() as info:
        page.locator("a[href*='format=xlsx']").click()
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).worksheets[0]
    rows = {str(r[0]).split(" – ")[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    for code, (scope, count, *_rest) in EXPECTED_UNITS.items():
        assert rows[code][2:4] == (scope, count)

    with page.expect_navigation():
        page.locator("a[href$='/overview/eccar']").click()
    check_axe(page)
    end = date.today()
    page.locator("#from").fill("2024-01-01")
    page.locator("#to").fill(end.isoformat())
    with page.expect_download() as info:
        page.locator("#eccar-form button[type=submit]").click()
    document = Document(io.BytesIO(Path(info.value.path()).read_bytes()))
    data = metrics.compute(None, metrics.Period(date(2024, 1, 1), end), end)
    total = next(cells for t in document.tables for r in t.rows
                 if (cells := [c.text for c in r.cells])[0] in ("Gesamt", "Total"))
    assert (int(total[1]), int(total[2])) == (data.coverage.total.in_scope,
                                              data.coverage.total.covered)


def test_officer_sees_only_their_unit(page, make_user, check_axe) -> None:
    build()
    officer = make_user("procurement_officer", "KIJ", username="kij-overview")
    sign_in(page, officer.username, PASSWORD)
    page.goto("/overview/")
    check_axe(page)
    units = page.locator("#table-coverage_by_unit tbody th").all_inner_texts()
    assert [u.split(" – ")[0] for u in units] == ["KIJ"]
    assert page.locator("a[href$='/overview/eccar']").count() == 0
    scope = page.locator("#table-coverage_by_unit tbody a").first
    assert scope.inner_text() == str(EXPECTED_UNITS["KIJ"][0])
