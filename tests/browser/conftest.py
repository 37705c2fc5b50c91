"""Browser fixtures: the app on a live server, Debian's Chromium through Playwright, axe-core.

The app is the root conftest's `app` (so these tests run on PostgreSQL too when
CLAUSE_TRACKER_TEST_DATABASE_URL is set), served by werkzeug in a daemon thread.
Chromium is /usr/bin/chromium (Debian's package); Playwright never downloads a browser.
axe-core comes from the npm package (`npm ci` at the top of the checkout).
Without Chromium or axe-core the tests skip; CI (CLAUSE_TRACKER_REQUIRE_ALL=1) fails them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import PASSWORD, REPO

CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING_IMPACTS = ("serious", "critical")
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        pytest.skip(f"axe-core is not installed ({AXE_SCRIPT} missing): run `npm ci` at the "
                    "top of the checkout")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chromium(axe_source: str) -> Iterator[object]:
    """One headless Chromium for the whole run; every test gets its own context."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (CI installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package playwright is missing: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class LiveServer:
    """`app` served by werkzeug on a free port of 127.0.0.1, in a daemon thread."""

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="live-server")

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(chromium: object, app: Flask, published_clauses: None) -> Iterator[LiveServer]:
    """The app with the clause library published, live on 127.0.0.1."""
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def new_page(chromium, live_server: LiveServer) -> Iterator[Callable[[], object]]:
    """new_page() → a page in a fresh browser context (no cookies), base URL = live server."""
    contexts = []

    def make() -> object:
        context = chromium.new_context(base_url=live_server.url, java_script_enabled=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], object]) -> object:
    return new_page()


@dataclass
class Account:
    username: str
    password: str
    role: str


@pytest.fixture
def account(make_user: Callable[..., object]) -> Callable[[str], Account]:
    """account("auditor") → a new user of that role, with the password to type in."""

    def make(role: str) -> Account:
        user = make_user(role, username=f"{role.replace('_', '-')}-browser")
        return Account(user.username, PASSWORD, role)

    return make


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core: {len(violations)} serious/critical WCAG 2.1 A/AA violation(s) on {url}"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    target {json.dumps(node['target'])}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


@pytest.fixture
def check_axe(axe_source: str) -> Callable[[object], None]:
    """check_axe(page) → fails on any serious or critical WCAG 2.1 A/AA violation.

    axe is injected with page.evaluate: a CDP evaluation, not subject to the app's CSP
    (script-src 'self'), which stays on in the browser.
    """

    def check(page) -> None:
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        violations = page.evaluate(
            "async (options) => (await axe.run(document, options)).violations",
            AXE_OPTIONS,
        )
        blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
        assert not blocking, format_violations(page.url, blocking)

    return check
