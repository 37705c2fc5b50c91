"""Wide tables at 1024 and 1280 px: the key columns stay inside the viewport (the rest
scrolls in a focusable, labelled region), chart labels are whole; active filters appear as
chips and their links remove them; the accessibility statement for everyone. axe-core on
every page."""

from __future__ import annotations

import re

import pytest

from clause_tracker.bootstrap import DEMO_UNITS
from tests.browser.helpers import path_of, sign_in
from tests.helpers import PASSWORD
from tests.overview.overview_dataset import build

pytestmark = pytest.mark.browser

WIDTHS = (1024, 1280)
HEIGHT = 800


def _inside(page, locator, what: str) -> None:
    """The element's box lies inside the viewport's width, and is not covered by scrolling:
    it is where the reader sees it without scrolling sideways."""
    width = page.viewport_size["width"]
    box = locator.bounding_box()
    assert box is not None, f"{what}: not rendered"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, \
        f"{what} at x={box['x']:.0f}…{box['x'] + box['width']:.0f}, viewport {width}"


def _region(page, table_selector: str) -> None:
    """The table scrolls inside a region that is focusable and named."""
    region = page.locator(f"div.table-wrap:has({table_selector})")
    assert region.get_attribute("role") == "region"
    assert region.get_attribute("tabindex") == "0"
    label_id = region.get_attribute("aria-labelledby")
    assert label_id and page.locator(f"#{label_id}").count() == 1


@pytest.mark.parametrize("width", WIDTHS)
def test_registry_key_columns_in_view(page, make_user, check_axe, width: int) -> None:
    build()
    auditor = make_user("auditor", username=f"auditor-registry-{width}")
    page.set_viewport_size({"width": width, "height": HEIGHT})
    sign_in(page, auditor.username, PASSWORD)
    page.goto("/agreements/")
    check_axe(page)
    _region(page, "#registry-table")
    for column in ("reference", "status", "compliance"):
        _inside(page, page.locator(f"#registry-table th[data-col={column}]"), column)
    first = page.locator("#registry-table tbody tr").first
    for index, what in enumerate(("reference", "status", "compliance")):
        _inside(page, first.locator("td").nth(index), f"first row's {what}")
    # The page itself never scrolls sideways: only the table's region does.
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_overview_unit_table_and_chart_labels(page, make_user, check_axe, width: int) -> None:
    build()
    auditor = make_user("auditor", username=f"auditor-overview-{width}")
    page.set_viewport_size({"width": width, "height": HEIGHT})
    sign_in(page, auditor.username, PASSWORD)
    page.goto("/overview/")
    check_axe(page)
    _region(page, "#table-coverage_by_unit")
    head = page.locator("#table-coverage_by_unit thead th")
    # Unit, in scope, covered, coverage by count: the key columns.
    for index in (0, 2, 3, 4):
        _inside(page, head.nth(index), f"column {index} ({head.nth(index).inner_text()})")
    table = page.locator("#table-coverage_by_unit").bounding_box()
    assert table is not None and table["width"] >= 0.7 * min(width, 1440) - 64, \
        "the unit table has the page's width"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Every unit's full name is in the chart, in letters at least 12 px high.
    chart = page.locator("svg.chart").first
    labels = chart.locator("text:has(tspan)")
    texts = [" ".join(span.text_content() or "" for span in t.locator("tspan").all())
             for t in labels.all()]
    for code, name, _kind in DEMO_UNITS:
        if code in ("ZVS", "KIJ", "JK"):
            assert any(text.replace("  ", " ") == f"{code} – {name}" for text in texts), \
                (code, name, texts)
    heights = [box["height"] for t in labels.all() for span in t.locator("tspan").all()
               if (box := span.bounding_box())]
    assert heights and min(heights) >= 12, heights


@pytest.mark.parametrize("width", WIDTHS)
def test_audit_trail_message_in_view(page, make_user, check_axe, width: int) -> None:
    build()
    auditor = make_user("auditor", username=f"auditor-trail-{width}")
    page.set_viewport_size({"width": width, "height": HEIGHT})
    sign_in(page, auditor.username, PASSWORD)
    page.goto("/audit/")
    check_axe(page)
    _region(page, "#events-table")
    _inside(page, page.locator("#events-table th[data-col=event]"), "the event's message")
    _inside(page, page.locator("#events-table tbody td.audit-message").first, "a message")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_filter_chips_appear_and_remove(page, make_user, check_axe) -> None:
    build()
    auditor = make_user("auditor", username="auditor-chips")
    sign_in(page, auditor.username, PASSWORD)
    page.goto("/agreements/?check=findings&kind=contract")
    check_axe(page)
    chips = page.locator(".active-filters li.chip")
    assert chips.count() == 2
    assert page.locator("select#kind").input_value() == "contract"
    with page.expect_navigation():
        page.locator(".chip[data-filter=check] a").click()
    assert "check=" not in page.url and "kind=contract" in page.url
    assert chips.count() == 1
    # The form keeps the filters it has no field for.
    page.goto("/agreements/?check=findings")
    page.locator("select#kind").select_option("grant")
    with page.expect_navigation():
        page.locator("form.filter-form button[type=submit]").click()
    assert "check=findings" in page.url and "kind=grant" in page.url
    with page.expect_navigation():
        page.locator(".active-filters a.clear-filters").click()
    assert path_of(page.url) == "/agreements/" and "?" not in page.url.rstrip("?")
    assert page.locator(".active-filters").count() == 0

    page.goto("/audit/")
    kind = page.locator("select#object_type option").nth(1).get_attribute("value")
    assert kind
    page.locator("select#object_type").select_option(kind)
    with page.expect_navigation():
        page.locator("form.filter-form button[type=submit]").click()
    check_axe(page)
    chip = page.locator(".chip[data-filter=object_type]")
    assert chip.count() == 1 and kind not in chip.inner_text()  # its label, not the code
    assert page.locator("select#object_type").input_value() == kind
    with page.expect_navigation():
        chip.locator("a").click()
    assert page.locator(".active-filters").count() == 0

    page.goto("/overview/?from=01.01.2025")
    check_axe(page)
    chip = page.locator(".chip[data-filter=from]")
    assert re.search(r"01[./]01[./]2025", chip.inner_text())
    with page.expect_navigation():
        chip.locator("a").click()
    assert page.locator("#from").input_value() == ""


def test_accessibility_statement_for_everyone(page, make_user, check_axe) -> None:
    page.goto("/login")
    with page.expect_navigation():
        page.locator("footer a[href='/barrierefreiheit']").click()
    assert page.locator("h1").inner_text() in ("Erklärung zur Barrierefreiheit",
                                                "Accessibility statement")
    check_axe(page)
    assert page.locator("main a[href^='mailto:']").count() == 1
    auditor = make_user("auditor", username="auditor-statement")
    sign_in(page, auditor.username, PASSWORD)
    page.goto("/barrierefreiheit")
    check_axe(page)
    assert page.locator("footer a[aria-current=page]").count() == 1
    icon = page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href")
    assert page.request.get(icon).ok
