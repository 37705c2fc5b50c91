"""The eForms pages in Chromium: an administrator maps a buyer, an officer checks and imports
an award notice; every page passes axe-core."""

from __future__ import annotations

import pytest

from tests.browser.helpers import sign_in
from tests.helpers import PASSWORD
from tests.interop.test_eforms import EXAMPLES

pytestmark = pytest.mark.browser


def _ok(page, check_axe, response=None) -> None:
    if response is not None:
        assert response.ok, f"{page.url}: HTTP {response.status}"
    assert page.locator("main#content").count() == 1
    check_axe(page)


def _submit(page) -> None:
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").last.click()


def test_buyer_mapped_then_notice_checked_and_imported(new_page, make_user, check_axe) -> None:
    admin = make_user("admin", None, username="admin-interop")
    officer = make_user("procurement_officer", "ZVS", username="officer-interop")
    page = new_page()
    sign_in(page, admin.username, PASSWORD)
    _ok(page, check_axe, page.goto("/interop/buyers"))
    form = page.locator("main form.form-grid")
    form.locator("[name=name]").fill("Rouen Habitat")
    form.locator("[name=org_unit_id]").select_option(label="ZVS – Zentrale Vergabestelle")
    _submit(page)
    assert page.locator("main table td", has_text="Rouen Habitat").is_visible()
    _ok(page, check_axe)

    page = new_page()
    sign_in(page, officer.username, PASSWORD)
    _ok(page, check_axe, page.goto("/agreements/"))
    with page.expect_navigation():
        page.locator("main a[href='/interop/eforms']").first.click()
    _ok(page, check_axe)
    page.locator("main [name=file]").set_input_files(str(EXAMPLES / "can_24_minimal.xml"))
    page.locator("main [name=dry_run]").check()
    _submit(page)
    assert page.locator("#import-report").is_visible()
    assert page.locator("main td", has_text="Espaces Verts Lemire").is_visible()
    _ok(page, check_axe)
    page.locator("main [name=file]").set_input_files(str(EXAMPLES / "can_24_minimal.xml"))
    _submit(page)
    assert page.locator("#import-report .status-ok").is_visible()
    _ok(page, check_axe)
    page.locator("main [name=file]").set_input_files(str(EXAMPLES / "pin-only_24.xml"))
    _submit(page)
    assert page.locator("main", has_text="pin-only").is_visible()
    _ok(page, check_axe)
