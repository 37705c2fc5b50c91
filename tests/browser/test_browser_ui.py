"""The app in a real browser: each role signs in through the login form, sees its navigation,
switches the language, works with the keyboard alone, and every page passes axe-core."""

from __future__ import annotations

import pytest

from tests.browser.helpers import path_of, sign_in
from tests.helpers import REPO

pytestmark = pytest.mark.browser

GERMAN_CATALOG = REPO / "clause_tracker" / "translations" / "de" / "LC_MESSAGES" / "messages.po"

# What the main navigation shows per role (documents links come with the documents feature
# and are checked only when present). Paths, not labels: labels depend on the language.
NAV = {
    "procurement_officer": {"/", "/clauses/"},
    "grant_manager": {"/", "/clauses/"},
    "auditor": {"/", "/clauses/", "/audit/"},
    "admin": {"/", "/clauses/", "/audit/", "/admin/users"},
}
CORE_PATHS = {"/", "/clauses/", "/audit/", "/admin/users"}


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def selected_language(page) -> str:
    return page.locator("#language-select").input_value()


def sign_out(page) -> None:
    with page.expect_navigation():
        page.locator("form.logout-form button[type=submit]").click()


def switch_language(page, language: str) -> None:
    page.locator("#language-select").select_option(language)
    with page.expect_navigation():
        page.locator("form.language-form button[type=submit]").click()


def nav_paths(page) -> set[str]:
    return {path_of(a.get_attribute("href")) for a in page.locator("nav.main-nav a").all()}


