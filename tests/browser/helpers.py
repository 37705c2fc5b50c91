"""What the browser tests do on a page: sign in through the form, read a URL's path."""

from __future__ import annotations

import re


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("?")[0].split("#")[0]


def sign_in(page, username: str, password: str) -> None:
    """Through the real form: type the name and password, press the form's submit button."""
    if path_of(page.url) != "/login":
        page.goto("/login")
    form = page.locator("main form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
