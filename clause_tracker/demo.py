"""The demo city: a registry as an office of the City of Jena would have it after a year or two
with the clause, loaded into an empty database by `clause-tracker demo`.

About 320 contracts and grants across the departments and both municipal enterprises (KIJ,
JenaKultur), in every compliance state and every reason the service layer can bring about:
drafts, declarations requested, received, accepted, rejected, overdue, expired and
suspended; exemptions approved and voided; "no declaration required" below a threshold and
voided; generated contracts with their signed copies filed and verified, deviating, without
the clause, with tracked changes, or awaiting a second person's manual check; complaints
(by the anti-discrimination office's case reference) with findings, hearings, breach
decisions and measures (action plans, a penalty, an exclusion). Then two sweeps of the
compliance schedule (one dated back two months, one today), so checks are due and overdue
and "Meine Fristen" and "Meine Aufgaben" have work in them.

Everything goes through the service layer, each change with its audit event, so every figure
of the overview is one the app itself computed. Deterministic: one seeded random generator,
dates relative to today. It loads only into a registry without records; a second run
changes nothing and says so.
"""

from __future__ import annotations

import io
import random
import re
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import event, func, select
from werkzeug.datastructures import FileStorage

from clause_tracker import idempotency
from clause_tracker.agreements import documents as agreement_documents
from clause_tracker.agreements import services as agreements
from clause_tracker.agreements import signed_copy
from clause_tracker.agreements.models import CONTRACT, GRANT, Agreement
from clause_tracker.auth.models import User
from clause_tracker.auth.services import find_user
from clause_tracker.checks import services as checks
from clause_tracker.checks import sweep
from clause_tracker.checks.models import (
    BREACH_CONFIRMED,
    COMPLIANT,
    DUE,
    FINDINGS,
    NO_BREACH,
    OVERDUE,
    ComplianceCheck,
)
from clause_tracker.checks.services import MeasureInput
from clause_tracker.clock import today as clock_today
from clause_tracker.compliance.state import compliance_columns
from clause_tracker.counterparties import services as counterparties
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.declarations import evidence
from clause_tracker.declarations import services as declarations
from clause_tracker.declarations.models import Declaration
from clause_tracker.documents.generate import document_values, fill, template_bytes
from clause_tracker.documents.grant_terms import FUNDING_KINDS, FUNDING_METHODS
from clause_tracker.documents.web import services as desk
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.storage import storage
from clause_tracker.transaction import unit_of_work

SEED = 2026
BATCH = 20  # records per transaction while loading
# Exemption reasons the demo uses when the configuration names none (EXEMPTION_REASONS).
DEMO_EXEMPTION_REASONS = ("Dringlichkeit (§ 14 Abs. 4 Nr. 3 VgV)",
                          "Ausschließlichkeitsrecht (§ 14 Abs. 4 Nr. 2 VgV)")
# Who works on which unit's records (the demo users of bootstrap.DEMO_USERS).
CONTRACT_OFFICERS = {"ZVS": "vergabe", "KIJ": "kij.vergabe", "JK": "jk.vergabe"}
GRANT_MANAGERS = {"FDJB": "foerderung", "BMI": "bmi.foerderung", "JK": "jk.foerderung"}
APPROVER = "admin"  # the second person for exemptions, measures and manual checks

