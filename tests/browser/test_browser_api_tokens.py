"""The API token pages in a real browser: a user makes a token on the account page, an
administrator a service account and its token; the secret is shown once; the reference
page; every page passes axe-core."""

from __future__ import annotations

import pytest

from tests.browser.helpers import path_of, sign_in

pytestmark = pytest.mark.browser


def test_own_token_and_reference_page(page, account, check_axe) -> None:
    person = account("procurement_officer")
    sign_in(page, person.username, person.password)
    page.goto("/account")
    with page.expect_navigation():
        page.locator("main a[href='/account/api-tokens']").click()
    check_axe(page)
    page.fill("#name", "Auswertung")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    secret = page.locator("#secret").input_value()
    assert secret.startswith("ctk_")
    check_axe(page)
    page.goto("/account/api-tokens")
    assert secret not in page.content()
    with page.expect_navigation():
        page.locator("main table form button[type=submit]").click()
    assert page.locator(".flash-success").is_visible()
    check_axe(page)
    page.goto("/api/v1/docs")
    assert page.locator("h3#schema-Agreement").is_visible()
    check_axe(page)


def test_service_account_and_its_token(page, account, make_user, check_axe) -> None:
    make_user("procurement_officer", "ZVS")  # the unit exists
    admin = account("admin")
    sign_in(page, admin.username, admin.password)
    page.goto("/admin/users")
    with page.expect_navigation():
        page.locator("main a[href='/admin/api-tokens']").click()
    check_axe(page)
    page.fill("#account-username", "erp-sync")
    page.fill("#account-display_name", "ERP der Stadtwerke")
    page.select_option("#account-org_unit", label="Zentrale Vergabestelle")
    with page.expect_navigation():
        page.locator("form[action$='/accounts'] button[type=submit]").click()
    assert path_of(page.url) == "/admin/api-tokens"
    check_axe(page)
    page.fill("#token-name", "nächtlicher Abgleich")
    page.check("#token-write")
    with page.expect_navigation():
        page.locator("form[action$='/tokens'] button[type=submit]").click()
    assert page.locator("#secret").input_value().startswith("ctk_")
    check_axe(page)
