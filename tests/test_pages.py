"""The pages around the records: active filters as chips, one way to write a day per
language, grant wording, the accessibility statement and the favicon."""

from __future__ import annotations

import re
from datetime import date

from clause_tracker.extensions import db
from clause_tracker.i18n import LANGUAGE_COOKIE
from tests.factories import insert_agreement
from tests.helpers import german


def test_registry_shows_a_drilldown_filter_as_a_removable_chip(client, signed_in) -> None:
    signed_in("auditor")
    german(client)
    page = client.get("/agreements/?check=findings&status=active&q=Schule").get_data(
        as_text=True)
    chips = re.findall(r'<li class="chip" data-filter="(\w+)">.*?<a href="([^"]+)"', page, re.S)
    assert [name for name, _ in chips] == ["q", "status", "check"]
    assert "Prüfungen: <strong>mit Befund</strong>" in page
    assert "Status: <strong>Laufend</strong>" in page
    removes = dict(chips)
    assert removes["check"] == "/agreements/?q=Schule&amp;status=active"
    assert removes["status"] == "/agreements/?q=Schule&amp;check=findings"
    assert '<a href="/agreements/" class="clear-filters">Alle Filter entfernen</a>' in page
    # The form keeps the drill-down filter it has no field for; its select shows the value.
    assert '<input type="hidden" name="check" value="findings">' in page
    assert '<option value="active" selected>Laufend</option>' in page
    # Without filters: no chips.
    assert "Aktive Filter" not in client.get("/agreements/").get_data(as_text=True)


def test_overview_period_is_typed_as_the_language_writes_it(client, signed_in) -> None:
    signed_in("auditor")
    german(client)
    page = client.get("/overview/?from=01.01.2025&to=2025-12-31").get_data(as_text=True)
    assert 'type="date"' not in page
    assert re.search(r'<input id="from" name="from" type="text"[^>]*placeholder="TT.MM.JJJJ" '
                     r'value="01.01.2025"', page)
    assert 'value="31.12.2025"' in page
    assert "Entschieden ab: <strong>01.01.2025</strong>" in page
    bad = client.get("/overview/?from=13.13.2025").get_data(as_text=True)
    assert 'aria-invalid="true"' in bad and "Bitte ein Datum wie 05.03.2026 eingeben." in bad
    client.set_cookie(LANGUAGE_COOKIE, "en")
    english = client.get("/overview/?from=05/03/2025").get_data(as_text=True)
    assert 'placeholder="DD/MM/YYYY" value="05/03/2025"' in english


def test_english_shows_days_as_its_fields_take_them(client, signed_in) -> None:
    agreement = insert_agreement(decided_on=date(2026, 11, 15), reference="ZVS-EN-1")
    signed_in("auditor")
    client.set_cookie(LANGUAGE_COOKIE, "en")
    page = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert "15/11/2026" in page and "Nov 15, 2026" not in page


def test_grant_pages_speak_of_the_grant_notice(client, signed_in, make_user) -> None:
    grant = insert_agreement("grant", reference="ZVS-Z-9", status="draft", programme="Fonds")
    db.session.commit()
    signed_in("grant_manager", "ZVS")
    german(client)
    page = client.get(f"/agreements/{grant.id}").get_data(as_text=True)
    assert "Bewilligung erfassen" in page
    assert "Zuschlag erfassen" not in page and "Bestbieter" not in page
    request = client.get(f"/declarations/request/{grant.id}").get_data(as_text=True)
    assert "Antragsteller oder Zuwendungsempfänger" in request and "Bestbieter" not in request


def test_auditor_menu_has_the_documents_desk(client, signed_in) -> None:
    signed_in("auditor")
    german(client)
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/documents/"' in page
    assert client.get("/documents/").status_code == 200


def test_accessibility_statement_is_public_and_linked_from_every_page(client, app) -> None:
    german(client)
    login = client.get("/login").get_data(as_text=True)
    assert '<a href="/barrierefreiheit"' in login
    response = client.get("/barrierefreiheit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for heading in ("Erklärung zur Barrierefreiheit", "Stand der Vereinbarkeit",
                    "Nicht barrierefreie Inhalte", "Erstellung dieser Erklärung",
                    "Feedback und Kontaktangaben", "Durchsetzungsverfahren"):
        assert heading in page, heading
    contact = app.config["ACCESSIBILITY_CONTACT_EMAIL"]
    assert f'href="mailto:{contact}"' in page
    assert "07.12.2026" in page and "axe-core" in page
    assert "tlmb-thueringen.de" in page
    assert client.get("/no-such-page").get_data(as_text=True).count("/barrierefreiheit") == 1
    client.set_cookie(LANGUAGE_COOKIE, "en")
    assert "Accessibility statement" in client.get("/barrierefreiheit").get_data(as_text=True)


def test_enforcement_body_and_contact_come_from_the_config(client, app) -> None:
    app.config.update(ACCESSIBILITY_CONTACT_EMAIL="a11y@example.org",
                      ACCESSIBILITY_ENFORCEMENT_ADDRESS="Musterstraße 1|99084 Erfurt")
    page = client.get("/barrierefreiheit").get_data(as_text=True)
    assert 'href="mailto:a11y@example.org"' in page
    assert "<br>Musterstraße 1" in page and "<br>99084 Erfurt" in page


def test_favicon_is_served_locally(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in page
    for path, kind in (("/favicon.ico", "image/vnd.microsoft.icon"),
                       ("/static/favicon.svg", "image/svg+xml"),
                       ("/static/favicon-32.png", "image/png")):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == kind, path
        assert len(response.data) > 100
