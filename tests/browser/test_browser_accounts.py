"""Accounts in a real browser: the account pages, setting up the second factor and signing in
with it, an administrator's account page — every page passes axe-core."""

from __future__ import annotations

import re

import pyotp
import pytest

from clause_tracker.auth.models import User
from clause_tracker.extensions import db
from tests.browser.helpers import path_of, sign_in

pytestmark = pytest.mark.browser


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.query(User).filter_by(username=username).one()


def test_second_factor_set_up_and_sign_in(page, account, check_axe) -> None:
    person = account("auditor")
    sign_in(page, person.username, person.password)
    page.locator("a.who").click()
    assert path_of(page.url) == "/account"
    check_axe(page)
    page.goto("/account/password")
    check_axe(page)
    # A wrong current password: the message sits at its field.
    page.fill("#current_password", "not the password")
    page.fill("#new_password", "a brand new password")
    page.fill("#confirm", "a brand new password")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.locator("#current_password[aria-invalid=true]").count() == 1
    assert page.locator("#current_password-error").is_visible()
    check_axe(page)

    page.goto("/account/second-factor")
    check_axe(page)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.locator("figure.qr svg").is_visible()
    check_axe(page)
    secret = _user(person.username).totp_secret
    assert secret and re.sub(r"\s", "", page.locator("code.secret").inner_text()) == secret
    page.fill("#code", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    codes = [c.inner_text() for c in page.locator("ul.recovery-codes code").all()]
    assert len(codes) == 10
    check_axe(page)

    with page.expect_navigation():
        page.locator("form.logout-form button[type=submit]").click()
    sign_in(page, person.username, person.password)
    assert path_of(page.url) == "/login/second-factor"
    check_axe(page)
    page.fill("#code", codes[0])
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert path_of(page.url) == "/"
    assert page.locator("form.logout-form").is_visible()


def test_administrator_account_page(page, account, make_user, check_axe) -> None:
    other = make_user("auditor")
    admin = account("admin")
    sign_in(page, admin.username, admin.password)
    page.goto("/admin/users")
    with page.expect_navigation():
        page.locator(f"main a[href='/admin/users/{other.id}']").click()
    check_axe(page)
    page.fill("#password", "short")
    with page.expect_navigation():
        page.locator("form[action$='/password'] button[type=submit]").click()
    assert page.locator(".flash-error").is_visible()
    check_axe(page)
    with page.expect_navigation():
        page.locator("form[action$='/deactivate'] button[type=submit]").click()
    assert not _user(other.username).active
    check_axe(page)