COMPANIES = [
    ("Saale Gebäudereinigung GmbH", "Löbdergraben 12\n07743 Jena"),
    ("Thüringer Bau und Dach GmbH & Co. KG", "Göschwitzer Str. 40\n07745 Jena"),
    ("Optik-Service Lobeda GmbH", "Erlanger Allee 101\n07747 Jena"),
    ("IT-Systemhaus Mitteldeutschland AG", "Leutragraben 1\n07743 Jena"),
    ("Grünpflege Winzerla GbR", "Oßmaritzer Str. 5\n07745 Jena"),
    ("Elektro Kahla GmbH", "Bahnhofstr. 3\n07768 Kahla"),
    ("Catering am Paradies GmbH", "Am Paradies 2\n07743 Jena"),
    ("Schulbus Saale-Holzland GmbH", "Industriestr. 8\n07607 Eisenberg"),
    ("Sicherheitsdienst Jena-Nord GmbH", "Camburger Str. 50\n07743 Jena"),
    ("Büro- und Objektausstattung Weimar GmbH", "Schwanseestr. 17\n99423 Weimar"),
    ("Bühnentechnik Mitteldeutschland GmbH", "Spitzweidenweg 30\n07743 Jena"),
    ("Druckerei Burgau KG", "Burgauer Str. 4\n07745 Jena"),
    ("Malerwerkstatt Ziegenhain", "Ziegenhainer Str. 60\n07749 Jena"),
    ("Heizung Sanitär Lobeda GmbH", "Karl-Marx-Allee 9\n07747 Jena"),
    ("Veranstaltungstechnik Saaleland GmbH", "Wiesenstr. 12\n07743 Jena"),
    ("Übersetzungsbüro Babel Jena", "Johannisstr. 15\n07743 Jena"),
]
ASSOCIATIONS = [
    ("Jenaer Bündnis für Toleranz e. V.", "Markt 16\n07743 Jena"),
    ("Internationaler Frauentreff Jena e. V.", "Lutherstr. 2\n07743 Jena"),
    ("Jugendzentrum Polaris e. V.", "Friedrich-Zucker-Str. 1\n07745 Jena"),
    ("Migrantenbeirat Jena – Förderverein e. V.", "Löbdergraben 24\n07743 Jena"),
    ("Kulturarena Freundeskreis e. V.", "Theaterplatz 1\n07743 Jena"),
    ("Sportverein Lobeda 1990 e. V.", "Kastanienstr. 11\n07747 Jena"),
    ("Lernwerkstatt Nord e. V.", "Dornburger Str. 120\n07743 Jena"),
    ("Geschichtswerkstatt Jena e. V.", "Unterm Markt 13\n07743 Jena"),
    ("Theaterhaus Jugendclub e. V.", "Schillergässchen 1\n07745 Jena"),
    ("Netzwerk Sprachpaten Jena e. V.", "Tatzendpromenade 2a\n07745 Jena"),
]
SUBJECTS = {
    "ZVS": [("services", "Unterhaltsreinigung der Verwaltungsgebäude, Los {n}"),
            ("supplies", "Lieferung von Büromöbeln für das Bürgeramt, Los {n}"),
            ("services", "IT-Support für die Stadtverwaltung, Los {n}"),
            ("supplies", "Lieferung von Dienstfahrrädern, Los {n}"),
            ("services", "Sicherheitsdienst Rathaus, Los {n}"),
            ("services", "Übersetzungs- und Dolmetschleistungen, Los {n}")],
    "KIJ": [("works", "Dachsanierung Grundschule, Bauabschnitt {n}"),
            ("works", "Erneuerung der Heizungsanlage Sporthalle, Los {n}"),
            ("works", "Malerarbeiten Kita, Bauabschnitt {n}"),
            ("services", "Grünpflege der Schulhöfe, Gebiet {n}"),
            ("works", "Elektroinstallation Gemeinschaftsschule, Los {n}")],
    "JK": [("services", "Bühnen- und Veranstaltungstechnik Kulturarena, Los {n}"),
           ("services", "Catering Philharmonie, Spielzeit {n}"),
           ("supplies", "Druck von Programmheften, Los {n}"),
           ("services", "Einlass- und Ordnungsdienst Volkshaus, Los {n}")],
}
PROGRAMMES = {
    "FDJB": [("Förderrichtlinie Jugendarbeit", "Ferienfreizeit mit Workshops zu Vielfalt, Nr. {n}"),
             ("Förderrichtlinie Jugendarbeit", "Offene Jugendarbeit im Stadtteil, Nr. {n}"),
             ("Bildungsfonds", "Lernpatenschaften an Gemeinschaftsschulen, Nr. {n}")],
    "BMI": [("Integrationsfonds", "Sprachcafé und Beratung für Zugewanderte, Nr. {n}"),
            ("Integrationsfonds", "Interkulturelle Woche, Projekt {n}"),
            ("Fonds gegen Rassismus und Diskriminierung", "Empowerment-Workshops, Projekt {n}")],
    "JK": [("Kulturförderung", "Stadtteilfest mit internationalem Programm, Nr. {n}"),
           ("Kulturförderung", "Theaterprojekt mit Jugendlichen, Nr. {n}"),
           ("Projektförderung Soziokultur", "Lesereihe „Geschichten vom Ankommen“, Nr. {n}")],
}
CONTRACT_PLAN: list[tuple[str, int]] = [  # (what the record shows, how many)
    ("verified", 22), ("verified_paper", 26), ("ended", 8), ("copy_awaited", 32),
    ("copy_overdue", 12),
    ("copy_manual", 5), ("copy_manual_approved", 2), ("copy_deviates", 3),
    ("copy_missing", 2), ("copy_tracked", 2), ("requested", 18), ("received", 8),
    ("rejected", 4), ("rejected_awarded", 2), ("decl_overdue", 6), ("decl_expired", 4),
    ("suspended", 3), ("no_clause_draft", 14), ("no_declaration_draft", 10),
    ("exempt", 3), ("exemption_voided", 2), ("below_threshold", 5),
    ("not_required_voided", 2), ("complaint_no_breach", 1), ("check_breach", 2),
    ("check_breach_measure", 2), ("action_plan_overdue", 1), ("action_plan_done", 1),
    ("declaration_breach", 1), ("declaration_breach_measure", 1), ("check_overdue", 1),
    ("check_due", 1), ("check_done", 1),
]
GRANT_PLAN: list[tuple[str, int]] = [
    ("verified", 52), ("ended", 4), ("requested", 10), ("received", 5), ("rejected", 2),
    ("decl_overdue", 3), ("decl_expired", 3), ("suspended", 2), ("no_clause_draft", 8),
    ("no_declaration_draft", 5), ("exempt", 1), ("below_threshold", 8),
    ("not_required_voided", 1), ("check_breach", 1), ("check_breach_measure", 1),
    ("action_plan_overdue", 1), ("check_overdue", 1),
]
# Below these no declaration is needed (per unit and kind).
THRESHOLDS = {**{(code, CONTRACT): Decimal("1000") for code in CONTRACT_OFFICERS},
              **{(code, GRANT): Decimal("2500") for code in GRANT_MANAGERS}}


