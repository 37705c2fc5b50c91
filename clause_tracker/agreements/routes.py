from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker import idempotency
from clause_tracker.agreements import bp, documents, queries, services
from clause_tracker.agreements.forms import (
    ApproveExemptionForm,
    ClauseForm,
    ContractForm,
    ExemptionForm,
    GenerateDocumentForm,
    GrantForm,
    ImportForm,
    StatusForm,
    ThresholdForm,
    VerifyDocumentForm,
)
from clause_tracker.agreements.importing import ImportFileError, import_file
from clause_tracker.agreements.models import CONTRACT, GRANT, Agreement
from clause_tracker.agreements.services import RegistryError
from clause_tracker.auth.permissions import Permission, requires
from clause_tracker.compliance.state import compliance_of
from clause_tracker.counterparties import services as counterparties
from clause_tracker.declarations import services as declarations
from clause_tracker.declarations.forms import (
    CommitmentForm,
    NotRequiredForm,
    TransitionForm,
)
from clause_tracker.documents import DocumentError
from clause_tracker.extensions import db
from clause_tracker.idempotency import AlreadySubmitted
from clause_tracker.orgunits.services import all_units

FORMS = {CONTRACT: ContractForm, GRANT: GrantForm}


def load_for_work(agreement_id: int) -> Agreement:
    """The agreement, if the user sees it (else 404) and handles its kind (else 403)."""
    agreement = services.get_visible(agreement_id, current_user) or abort(404)
    if not services.may_work_on(current_user, agreement):
        abort(403)
    return agreement


def _refused(exc: Exception, agreement: Agreement):
    db.session.rollback()
    flash(str(exc), "error")
    return redirect(url_for("agreements.show", agreement_id=agreement.id))


@bp.route("/")
@requires(Permission.REGISTRY_READ)
def index():
    flt = queries.ListFilter.from_args(request.args)
    page = queries.page(current_user, flt, request.args.get("page", 1, type=int))
    units = all_units() if current_user.can(Permission.ALL_UNITS) else []
    return render_template("agreements/index.html", page=page, flt=flt, units=units)


def _create(kind: str):
    form = FORMS[kind]()
    form.set_counterparties(counterparties.choices())
    if form.validate_on_submit():
        token = form.once.data
        assert token is not None  # DataRequired
        try:
            if idempotency.already_done(token):
                raise AlreadySubmitted(token)
            agreement = services.create(kind, form.values(), current_user, token)
        except AlreadySubmitted:
            done = idempotency.already_done(token)
            flash(_("This form was already sent; the record was saved once."), "info")
            if done is None:
                return redirect(url_for("agreements.index"))
            return redirect(url_for("agreements.show", agreement_id=int(done.object_id)))
        except RegistryError as exc:
            db.session.rollback()
            form.reference.errors.append(str(exc))  # type: ignore[attr-defined]  # a list once validated
        else:
            flash(_("The record was saved as a draft."), "success")
            return redirect(url_for("agreements.show", agreement_id=agreement.id))
    return render_template("agreements/form.html", form=form, kind=kind, agreement=None), \
        400 if form.errors else 200


@bp.route("/new/contract", methods=["GET", "POST"])
@requires(Permission.CONTRACTS_MANAGE)
def create_contract():
    return _create(CONTRACT)


@bp.route("/new/grant", methods=["GET", "POST"])
@requires(Permission.GRANTS_MANAGE)
def create_grant():
    return _create(GRANT)


