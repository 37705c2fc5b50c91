"""No page of the German interface shows English words or raw keys.

On a seeded database (the overview's data set, then records, declarations, status changes,
a sweep and a few sign-ins written through the services, so the audit trail holds events of
every kind the pages show), every role signs in and follows every link of every page it can
reach (GET only; downloads skipped). The text a reader sees — outside elements marked
lang="en", and outside attributes — must hold none of the markers: action keys
(`contract.create`), codes after an arrow (`→ awarded`), ISO dates, record type names
(`ClauseVersion`), English words of the audit messages and English dates.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask

from clause_tracker.agreements import services as agreements
from clause_tracker.checks import sweep
from clause_tracker.declarations import services as declarations
from clause_tracker.extensions import db
from tests.factories import new_counterparty, record_agreement
from tests.helpers import german
from tests.overview.overview_dataset import build

ACTION_KEY = re.compile(
    r"\b(?:contract|grant|agreement|declaration|compliance|document|counterparty|user|auth|"
    r"import|clause|orgunit|audit|outbox|retention|threshold)\.[a-z_]+\b")
MARKERS = [
    ("action key", ACTION_KEY),
    ("code after an arrow", re.compile(
        r"→ (?:draft|awarded|active|ended|terminated|revoked|requested|received|accepted|"
        r"rejected|expired|due|overdue|scheduled)\b")),
    ("ISO date", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
    ("quarter key", re.compile(r"\b\d{4}-Q[1-4]\b")),
    ("record type", re.compile(r"\b(?:ClauseVersion|DocumentRecord|ComplianceCheck|OrgUnit|"
                               r"OutboxMessage|AuditTrail|Agreement|Counterparty)\b")),
    ("English word", re.compile(r" recorded\b|\bSigned (?:in|out)\b|\bdeadline\b|"
                                r"\bchanged: |\bimported from\b|\bcontent control\b|"
                                r"\bqueued\b|\bpublished: ")),
    ("English date", re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                                r"\d{1,2}, \d{4}")),
    ("decimal point", re.compile(r"\b\d+\.\d{2}\s?%")),
    ("clause variant code", re.compile(r"\b(?:procurement|subcontract|self_commitment) \d")),
]
ROLES = [("procurement_officer", "ZVS"), ("grant_manager", "ZVS"), ("auditor", None),
         ("admin", None)]
SKIP = re.compile(r"/logout|/download|format=|\.csv|\.xlsx|/eccar\?|/static/|/favicon|"
                  r"/healthz|/evidence|/preview")
MAX_PAGES = 250


class VisibleText(HTMLParser):
    """The text of a page as read, without scripts, styles and elements marked English."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self.stack: list[tuple[str, bool]] = []

    def _hidden(self) -> bool:
        return any(hidden for _, hidden in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag in self.VOID:
            return
        lang = values.get("lang")
        hidden = tag in ("script", "style", "title") or (lang is not None and lang != "de"
                                                        and tag != "html")
        self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self.parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.parts))


def findings(text: str) -> list[str]:
    found = []
    for name, pattern in MARKERS:
        for match in pattern.finditer(text):
            start = max(0, match.start() - 60)
            found.append(f"{name}: …{text[start:match.end() + 40]}…")
    return found


def seed(app: Flask, make_user) -> None:
    """The overview's data set, and events of every kind through the services."""
    build()
    officer = make_user("procurement_officer", "ZVS", username="crawl-officer")
    manager = make_user("grant_manager", "ZVS", username="crawl-manager")
    party = new_counterparty(name="Muster Reinigung GmbH")
    contract = record_agreement("contract", officer, party.id, reference="ZVS-2026-0815")
    grant = record_agreement("grant", manager, party.id, reference="ZVS-Z-2026-0007")
    agreements.attach_clause(contract, "contract_document", "de", contract.version_id, officer)
    agreements.attach_clause(grant, "grant_notice", "de", grant.version_id, manager)
    declarations.request(contract, "main", "", date.today(), 10, officer, "crawl-token-1")
    agreements.update(contract, {"subject": "Reinigung aller Schulen"},
                      contract.version_id, officer)
    declarations.request(grant, "main", "", date.today(), 10, manager, "crawl-token-2")
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    sweep.run()
    db.session.commit()


def crawl(app: Flask, login, make_user, role: str, unit: str | None
          ) -> tuple[dict[str, list[str]], set[str]]:
    client = german(app.test_client())
    user = make_user(role, unit)
    assert login(client, user.username).status_code == 302
    seen: set[str] = set()
    # Besides the links: filtered lists whose chips and selects show codes as labels.
    queue: deque[str] = deque(["/", "/agreements/?check=findings&declaration=requested",
                               "/overview/?from=01.01.2024&to=31.12.2026", "/overview/eccar"])
    if role in ("auditor", "admin"):
        queue += [f"/audit/?object_type={kind}" for kind in (
            "ClauseVersion", "Agreement", "Declaration", "User", "Sweep", "AuditTrail")]
        queue += ["/audit/?action=contract.create&since=01.01.2020", "/audit/?action=auth"]
    problems: dict[str, list[str]] = {}
    patterns: dict[str, int] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        parser = VisibleText()
        parser.feed(html)
        found = findings(parser.text)
        if 'type="date"' in html:  # one way to type a day: the language's, never the browser's
            found.append("native date input")
        if found:
            problems[url] = found
        for href in parser.links:
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/") or SKIP.search(href):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            # One page of each list per pattern of its arguments: enough to see its texts.
            shape = re.sub(r"\d+", "N", parts.path) + "?" + "&".join(
                sorted(k.split("=")[0] for k in parts.query.split("&") if k))
            if patterns.get(shape, 0) >= 3 or target in seen:
                continue
            patterns[shape] = patterns.get(shape, 0) + 1
            queue.append(target)
    assert len(seen) > 10, f"{role} reached only {sorted(seen)}"
    return problems, seen


@pytest.mark.slow
def test_no_english_or_raw_keys_in_the_german_ui(app: Flask, login, make_user) -> None:
    seed(app, make_user)
    problems = {}
    for role, unit in ROLES:
        found_on, seen = crawl(app, login, make_user, role, unit)
        for url, found in found_on.items():
            problems[f"{role} {url}"] = found
        # The pages that show audit events were among those read.
        assert any(re.fullmatch(r"/agreements/\d+", url) for url in seen), role
        if role in ("auditor", "admin"):
            assert "/audit/" in seen and any(u.startswith("/audit/?") for u in seen), role
    assert not problems, "\n".join(f"{where}:\n  " + "\n  ".join(found[:5])
                                   for where, found in problems.items())


def test_the_marker_list_catches_what_the_trail_showed_before() -> None:
    for text in ("contract.create Contract ZVS-2026-0815 recorded", "draft → awarded",
                 "deadline 2026-12-08", "ClauseVersion 3", "Nov 15, 2026", "2.00 %",
                 "procurement 1.0 (de)", "2026-Q4"):
        assert findings(text), text
    assert not findings("Vertrag ZVS-2026-0815 erfasst; Entwurf → Vergeben; Frist 08.12.2026; "
                        "2,00 %; Klauselfassung 3; 15.11.2026")
