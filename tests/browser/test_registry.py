"""The registry in Chromium: officers record contracts and grants with clause, declaration,
evidence and document; auditors only look; a KIJ officer never sees JenaKultur's drafts.
Every page passes axe-core. Selectors use names and actions, not labels (German first)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from tests.browser.helpers import path_of, sign_in
from tests.helpers import PASSWORD, PDF

pytestmark = pytest.mark.browser



def _user(make_user, role: str, unit: str | None = None):
    return make_user(role, unit, username=f"{role.replace('_', '-')}-{unit or 'x'}".lower())


def _ok(page, check_axe, response=None) -> None:
    if response is not None:
        assert response.ok, f"{page.url}: HTTP {response.status}"
    assert page.locator("main#content").count() == 1
    check_axe(page)


def _submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(form_selector).locator("button[type=submit]").first.click()


def _record_counterparty(page, check_axe, name: str) -> None:
    _ok(page, check_axe, page.goto("/counterparties/new"))
    form = page.locator("main form[method=post]")
    form.locator("[name=name]").fill(name)
    form.locator("[name=legal_form]").fill("GmbH")
    form.locator("[name=address]").fill("Löbdergraben 1, 07743 Jena")
    _submit(page, "main form[method=post]")
    assert re.search(r"/counterparties/\d+$", page.url)
    _ok(page, check_axe)


def _attach_clause_and_request(page, check_axe) -> int:
    agreement_path = path_of(page.url)
    _submit(page, "main form[action$='/clause']")
    assert page.locator("#clause-attached").is_visible()
    _ok(page, check_axe)
    with page.expect_navigation():
        page.locator("main a[href^='/declarations/request/']").click()
    _ok(page, check_axe)
    page.locator("main form [name=requested_on]").fill(date.today().strftime("%d.%m.%Y"))
    _submit(page, "main form[method=post]")
    assert path_of(page.url) == agreement_path
    _ok(page, check_axe)
    return int(agreement_path.rsplit("/", 1)[1])


def test_officer_records_contract_with_clause_document_and_declaration(
        page, make_user, check_axe) -> None:
    officer = _user(make_user, "procurement_officer", "ZVS")
    sign_in(page, officer.username, PASSWORD)
    _record_counterparty(page, check_axe, "Muster Reinigung GmbH")

    _ok(page, check_axe, page.goto("/agreements/"))
    with page.expect_navigation():
        page.locator("main a[href='/agreements/new/contract']").click()
    _ok(page, check_axe)
    form = page.locator("main form[method=post]")
    form.locator("[name=reference]").fill("ZVS-2026-042")
    form.locator("[name=subject]").fill("Unterhaltsreinigung Verwaltungsgebäude")
    form.locator("[name=contract_kind]").select_option("services")
    form.locator("[name=counterparty_id]").select_option(label="Muster Reinigung GmbH")
    form.locator("[name=value]").fill("48.500,00")
    form.locator("[name=vat_rate]").fill("19")
    form.locator("[name=decided_on]").fill(date.today().strftime("%d.%m.%Y"))
    form.locator("[name=start_date]").fill("01.04.2026")
    form.locator("[name=end_date]").fill("31.03.2027")
    _submit(page, "main form[method=post]")
    assert re.search(r"/agreements/\d+$", page.url), page.url
    _ok(page, check_axe)
    assert page.locator("#compliance").is_visible()

    agreement_id = _attach_clause_and_request(page, check_axe)
    with page.expect_navigation():
        page.locator("main a[href$='/receive']").click()
    _ok(page, check_axe)
    form = page.locator("main form[method=post]")
    form.locator("[name=signer_name]").fill("Erika Muster")
    form.locator("[name=signer_function]").fill("Geschäftsführerin")
    form.locator("[name=signed_on]").fill(date.today().strftime("%d.%m.%Y"))
    form.locator("[name=evidence]").set_input_files(
        files=[{"name": "eigenerklaerung.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    _submit(page, "main form[method=post]")
    _ok(page, check_axe)
    assert page.locator("main a[href$='/evidence']").is_visible()
    with page.expect_navigation():
        page.locator("main button[name=action][value=accept]").click()
    _ok(page, check_axe)
    with page.expect_navigation():
        page.locator("main form:has(input[name=status][value=awarded]) button").click()
    _ok(page, check_axe)
    # Awarded: the signed copy is awaited before the contract is compliant.
    assert page.locator("#compliance.status-warn").is_visible(), \
        page.locator("#compliance").inner_text()

    _submit(page, "main form[action$='/document']")
    assert re.search(r"/documents/\d+$", page.url), page.url
    _ok(page, check_axe)
    assert page.locator("main a[href$='/download']").is_visible()
    issued = page.request.get(page.locator("main a[href$='/download']").get_attribute("href"))
    _ok(page, check_axe, page.goto(f"/agreements/{agreement_id}"))
    # The signed copy comes back and is filed on the record: now it is compliant.
    page.locator("main form[action$='/verify'] input[type=file]").set_input_files(files=[{
        "name": "unterschrieben.docx", "buffer": issued.body(),
        "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}])
    _submit(page, "main form[action$='/verify']")
    _ok(page, check_axe, page.goto(f"/agreements/{agreement_id}"))
    assert page.locator("#compliance.status-ok").is_visible(), \
        page.locator("#compliance").inner_text()
    assert "unterschrieben.docx" in page.locator("#signed-copy-current").inner_text()
    assert page.locator("main a[href^='/documents/']").count() >= 1
    history = page.locator("section[aria-labelledby=history-heading]").inner_text()
    # Each event in the reader's language (contract.create, agreement.clause_attach,
    # declaration.request, .receive, .accept, contract.status, document.generate, .verify).
    for message in (" erfasst", "Klausel an ", "Erklärung angefordert, Frist",
                    "Erklärung eingegangen", "Erklärung Eingegangen → Angenommen",
                    "Entwurf → Vergeben", "mit der Klausel erzeugt",
                    "Zurückerhaltenes Dokument geprüft"):
        assert message in history, message
    assert "contract.create" not in history and "document.verify" not in history


def test_grant_manager_records_grant_with_declaration_and_self_commitment(
        page, make_user, check_axe) -> None:
    manager = _user(make_user, "grant_manager", "FDJB")
    sign_in(page, manager.username, PASSWORD)
    _record_counterparty(page, check_axe, "Demokratie leben e.V.")
    _ok(page, check_axe, page.goto("/agreements/new/grant"))
    form = page.locator("main form[method=post]")
    form.locator("[name=reference]").fill("FDJB-PB-2026-07")
    form.locator("[name=programme]").fill("Fonds Politische Bildung")
    form.locator("[name=subject]").fill("Workshopreihe Zivilcourage an Schulen")
    form.locator("[name=counterparty_id]").select_option(label="Demokratie leben e.V.")
    form.locator("[name=value]").fill("4.800,00")
    _submit(page, "main form[method=post]")
    assert re.search(r"/agreements/\d+$", page.url), page.url
    _ok(page, check_axe)
    _attach_clause_and_request(page, check_axe)
    assert page.locator("main .declaration-state").count() == 1

    form = page.locator("main form[action^='/declarations/commitment/']")
    form.locator("[name=score]").fill("8")
    form.locator("[name=notes]").fill("Leitbild gegen Diskriminierung, Schulungen")
    _submit(page, "main form[action^='/declarations/commitment/']")
    _ok(page, check_axe)
    assert "8" in page.locator("#commitment").inner_text()
    with page.expect_navigation():  # the self-commitment is no gate: the award goes through
        page.locator("main form:has(input[name=status][value=awarded]) button").click()
    assert page.locator("#compliance.status-warn").is_visible()  # pending: requested


def _draft(make_agreement, unit: str, reference: str):
    return make_agreement("contract", unit, reference=reference,
                          subject="Bühnentechnik Volkshaus", contract_kind="supplies",
                          value=Decimal("9999.00"))


def test_auditor_sees_but_cannot_change(page, make_user, make_agreement, check_axe) -> None:
    contract = _draft(make_agreement, "KIJ", "KIJ-2026-100")
    auditor = _user(make_user, "auditor", "RPA")
    sign_in(page, auditor.username, PASSWORD)
    _ok(page, check_axe, page.goto("/agreements/"))
    assert page.locator(f"main a[href='/agreements/{contract.id}']").is_visible()
    assert page.locator("main a[href='/agreements/new/contract']").count() == 0
    _ok(page, check_axe, page.goto(f"/agreements/{contract.id}"))
    assert page.locator("main form[method=post]").count() == 0
    token = page.locator("form.logout-form input[name=csrf_token]").get_attribute("value")
    for path in (f"/agreements/{contract.id}/status", f"/agreements/{contract.id}/clause",
                 f"/agreements/{contract.id}/edit"):
        response = page.request.post(path, form={"csrf_token": token, "status": "awarded"})
        assert response.status == 403, path
    response = page.goto(f"/agreements/{contract.id}/edit")
    assert response.status == 403
    _ok(page, check_axe)


def test_kij_officer_cannot_see_jenakultur_drafts(page, make_user, make_agreement,
                                                  check_axe) -> None:
    theirs = _draft(make_agreement, "JK", "JK-2026-007")
    own = _draft(make_agreement, "KIJ", "KIJ-2026-008")
    officer = _user(make_user, "procurement_officer", "KIJ")
    sign_in(page, officer.username, PASSWORD)
    _ok(page, check_axe, page.goto("/agreements/"))
    listing = page.locator("main").inner_text()
    assert "KIJ-2026-008" in listing and "JK-2026-007" not in listing
    assert page.locator(f"main a[href='/agreements/{own.id}']").is_visible()
    response = page.goto(f"/agreements/{theirs.id}")
    assert response.status == 404
    _ok(page, check_axe)
    assert page.goto(f"/agreements/{theirs.id}/edit").status == 404