@bp.route("/<int:agreement_id>")
@requires(Permission.REGISTRY_READ)
def show(agreement_id: int):
    agreement = services.get_visible(agreement_id, current_user) or abort(404)
    can_work = services.may_work_on(current_user, agreement)
    version = {"version": agreement.version_id}
    exemption_form = ExemptionForm(formdata=None, **version)
    exemption_form.reason.choices = [SelectChoice(r, r) for r in services.exemption_reasons()]
    counterparty = agreement.counterparty
    return render_template(
        "agreements/show.html", agreement=agreement, can_work=can_work,
        compliance=compliance_of(agreement.id),
        declarations=declarations.for_agreement(agreement),
        commitment=declarations.commitment_of(agreement),
        history=services.history(agreement),
        documents=documents.for_agreement(agreement.id),
        status_form=StatusForm(formdata=None, **version),
        clause_form=ClauseForm(formdata=None, **version).for_kind(agreement.kind),
        exemption_form=exemption_form,
        approve_form=ApproveExemptionForm(formdata=None, **version),
        generate_form=GenerateDocumentForm(
            formdata=None, counterparty_address=counterparty.address if counterparty else "",
            **version),
        verify_form=VerifyDocumentForm(formdata=None),
        transition_form=TransitionForm(formdata=None),
        not_required_form=NotRequiredForm(formdata=None),
        commitment_form=CommitmentForm(formdata=None),
        threshold=services.threshold_for(agreement.org_unit_id, agreement.kind),
    )


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_WORK)
def edit(agreement_id: int):
    agreement = load_for_work(agreement_id)
    form = FORMS[agreement.kind](obj=agreement)
    form.set_counterparties(counterparties.choices())
    if request.method == "GET":
        form.version.data = agreement.version_id
        form.counterparty_id.data = agreement.counterparty_id or 0
    status = 200
    if form.validate_on_submit():
        try:
            services.update(agreement, form.values(), form.version.data or 0, current_user)
        except services.EditConflict as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 409
        except RegistryError as exc:
            db.session.rollback()
            form.reference.errors.append(str(exc))  # type: ignore[attr-defined]  # a list once validated
            status = 400
        else:
            flash(_("The changes were saved."), "success")
            return redirect(url_for("agreements.show", agreement_id=agreement.id))
    elif form.errors:
        status = 400
    return render_template("agreements/form.html", form=form, kind=agreement.kind,
                           agreement=agreement), status