def visit(page, path: str, check_axe, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
    assert html_lang(page) in {"de", "en"}
    assert page.locator("main#content").count() == 1, f"{path}: no <main id=content>"
    check_axe(page)


def test_axe_check_catches_a_violation(page, check_axe) -> None:
    """The checker itself: an image without alt text and an unlabelled field must fail."""
    page.goto("/login")
    page.evaluate("""() => {
        const img = document.createElement('img');
        img.src = '/static/none.png';
        document.querySelector('main').append(img);
        const input = document.createElement('input');
        document.querySelector('main').append(input);
    }""")
    with pytest.raises(AssertionError) as failure:
        check_axe(page)
    assert "image-alt" in str(failure.value) and "label" in str(failure.value)
    assert "target" in str(failure.value)


@pytest.mark.parametrize("role", list(NAV))
def test_each_role_signs_in_sees_its_navigation_and_every_page_passes_axe(
    page, account, check_axe, role: str
) -> None:
    user = account(role)

    response = page.goto("/")  # not signed in: to the login form
    assert response is not None and response.ok
    assert path_of(page.url) == "/login"
    assert page.locator("nav.main-nav").count() == 0
    check_axe(page)

    sign_in(page, user.username, user.password)
    assert path_of(page.url) == "/", "a successful sign-in returns to the page asked for"
    assert page.locator("form.logout-form").is_visible()
    check_axe(page)

    shown = nav_paths(page)
    assert shown & CORE_PATHS == NAV[role], f"{role} sees {sorted(shown)}"
    for path in sorted(shown - {"/"}):  # every page the navigation offers, documents included
        visit(page, path, check_axe)
        current = page.locator("nav.main-nav a[aria-current=page]")
        assert current.count() == 1, f"{path}: the navigation marks no current page"
        if path == "/documents/":  # the documents desk's own pages (forms), when it has them
            links = page.locator("main a[href^='/documents/']").all()
            for target in sorted({path_of(a.get_attribute("href")) for a in links}):
                if "download" not in target:
                    visit(page, target, check_axe)

    # The clause library: a published version and the diff of its history.
    visit(page, "/clauses/", check_axe)
    first = page.locator("main a[href^='/clauses/'][href$='/1.0']").first
    href = first.get_attribute("href")
    visit(page, href, check_axe)
    assert page.locator("h1").count() == 1
    variant, language = href.split("/")[2:4]
    visit(page, f"/clauses/{variant}/{language}/diff", check_axe)
    assert page.locator("table.diff").is_visible()

    # What the role may not see answers 403, on an accessible error page.
    for path in ("/audit/", "/audit/verify", "/admin/users"):
        allowed = (path == "/audit/verify" and "/audit/" in NAV[role]) or path in NAV[role]
        visit(page, path, check_axe, status=200 if allowed else 403)
    if "/audit/" in NAV[role]:
        page.goto("/audit/verify")
        assert page.locator("main .status-ok").is_visible(), "the fresh audit chain is intact"

    visit(page, "/no-such-page", check_axe, status=404)

    sign_out(page)
    assert path_of(page.url) == "/login"
    assert page.locator("form.logout-form").count() == 0
    check_axe(page)
    page.goto("/clauses/")
    assert path_of(page.url) == "/login", "signed out: protected pages ask for a sign-in"


def test_wrong_password_shows_an_error_and_stays_on_the_login_page(
    page, account, check_axe
) -> None:
    user = account("grant_manager")
    page.goto("/login")
    sign_in(page, user.username, "not the password")
    assert path_of(page.url) == "/login"
    error = page.locator("main [role=alert]")
    assert error.count() == 1 and error.is_visible()
    assert error.inner_text().strip()
    assert page.locator("form.logout-form").count() == 0
    check_axe(page)

    sign_in(page, user.username, user.password)  # the right one still works afterwards
    assert path_of(page.url) == "/"


def german_translation(msgid: str) -> str | None:
    """The German catalog's text for msgid, when the catalog exists and translates it."""
    if not GERMAN_CATALOG.is_file():
        return None
    from babel.messages.pofile import read_po

    with GERMAN_CATALOG.open("rb") as handle:
        message = read_po(handle, locale="de").get(msgid)
    return message.string if message is not None and message.string else None


def test_language_switch_to_english_persists_and_back(new_page, account, check_axe) -> None:
    user = account("procurement_officer")
    page = new_page()
    page.goto("/login")
    assert html_lang(page) == "de", "German is the default"
    assert selected_language(page) == "de"
    sign_in(page, user.username, user.password)
    assert html_lang(page) == "de"
    german_sign_out = german_translation("Sign out")
    if german_sign_out:
        assert page.locator("form.logout-form button").inner_text().strip() == german_sign_out

    switch_language(page, "en")
    assert path_of(page.url) == "/", "the switch returns to the page it was made on"
    assert html_lang(page) == "en"
    assert selected_language(page) == "en"
    assert page.locator("form.logout-form button").inner_text().strip() == "Sign out"
    check_axe(page)

    page.goto("/clauses/")  # remembered across page loads
    assert html_lang(page) == "en" and selected_language(page) == "en"
    check_axe(page)

    sign_out(page)  # remembered by the browser (cookie) …
    assert html_lang(page) == "en"
    sign_in(page, user.username, user.password)
    assert html_lang(page) == "en"
    sign_out(page)

    # … and on the account: a new browser without the cookie gets English after signing in.
    other = new_page()
    other.goto("/login")
    assert html_lang(other) == "de"
    sign_in(other, user.username, user.password)
    assert html_lang(other) == "en" and selected_language(other) == "en"

    switch_language(other, "de")  # and back
    assert html_lang(other) == "de" and selected_language(other) == "de"
    other.goto("/clauses/")
    assert html_lang(other) == "de"
    check_axe(other)
    if german_sign_out:
        assert other.locator("form.logout-form button").inner_text().strip() == german_sign_out


def focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const box = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'),
                    cls: el.className, href: el.getAttribute('href'),
                    inMain: !!el.closest('main'), left: box.left, top: box.top,
                    width: box.width, height: box.height,
                    outline: style.outlineStyle, outlineWidth: style.outlineWidth};
        }"""
    )


def test_keyboard_only_skip_link_sign_in_and_sign_out(page, account, check_axe) -> None:
    user = account("auditor")
    page.goto("/login")

    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["tag"] == "a" and "skip-link" in skip["cls"], f"first Tab stop: {skip}"
    assert skip["href"] == "#content"
    assert skip["left"] >= 0 and skip["top"] >= 0 and skip["width"] > 0, "skip link off screen"
    assert skip["outline"] != "none", "no visible focus on the skip link"

    page.keyboard.press("Enter")
    assert focused(page)["id"] == "content", "following the skip link focuses <main>"

    # From main, the keyboard reaches the form: username, password, Enter signs in.
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "username"
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "password"
    page.keyboard.type(user.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page.url) == "/"

    # (The redirect after sign-in keeps the #content fragment, so load the page afresh.)
    page.goto("/")
    page.keyboard.press("Tab")
    first = focused(page)
    assert "skip-link" in first["cls"], f"the skip link comes first on every page: {first}"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "content"
    page.keyboard.press("Tab")
    target = focused(page)
    assert target["inMain"], f"after the skip link, Tab stays in main: {target}"
    assert target["outline"] != "none", "no visible focus indicator in main"

    # Tab through the header: every stop is visible; the sign-out button is reachable.
    page.goto("/")
    stops = []
    for _ in range(40):
        page.keyboard.press("Tab")
        stop = focused(page)
        stops.append(stop)
        if "logout-form" in page.evaluate("document.activeElement.form?.className ?? ''"):
            break
    else:
        pytest.fail(f"the sign-out button is not reachable with Tab: {stops}")
    assert all(s["width"] > 0 and s["height"] > 0 for s in stops), stops
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page.url) == "/login"
    assert page.locator("form.logout-form").count() == 0
    check_axe(page)