@dataclass
class DemoReport:
    agreements: int = 0
    by_state: Counter = field(default_factory=Counter)
    by_reason: Counter = field(default_factory=Counter)
    documents: int = 0
    complaints: int = 0
    checks_due: int = 0
    checks_overdue: int = 0
    seconds: float = 0.0


class DemoRefused(Exception):
    """The registry holds records already: the demo loads into an empty one only."""


def load_city(day: date | None = None) -> DemoReport:
    """Load the demo city into an empty registry (the demo units and users must exist)."""
    started = time.perf_counter()
    if db.session.scalar(select(func.count()).select_from(Agreement)):
        raise DemoRefused("the registry holds records already")
    with _unsynced_sqlite():
        city = _City(day or clock_today())
        city.build()
    report = city.report()
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _unsynced_sqlite() -> Iterator[None]:
    """SQLite without an fsync per commit while the demo loads (some 3,000 transactions:
    they waited on the disk three times longer than they computed). A demo database cut
    short by a crash is made again; PostgreSQL is left as it is."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def unsynced(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA synchronous = OFF")

    db.session.remove()
    engine.dispose()
    event.listen(engine, "connect", unsynced)
    try:
        yield
    finally:
        db.session.remove()
        event.remove(engine, "connect", unsynced)
        engine.dispose()


class _City:
    def __init__(self, day: date) -> None:
        self.day = day
        self.rnd = random.Random(SEED)  # noqa: S311  # demo data, drawn the same each time
        self.users: dict[str, User] = {}
        for name in (*CONTRACT_OFFICERS.values(), *GRANT_MANAGERS.values(), APPROVER):
            user = find_user(name)
            if user is None:
                raise DemoRefused(f"the demo user {name} is missing")
            self.users[name] = user
        self.parties: dict[str, list[Counterparty]] = {}
        self.addresses: dict[int, str] = {}
        self.numbers: Counter = Counter()
        self.complaints = 0
        self.documents = 0
        if not current_app.config.get("EXEMPTION_REASONS"):
            current_app.config["EXEMPTION_REASONS"] = DEMO_EXEMPTION_REASONS

    # --- building -------------------------------------------------------------------------

    def build(self) -> None:
        units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
        for (code, kind), amount in THRESHOLDS.items():
            agreements.set_threshold(units[code].id, kind, amount)
        self.parties[CONTRACT] = [self._party(name, address) for name, address in COMPANIES]
        self.parties[GRANT] = [self._party(name, address) for name, address in ASSOCIATIONS]
        jobs: list[tuple[str, str, str]] = []
        for kind, plan, staff in ((CONTRACT, CONTRACT_PLAN, CONTRACT_OFFICERS),
                                  (GRANT, GRANT_PLAN, GRANT_MANAGERS)):
            codes = list(staff)
            for index, (story, count) in enumerate(plan):
                for n in range(count):
                    jobs.append((kind, codes[(index + n) % len(codes)], story))
        self.rnd.shuffle(jobs)
        # Every step is a service call with its audit event; a few records' steps share one
        # transaction (units of work nest), as a day's work would be many transactions.
        for start in range(0, len(jobs), BATCH):
            with unit_of_work():
                for kind, code, story in jobs[start:start + BATCH]:
                    STORIES[story](self, self._draft(kind, code, story))
        with unit_of_work():
            self._documents_desk()
        # The schedule: one sweep as it ran two months ago, and today's.
        sweep.run(self.day - timedelta(days=60))
        sweep.run(self.day)

    def _party(self, name: str, address: str) -> Counterparty:
        party = counterparties.create({"name": name, "address": address.replace("\n", ", ")},
                                      idempotency.new_token())
        self.addresses[party.id] = address
        return party

    def _officer(self, agreement: Agreement) -> User:
        staff = CONTRACT_OFFICERS if agreement.kind == CONTRACT else GRANT_MANAGERS
        return self.users[staff[agreement.org_unit.code]]

    def _draft(self, kind: str, code: str, story: str) -> Agreement:
        rnd = self.rnd
        self.numbers[code, kind] += 1
        n = self.numbers[code, kind]
        user = self.users[(CONTRACT_OFFICERS if kind == CONTRACT else GRANT_MANAGERS)[code]]
        decided = self.day - timedelta(days=rnd.randint(40, 700))
        if story in ("copy_awaited", "copy_manual"):  # the copy's due day still to come
            decided = self.day - timedelta(days=rnd.randint(1, 18))
        elif story == "copy_overdue":
            decided = self.day - timedelta(days=rnd.randint(45, 160))
        elif story == "ended":
            decided = self.day - timedelta(days=rnd.randint(800, 1400))
        start = decided + timedelta(days=rnd.randint(5, 30))
        end = start + timedelta(days=365 * rnd.choice((1, 2, 3)) - 1)
        if story == "ended":
            end = min(end, self.day - timedelta(days=rnd.randint(10, 120)))
        values: dict[str, Any] = {
            "reference": (f"{code}-{decided.year}-{n:04d}" if kind == CONTRACT
                          else f"{code}-Z-{decided.year}-{n:03d}"),
            "counterparty_id": rnd.choice(self.parties[kind]).id,
            "start_date": start, "end_date": end, "decided_on": decided,
        }
        if kind == CONTRACT:
            contract_kind, subject = rnd.choice(SUBJECTS[code])
            value = Decimal(rnd.randint(8, 900) * 500 + rnd.choice((0, 50, 99))).quantize(
                Decimal("0.01"))
            if story in ("below_threshold", "not_required_voided"):
                value = Decimal(rnd.randint(200, 950))
            values |= {"subject": subject.format(n=n), "contract_kind": contract_kind,
                       "procedure": rnd.choice(("open", "public_tender", "restricted_tender",
                                                "negotiated_award")),
                       "estimated_value": (value * Decimal("1.05")).quantize(Decimal("0.01")),
                       "value": value, "vat_rate": Decimal("19"),
                       "renewal_options": rnd.choice(("", "", "zweimal um ein Jahr"))}
        else:
            programme, purpose = rnd.choice(PROGRAMMES[code])
            value = Decimal(rnd.randint(4, 120) * 250)
            if story in ("below_threshold", "not_required_voided"):
                value = Decimal(rnd.randint(300, 2400))
            values |= {"programme": programme, "subject": purpose.format(n=n), "value": value,
                       "proof_due_on": end + timedelta(days=180),
                       "funding_kind": rnd.choice(FUNDING_KINDS),
                       "funding_method": rnd.choice(FUNDING_METHODS)}
        return agreements.create(kind, values, user, idempotency.new_token())

    # --- steps ----------------------------------------------------------------------------

    def attach(self, agreement: Agreement) -> None:
        method = "contract_document" if agreement.kind == CONTRACT else "grant_notice"
        agreements.attach_clause(agreement, method, "de", agreement.version_id,
                                 self._officer(agreement))

    def request(self, agreement: Agreement, requested_on: date | None = None) -> Declaration:
        assert agreement.decided_on is not None
        day = requested_on or agreement.decided_on - timedelta(days=25)
        return declarations.request(agreement, "main", "", day, 10, self._officer(agreement),
                                    idempotency.new_token())

    def receive(self, decl: Declaration, valid_until: date | None = None,
                accept: bool = True) -> Declaration:
        agreement = decl.agreement
        received = min(decl.deadline or self.day, self.day) - timedelta(days=2)
        party = agreement.counterparty.name if agreement.counterparty else "—"
        proof = evidence.accept(_evidence_pdf(agreement.reference, party),
                                f"Eigenerklaerung_{agreement.reference}.pdf")
        user = self._officer(agreement)
        until = valid_until or max((agreement.end_date or self.day) + timedelta(days=365),
                                   self.day + timedelta(days=200))
        declarations.receive(decl, signer_name=self.rnd.choice(SIGNERS),
                             signer_function="Geschäftsführung"
                             if agreement.kind == CONTRACT else "Vorstand",
                             signed_on=received - timedelta(days=3), received_on=received,
                             channel=self.rnd.choice(("post", "email", "portal")),
                             valid_until=until, evidence=proof,
                             expected_version=decl.version_id, user=user)
        if accept:
            declarations.transition(decl, "accept", "", decl.version_id, user)
        return decl

    def award(self, agreement: Agreement, active: bool = True) -> None:
        user = self._officer(agreement)
        agreements.change_status(agreement, "awarded", agreement.version_id, user)
        if active:
            agreements.change_status(agreement, "active", agreement.version_id, user)

    def prepared(self, agreement: Agreement, active: bool = True) -> Declaration:
        """Clause, declaration accepted and valid, awarded."""
        self.attach(agreement)
        decl = self.receive(self.request(agreement))
        self.award(agreement, active)
        return decl

    def generated(self, agreement: Agreement) -> bytes:
        """The contract generated from the record, with the clause; its DOCX."""
        assert agreement.counterparty_id is not None
        record = agreement_documents.generate(agreement, "de",
                                              self.addresses[agreement.counterparty_id],
                                              self._officer(agreement))
        self.documents += 1
        return _stored(record.output_sha256)

    def file_copy(self, agreement: Agreement, data: bytes) -> None:
        upload = FileStorage(io.BytesIO(data),
                             filename=f"{agreement.reference}_unterschrieben.docx")
        agreement_documents.check(agreement, upload, self._officer(agreement))
        self.documents += 1

    def complaint_check(self, agreement: Agreement, received: date):
        self.complaints += 1
        return checks.record_complaint(agreement, f"ADS-{received.year}-{self.complaints:04d}",
                                       received, self._officer(agreement), received)

    def breach(self, agreement: Agreement, start: date, measure: MeasureInput | None = None,
               approve: bool = False):
        user = self._officer(agreement)
        check = self.complaint_check(agreement, start)
        checks.record_outcome(check, FINDINGS, "", FINDINGS_TEXT, user, check.version_id,
                              start + timedelta(days=3))
        checks.record_hearing(check, start + timedelta(days=10), HEARING_TEXT, user,
                              start + timedelta(days=10), STATEMENT_TEXT)
        checks.decide_breach(check, BREACH_CONFIRMED, DECISION_TEXT, user, check.version_id,
                             start + timedelta(days=14))
        if measure is None:
            return None
        proposed = checks.propose_measure(check, measure, user, start + timedelta(days=14))
        if approve:
            checks.decide_measure(proposed, True, "Zugestimmt (Vier-Augen-Prinzip).",
                                  self.users[APPROVER], proposed.version_id)
        return proposed

    def _documents_desk(self) -> None:
        """Two contracts of the desk that had the clause inserted into an uploaded file (the
        template filled with a recorded contract's values, as a draft before it)."""
        user = self.users[CONTRACT_OFFICERS["ZVS"]]
        models = db.session.scalars(select(Agreement).where(
            Agreement.kind == CONTRACT, Agreement.status != "draft",
            Agreement.org_unit_id == user.org_unit_id).order_by(Agreement.id).limit(2))
        for n, model in enumerate(models, start=1):
            assert model.counterparty_id is not None
            template, values = agreement_documents.template_values(
                model, self.addresses[model.counterparty_id])
            data = fill(template_bytes(template), document_values(
                template, "de", values | {"reference": f"{model.reference}-ENTWURF"}))
            key, _location = desk.prepare_insert(data, "procurement", "de")
            desk.insert(key, f"rahmenvertrag_entwurf_{n}.docx", "procurement", "de", user)
            self.documents += 1

    # --- the outcome ----------------------------------------------------------------------

    def report(self) -> DemoReport:
        report = DemoReport(documents=self.documents, complaints=self.complaints)
        columns = compliance_columns(self.day)
        for state, reason, count in db.session.execute(columns.join(
                select(columns.state, columns.reason, func.count()).select_from(Agreement))
                .group_by(columns.state, columns.reason)):
            report.agreements += count
            report.by_state[state] += count
            report.by_reason[reason] += count
        for stage, count in db.session.execute(
                select(ComplianceCheck.stage, func.count()).group_by(ComplianceCheck.stage)):
            if stage == DUE:
                report.checks_due = count
            elif stage == OVERDUE:
                report.checks_overdue = count
        return report


# --- the stories: what happened to each record ----------------------------------------------

def _verified(city: _City, a: Agreement) -> None:
    city.prepared(a)
    if a.kind == CONTRACT:
        city.file_copy(a, city.generated(a))


def _ended(city: _City, a: Agreement) -> None:
    city.prepared(a)  # ended before the signed copies were filed here
    agreements.change_status(a, "ended", a.version_id, city._officer(a))


def _copy_awaited(city: _City, a: Agreement) -> None:
    city.prepared(a, active=False)
    city.generated(a)


def _copy_overdue(city: _City, a: Agreement) -> None:
    city.prepared(a)
    city.generated(a)


def _copy_manual(city: _City, a: Agreement, approve: bool = False,
                 generate: bool = True) -> None:
    city.prepared(a)
    if generate:
        city.generated(a)
    _paper_copy(city, a, approve)


def _paper_copy(city: _City, a: Agreement, approve: bool = True) -> None:
    record = signed_copy.propose_manual_check(
        a, "Papierausfertigung mit handschriftlicher Unterschrift; Klausel auf Seite 4 "
           "gegen den veröffentlichten Text gelesen.", city._officer(a))
    if approve:
        signed_copy.approve_manual_check(a, record.id, city.users[APPROVER])


def _copy_changed(change: Callable[[bytes], bytes]) -> Callable[[_City, Agreement], None]:
    def story(city: _City, a: Agreement) -> None:
        city.prepared(a)
        city.file_copy(a, change(city.generated(a)))
    return story


def _requested(city: _City, a: Agreement) -> None:
    city.attach(a)
    city.request(a, city.day - timedelta(days=city.rnd.randint(0, 5)))


def _received(city: _City, a: Agreement) -> None:
    city.attach(a)
    city.receive(city.request(a, city.day - timedelta(days=8)), accept=False)


def _rejected(city: _City, a: Agreement, awarded: bool = False) -> None:
    city.attach(a)
    decl = city.request(a, city.day - timedelta(days=6))
    if awarded:
        city.award(a)
    city.receive(decl, accept=False)
    declarations.transition(decl, "reject", "Unterschrift fehlt; bitte erneut einreichen.",
                            decl.version_id, city._officer(a))


def _decl_overdue(city: _City, a: Agreement) -> None:
    city.attach(a)
    city.request(a, city.day - timedelta(days=city.rnd.randint(25, 60)))


def _decl_expired(city: _City, a: Agreement) -> None:
    city.attach(a)
    decl = city.request(a, city.day - timedelta(days=3))
    city.award(a)  # awarded while the declaration was requested, within its deadline
    city.receive(decl, valid_until=city.day - timedelta(days=city.rnd.randint(5, 40)))


def _suspended(city: _City, a: Agreement) -> None:
    decl = city.prepared(a)
    _verified_copy(city, a)
    declarations.transition(decl, "suspend", "Hinweis der Antidiskriminierungsstelle; "
                            "Prüfung läuft.", decl.version_id, city._officer(a))


def _verified_copy(city: _City, a: Agreement) -> None:
    if a.kind == CONTRACT:
        city.file_copy(a, city.generated(a))


def _no_clause_draft(city: _City, a: Agreement) -> None:
    pass


def _no_declaration_draft(city: _City, a: Agreement) -> None:
    city.attach(a)


def _exempt(city: _City, a: Agreement, void: bool = False) -> None:
    reasons = agreements.exemption_reasons()
    agreements.request_exemption(a, reasons[0], "Nur ein Anbieter kommt in Betracht; "
                                 "Begründung im Vergabevermerk.", a.version_id, city._officer(a))
    agreements.approve_exemption(a, a.version_id, city.users[APPROVER])
    city.award(a)
    if void:
        assert a.value is not None
        agreements.update(a, {"value": a.value + Decimal("15000")}, a.version_id,
                          city._officer(a))


def _below_threshold(city: _City, a: Agreement, void: bool = False) -> None:
    city.attach(a)
    declarations.not_required(a, "below_threshold", city._officer(a))
    city.award(a)
    if a.kind == CONTRACT:  # the signed copy is still expected: a paper one, checked by hand
        _paper_copy(city, a)
    if void:
        agreements.update(a, {"value": Decimal("4800")}, a.version_id, city._officer(a))


def _complaint_no_breach(city: _City, a: Agreement) -> None:
    _verified(city, a)
    start = city.day - timedelta(days=50)
    user = city._officer(a)
    check = city.complaint_check(a, start)
    checks.record_outcome(check, FINDINGS, "", FINDINGS_TEXT, user, check.version_id,
                          start + timedelta(days=4))
    checks.record_hearing(check, start + timedelta(days=12), HEARING_TEXT, user,
                          start + timedelta(days=12), STATEMENT_TEXT)
    checks.decide_breach(check, NO_BREACH, "Die Anhörung hat den Vorwurf ausgeräumt.", user,
                         check.version_id, start + timedelta(days=15))


def _check_breach(city: _City, a: Agreement, measure: bool = False) -> None:
    _verified(city, a)
    start = city.day - timedelta(days=city.rnd.randint(30, 80))
    kind = "penalty" if a.kind == CONTRACT else "exclusion"
    data = MeasureInput(kind=kind, description=MEASURE_TEXT[kind], breaches=1,
                        exclusion_until=start + timedelta(days=400))
    city.breach(a, start, data if measure else None, approve=measure)


def _action_plan(city: _City, a: Agreement, done: bool = False) -> None:
    _verified(city, a)
    start = city.day - timedelta(days=120)
    plan = MeasureInput(kind="action_plan", description=MEASURE_TEXT["action_plan"],
                        deadline=start + timedelta(days=60))
    measure = city.breach(a, start, plan, approve=True)
    if done and measure is not None:
        checks.record_plan_completion(measure, True, start + timedelta(days=55),
                                      "Schulungen durchgeführt, Nachweise liegen vor.",
                                      city._officer(a), measure.version_id, city.day)


def _declaration_breach(city: _City, a: Agreement, measure: bool = False) -> None:
    decl = city.prepared(a)
    _verified_copy(city, a)
    user = city._officer(a)
    declarations.transition(decl, "suspend", "Beschwerde der Antidiskriminierungsstelle.",
                            decl.version_id, user)
    declarations.transition(decl, "confirm_breach", "Verstoß nach Anhörung bestätigt.",
                            decl.version_id, user)
    if measure:
        start = city.day - timedelta(days=40)
        city.breach(a, start, MeasureInput(kind="exclusion", description=MEASURE_TEXT[
            "exclusion"], exclusion_until=start + timedelta(days=730)), approve=True)


def _check_open(city: _City, a: Agreement, days_ago: int) -> None:
    _verified(city, a)
    city.complaint_check(a, city.day - timedelta(days=days_ago))


def _complete_check_on_time(city: _City, a: Agreement) -> None:
    _verified(city, a)
    check = city.complaint_check(a, city.day - timedelta(days=20))
    checks.record_outcome(check, COMPLIANT, "Keine Auffälligkeiten.", "", city._officer(a),
                          check.version_id, city.day - timedelta(days=10))


STORIES: dict[str, Callable[[_City, Agreement], None]] = {
    "verified": _verified,
    "ended": _ended,
    "verified_paper": lambda city, a: _copy_manual(city, a, approve=True, generate=False),
    "copy_awaited": _copy_awaited,
    "copy_overdue": _copy_overdue,
    "copy_manual": _copy_manual,
    "copy_manual_approved": lambda city, a: _copy_manual(city, a, approve=True),
    "copy_deviates": _copy_changed(lambda data: _changed_clause(data, "deviation")),
    "copy_missing": _copy_changed(lambda data: _changed_clause(data, "missing")),
    "copy_tracked": _copy_changed(lambda data: _changed_clause(data, "tracked")),
    "requested": _requested,
    "received": _received,
    "rejected": _rejected,
    "rejected_awarded": lambda city, a: _rejected(city, a, awarded=True),
    "decl_overdue": _decl_overdue,
    "decl_expired": _decl_expired,
    "suspended": _suspended,
    "no_clause_draft": _no_clause_draft,
    "no_declaration_draft": _no_declaration_draft,
    "exempt": _exempt,
    "exemption_voided": lambda city, a: _exempt(city, a, void=True),
    "below_threshold": _below_threshold,
    "not_required_voided": lambda city, a: _below_threshold(city, a, void=True),
    "complaint_no_breach": _complaint_no_breach,
    "check_breach": _check_breach,
    "check_breach_measure": lambda city, a: _check_breach(city, a, measure=True),
    "action_plan_overdue": _action_plan,
    "action_plan_done": lambda city, a: _action_plan(city, a, done=True),
    "declaration_breach": _declaration_breach,
    "declaration_breach_measure": lambda city, a: _declaration_breach(city, a, measure=True),
    "check_overdue": lambda city, a: _check_open(city, a, 45),
    "check_due": lambda city, a: _check_open(city, a, 3),
    "check_done": _complete_check_on_time,
}

SIGNERS = ("Anna Schubert", "Murat Yılmaz", "Katrin Vogel", "Daniel Okafor", "Lena Hoffmann",
           "Piotr Nowak", "Sabine Krüger", "Thomas Becker")
FINDINGS_TEXT = ("Beschwerde über diskriminierende Einlasskontrollen; zwei Zeugenaussagen "
                 "liegen der Antidiskriminierungsstelle vor.")
HEARING_TEXT = "Anhörung der Geschäftsführung im Rathaus; Sachverhalt erörtert."
STATEMENT_TEXT = "Die Vorwürfe werden teilweise eingeräumt; Schulungen werden zugesagt."
DECISION_TEXT = "Verstoß gegen die Antirassismusklausel nach Anhörung bestätigt."
MEASURE_TEXT = {
    "action_plan": "Aktionsplan: Schulung aller Beschäftigten, Beschwerdestelle einrichten.",
    "penalty": "Vertragsstrafe für einen bestätigten Verstoß.",
    "exclusion": "Ausschluss von Vergaben und Zuwendungen der Stadt.",
}


# --- files ----------------------------------------------------------------------------------

def _stored(key: str | None) -> bytes:
    assert key is not None
    return storage().get(key)


def _evidence_pdf(reference: str, party: str) -> bytes:
    """A one-page PDF standing in for the scanned, signed declaration."""
    text = f"Eigenerklaerung zur Antirassismusklausel - {reference}".encode("latin-1", "replace")
    stream = b"BT /F1 12 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream +
        b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"\
        .encode()
    return bytes(out)


_SDT = re.compile(rb"<w:sdt>.*?</w:sdt>", re.DOTALL)
_RUN_TEXT = re.compile(rb"(<w:sdtContent>.*?<w:t(?: [^>]*)?>)([^<]{12,})(</w:t>)", re.DOTALL)


def _changed_clause(data: bytes, how: str) -> bytes:
    """A returned copy whose clause someone changed: a word replaced ("deviation"), the
    clause cut out ("missing"), or a tracked insertion left in it ("tracked")."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == "word/document.xml":
                part = _change_xml(part, how)
            target.writestr(item, part)
    return out.getvalue()


def _change_xml(xml: bytes, how: str) -> bytes:
    if how == "missing":
        return _SDT.sub(b"", xml)
    if how == "deviation":
        return _RUN_TEXT.sub(lambda m: m.group(1) + m.group(2).replace(b" ", b" nicht ", 1)
                             + m.group(3), xml, count=1)
    # tracked: a run inserted with revision marks inside the clause
    return _RUN_TEXT.sub(
        lambda m: m.group(1) + m.group(2) + m.group(3)
        + b'</w:r><w:ins w:id="9001" w:author="Auftragnehmer" w:date="2026-01-05T10:00:00Z">'
          b"<w:r><w:t xml:space=\"preserve\"> sofern zumutbar</w:t></w:r></w:ins><w:r><w:t/>",
        xml, count=1)