@bp.route("/<int:agreement_id>/status", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def change_status(agreement_id: int):
    agreement = load_for_work(agreement_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.change_status(agreement, form.status.data or "", form.version.data or 0,
                               current_user)
    except RegistryError as exc:
        return _refused(exc, agreement)
    flash(_("The status was changed."), "success")
    return redirect(url_for("agreements.show", agreement_id=agreement.id))


@bp.route("/<int:agreement_id>/clause", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def attach_clause(agreement_id: int):
    agreement = load_for_work(agreement_id)
    form = ClauseForm().for_kind(agreement.kind)
    if not form.validate_on_submit():
        abort(400)
    try:
        services.attach_clause(agreement, form.method.data, form.language.data,
                               form.version.data or 0, current_user)
    except RegistryError as exc:
        return _refused(exc, agreement)
    flash(_("The clause was attached."), "success")
    return redirect(url_for("agreements.show", agreement_id=agreement.id))


@bp.route("/<int:agreement_id>/exemption", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def request_exemption(agreement_id: int):
    agreement = load_for_work(agreement_id)
    form = ExemptionForm()
    form.reason.choices = [SelectChoice(r, r) for r in services.exemption_reasons()]
    if not form.validate_on_submit():
        flash(_("Choose a reason and explain the exemption."), "error")
        return redirect(url_for("agreements.show", agreement_id=agreement.id))
    try:
        services.request_exemption(agreement, form.reason.data, (form.note.data or "").strip(),
                                   form.version.data or 0, current_user)
    except RegistryError as exc:
        return _refused(exc, agreement)
    flash(_("The exemption was requested; a second person must approve it."), "success")
    return redirect(url_for("agreements.show", agreement_id=agreement.id))


@bp.route("/<int:agreement_id>/exemption/approve", methods=["POST"])
@requires(Permission.EXEMPTIONS_APPROVE)
def approve_exemption(agreement_id: int):
    agreement = services.get_visible(agreement_id, current_user) or abort(404)
    form = ApproveExemptionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.approve_exemption(agreement, form.version.data or 0, current_user)
    except RegistryError as exc:
        return _refused(exc, agreement)
    flash(_("The exemption was approved."), "success")
    return redirect(url_for("agreements.show", agreement_id=agreement.id))


@bp.route("/<int:agreement_id>/document", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def generate_document(agreement_id: int):
    agreement = load_for_work(agreement_id)
    if not current_user.can(Permission.DOCUMENTS_PREPARE):
        abort(403)
    form = GenerateDocumentForm()
    if not form.validate_on_submit():
        flash(_("Enter the address of the contractor or grantee."), "error")
        return redirect(url_for("agreements.show", agreement_id=agreement.id))
    try:
        record = documents.generate(agreement, form.language.data,
                                    (form.counterparty_address.data or "").strip(),
                                    current_user)
    except (RegistryError, DocumentError) as exc:
        return _refused(exc, agreement)
    flash(_("The document was generated with the clause."), "success")
    return redirect(url_for("documents.show", record_id=record.id))


@bp.route("/<int:agreement_id>/verify", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def verify_document(agreement_id: int):
    agreement = load_for_work(agreement_id)
    form = VerifyDocumentForm()
    if not form.validate_on_submit():
        flash(_("Choose the returned document."), "error")
        return redirect(url_for("agreements.show", agreement_id=agreement.id))
    try:
        record = documents.check(agreement, form.document.data, current_user)
    except (RegistryError, DocumentError, ValueError) as exc:
        return _refused(exc, agreement)
    return redirect(url_for("documents.show", record_id=record.id))


@bp.route("/import", methods=["GET", "POST"])
@requires(Permission.RECORDS_WORK)
def import_records():
    form = ImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        kind = form.kind.data
        if not services.may_work_on(current_user, kind):
            abort(403)
        upload = form.file.data
        data = upload.stream.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
        try:
            report = import_file(kind, data, upload.filename or "", dry_run=form.dry_run.data,
                                 unit=current_user.org_unit, restrict_unit=True)
        except ImportFileError as exc:
            db.session.rollback()
            form.file.errors.append(str(exc))
            status = 422
        else:
            status = 422 if report.errors else 200
    elif form.errors:
        status = 400
    return render_template("agreements/import.html", form=form, report=report), status


@bp.route("/thresholds", methods=["GET", "POST"])
@requires(Permission.THRESHOLDS_MANAGE)
def thresholds():
    form = ThresholdForm()
    form.org_unit_id.choices = [SelectChoice(u.id, f"{u.code} – {u.name}")
                                 for u in all_units()]
    if form.validate_on_submit():
        services.set_threshold(form.org_unit_id.data, form.kind.data, form.amount.data)
        flash(_("The threshold was saved."), "success")
        return redirect(url_for("agreements.thresholds"))
    return render_template("agreements/thresholds.html", form=form,
                           rows=services.thresholds()), 400 if form.errors else 200


@bp.app_context_processor
def registry_labels() -> dict[str, object]:
    """Labels of the registry's codes, for every template (lists, detail pages, nav)."""
    from clause_tracker.agreements import labels
    from clause_tracker.agreements.models import STATUSES
    from clause_tracker.compliance import state
    from clause_tracker.declarations import lifecycle
    from clause_tracker.declarations.forms import PARTY_LABELS
    from clause_tracker.documents.web.routes import STATUS_LABELS as DOCUMENT_STATUS_LABELS

    def lookup(table):
        return lambda code: str(table.get(code, code or ""))

    return {
        "kind_label": lookup(labels.KIND_LABELS),
        "status_label": lookup(labels.STATUS_LABELS),
        "status_action_label": lookup(labels.STATUS_ACTION_LABELS),
        "contract_kind_label": lookup(labels.CONTRACT_KIND_LABELS),
        "procedure_label": lookup(labels.PROCEDURE_LABELS),
        "clause_method_label": lookup(labels.CLAUSE_METHOD_LABELS),
        "compliance_label": lookup(state.STATE_LABELS),
        "compliance_reason": state.reason_text,
        "declaration_state_label": lookup(lifecycle.STATE_LABELS),
        "declaration_action_label": lookup(lifecycle.ACTION_LABELS),
        "declaration_actions": lifecycle.actions_from,
        "not_required_label": lookup(labels.NOT_REQUIRED_LABELS),
        "party_label": lookup(PARTY_LABELS),
        "document_status_label": lookup(DOCUMENT_STATUS_LABELS),
        "agreement_statuses": STATUSES,
        "compliance_states": state.STATES,
    }
