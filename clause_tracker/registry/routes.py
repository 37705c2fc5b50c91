from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker import idempotency
from clause_tracker.agreements import documents, import_jobs, services, signed_copy
from clause_tracker.agreements.importing import (
    REQUIRED,
    ImportFileError,
    import_columns,
    import_file,
    template_csv,
    template_xlsx,
)
from clause_tracker.agreements.models import CONTRACT, ENDED_EARLY, GRANT, Agreement, ImportJob
from clause_tracker.agreements.services import RegistryError
from clause_tracker.audit.messages import render_events
from clause_tracker.audit.queries import personal_parts
from clause_tracker.clock import today
from clause_tracker.compliance.state import compliance_of
from clause_tracker.counterparties import services as counterparties
from clause_tracker.declarations import services as declarations
from clause_tracker.declarations.forms import (
    CommitmentForm,
    NotRequiredForm,
    TransitionForm,
)
from clause_tracker.errors import returns_to
from clause_tracker.extensions import db
from clause_tracker.idempotency import AlreadySubmitted
from clause_tracker.orgunits.services import all_units
from clause_tracker.permissions import Permission, requires
from clause_tracker.registry import bp, history, queries
from clause_tracker.registry.filter_chips import DRILLDOWN, registry_chips
from clause_tracker.registry.forms import (
    ApproveExemptionForm,
    ClauseForm,
    ContractForm,
    EndEarlyForm,
    ExemptionForm,
    GenerateDocumentForm,
    GrantForm,
    ImportForm,
    ManualCheckForm,
    SignedCopyForm,
    StatusForm,
    ThresholdForm,
    VerifyDocumentForm,
)
from clause_tracker.request_args import page_number
from clause_tracker.versioning import EditConflict

FORMS = {CONTRACT: ContractForm, GRANT: GrantForm}


def _back_to(agreement: Agreement) -> str:
    """The agreement's page: where its actions return, and where a refusal is shown."""
    url = url_for("registry.show", agreement_id=agreement.id)
    returns_to(url)
    return url


def _action(agreement_id: int, make_form: Callable[[Agreement], FlaskForm],
            perform: Callable[[Agreement, Any], object], done: str,
            invalid: str | None = None, load: Callable[[int, Any], Agreement] | None = None,
            ) -> Response | tuple[str, int]:
    """The shape of every action on an agreement's page: load it for work, validate the
    form (an incomplete one is a bad request, or a message where the user can mend it),
    perform the change, say it is done and return to the page. A refused change returns to
    the page with its reason (errors.handle_refused); a conflict with another save shows
    the page as it now is, with the message (409)."""
    agreement = (load or services.get_for_work)(agreement_id, current_user)
    back = _back_to(agreement)
    form = make_form(agreement)
    if not form.validate_on_submit():
        if invalid is None:
            abort(400)
        flash(invalid, "error")
        return redirect(back)
    try:
        perform(agreement, form)
    except EditConflict as exc:
        flash(str(exc), "error")
        return show(agreement_id), 409
    flash(done, "success")
    return redirect(back)


@bp.route("/")
@requires(Permission.REGISTRY_READ)
def index():
    filters = queries.ListFilter.from_args(request.args)
    page = queries.page(current_user, filters, request.args.get("page", 1, type=page_number))
    units = all_units() if current_user.can(Permission.ALL_UNITS) else []
    active, clear = registry_chips(page.args)
    return render_template("agreements/index.html", page=page, filters=filters, units=units,
                           chips=active, clear=clear,
                           hidden={k: v for k, v in page.args.items() if k in DRILLDOWN})


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
                return redirect(url_for("registry.index"))
            return redirect(url_for("registry.show", agreement_id=int(done.object_id)))
        except RegistryError as exc:
            form.reference.errors.append(str(exc))  # type: ignore[attr-defined]  # a list once validated
        else:
            flash(_("The record was saved as a draft."), "success")
            return redirect(url_for("registry.show", agreement_id=agreement.id))
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
    events = history.of(agreement)
    return render_template(
        "agreements/show.html", agreement=agreement, can_work=can_work,
        compliance=compliance_of(agreement.id),
        declarations=declarations.for_agreement(agreement),
        commitment=declarations.commitment_of(agreement),
        history=events, history_personal=personal_parts(events),
        history_rendered=render_events(events),
        documents=documents.for_agreement(agreement.id),
        status_form=StatusForm(formdata=None, **version),
        clause_form=ClauseForm(formdata=None, **version).for_kind(agreement.kind),
        exemption_form=exemption_form,
        approve_form=ApproveExemptionForm(formdata=None, **version),
        generate_form=GenerateDocumentForm(
            formdata=None, counterparty_address=counterparty.address if counterparty else "",
            **version),
        verify_form=VerifyDocumentForm(formdata=None),
        copy_expected=signed_copy.expected_for(agreement),
        returned=signed_copy.returned(agreement.id),
        signed_copy_form=SignedCopyForm(formdata=None),
        manual_form=ManualCheckForm(formdata=None),
        transition_form=TransitionForm(formdata=None),
        not_required_form=NotRequiredForm(formdata=None),
        commitment_form=CommitmentForm(formdata=None),
        threshold=services.threshold_for(agreement.org_unit_id, agreement.kind),
    )


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_WORK)
def edit(agreement_id: int):
    agreement = services.get_for_work(agreement_id, current_user)
    form = FORMS[agreement.kind](obj=agreement)
    form.set_counterparties(counterparties.choices())
    if request.method == "GET":
        form.version.data = agreement.version_id
        form.counterparty_id.data = agreement.counterparty_id or 0
    status = 200
    if form.validate_on_submit():
        try:
            services.update(agreement, form.values(), form.version.data or 0, current_user)
        except EditConflict as exc:
            flash(str(exc), "error")
            status = 409
        except RegistryError as exc:
            form.reference.errors.append(str(exc))  # type: ignore[attr-defined]  # a list once validated
            status = 400
        else:
            flash(_("The changes were saved."), "success")
            return redirect(url_for("registry.show", agreement_id=agreement.id))
    elif form.errors:
        status = 400
    return render_template("agreements/form.html", form=form, kind=agreement.kind,
                           agreement=agreement), status


@bp.route("/<int:agreement_id>/status", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def change_status(agreement_id: int):
    return _action(agreement_id, lambda _a: StatusForm(), lambda a, f: services.change_status(
        a, f.status.data, f.version.data or 0, current_user), _("The status was changed."))


@bp.route("/<int:agreement_id>/end/<status>", methods=["GET", "POST"])
@requires(Permission.RECORDS_WORK)
def end_early(agreement_id: int, status: str):
    agreement = services.get_for_work(agreement_id, current_user)
    if status not in ENDED_EARLY or status not in agreement.next_statuses:
        abort(404)
    form = EndEarlyForm(version=agreement.version_id)
    if request.method == "GET":
        form.ended_on.data = today()
    elif form.validate_on_submit():
        returns_to(url_for("registry.end_early", agreement_id=agreement.id, status=status))
        assert form.ended_on.data is not None  # DataRequired
        try:
            services.change_status(agreement, status, form.version.data or 0, current_user,
                                   reason=form.reason.data or "", on=form.ended_on.data)
        except EditConflict as exc:  # what was typed stays in the form
            flash(str(exc), "error")
            return render_template("agreements/end_early.html", agreement=agreement,
                                   form=form, status=status), 409
        flash(_("The status was changed."), "success")
        return redirect(url_for("registry.show", agreement_id=agreement.id))
    return render_template("agreements/end_early.html", agreement=agreement, form=form,
                           status=status), 400 if form.errors else 200


@bp.route("/<int:agreement_id>/clause", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def attach_clause(agreement_id: int):
    return _action(agreement_id, lambda a: ClauseForm().for_kind(a.kind),
                   lambda a, f: services.attach_clause(a, f.method.data, f.language.data,
                                                       f.version.data or 0, current_user),
                   _("The clause was attached."))


@bp.route("/<int:agreement_id>/exemption", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def request_exemption(agreement_id: int):
    def form(_agreement: Agreement) -> ExemptionForm:
        exemption = ExemptionForm()
        exemption.reason.choices = [SelectChoice(r, r) for r in services.exemption_reasons()]
        return exemption

    return _action(agreement_id, form, lambda a, f: services.request_exemption(
        a, f.reason.data, f.note.data.strip(), f.version.data or 0, current_user),
        _("The exemption was requested; a second person must approve it."),
        invalid=_("Choose a reason and explain the exemption."))


@bp.route("/<int:agreement_id>/exemption/approve", methods=["POST"])
@requires(Permission.EXEMPTIONS_APPROVE)
def approve_exemption(agreement_id: int):
    # The approver sees the record but need not handle its kind (administrators approve).
    return _action(agreement_id, lambda _a: ApproveExemptionForm(),
                   lambda a, f: services.approve_exemption(a, f.version.data or 0, current_user),
                   _("The exemption was approved."),
                   load=lambda i, user: services.get_visible(i, user) or abort(404))


@bp.route("/<int:agreement_id>/document", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def generate_document(agreement_id: int):
    agreement = services.get_for_work(agreement_id, current_user)
    if not current_user.can(Permission.DOCUMENTS_PREPARE):
        abort(403)
    back = _back_to(agreement)
    form = GenerateDocumentForm()
    if not form.validate_on_submit():
        flash(_("Enter the address of the contractor or grantee."), "error")
        return redirect(back)
    record = documents.generate(agreement, form.language.data,
                                (form.counterparty_address.data or "").strip(), current_user)
    flash(_("The document was generated with the clause."), "success")
    return redirect(url_for("documents.show", record_id=record.id))


@bp.route("/<int:agreement_id>/verify", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def verify_document(agreement_id: int):
    agreement = services.get_for_work(agreement_id, current_user)
    back = _back_to(agreement)
    form = VerifyDocumentForm()
    if not form.validate_on_submit():
        flash(_("Choose the returned document."), "error")
        return redirect(back)
    record = documents.check(agreement, form.document.data, current_user)
    return redirect(url_for("documents.show", record_id=record.id))


@bp.route("/<int:agreement_id>/signed-copy/confirm", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def confirm_signed_copy(agreement_id: int):
    return _action(agreement_id, lambda _a: SignedCopyForm(),
                   lambda a, f: signed_copy.confirm_ocr_match(a, f.record_id.data, current_user),
                   _("The scan was confirmed as the clause."))


@bp.route("/<int:agreement_id>/signed-copy/manual", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def manual_check(agreement_id: int):
    return _action(agreement_id, lambda _a: ManualCheckForm(),
                   lambda a, f: signed_copy.propose_manual_check(a, f.reason.data,
                                                                 current_user),
                   _("The manual check was recorded; a second person must approve it."),
                   invalid=_("Say why the signed copy can only be checked by hand."))


@bp.route("/<int:agreement_id>/signed-copy/approve", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def approve_manual_check(agreement_id: int):
    return _action(agreement_id, lambda _a: SignedCopyForm(),
                   lambda a, f: signed_copy.approve_manual_check(a, f.record_id.data,
                                                                 current_user),
                   _("The manual check was approved."))


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
        if import_jobs.runs_in_background(data):
            if current_user.org_unit is None:
                form.file.errors.append(_("Your account belongs to no unit; ask an "
                                          "administrator."))
                return render_template("agreements/import.html", form=form, report=None,
                                       columns={k: import_columns(k) for k in (CONTRACT, GRANT)},
                                       required=REQUIRED), 422
            job = import_jobs.queue(kind, data, upload.filename or "", dry_run=form.dry_run.data,
                                    unit=current_user.org_unit, restrict_unit=True,
                                    user=current_user)
            return redirect(url_for("registry.import_job", job_id=job.id), 303)
        try:
            report = import_file(kind, data, upload.filename or "", dry_run=form.dry_run.data,
                                 unit=current_user.org_unit, restrict_unit=True,
                                 user=current_user)
        except ImportFileError as exc:
            form.file.errors.append(str(exc))
            status = 422
        else:
            status = 422 if report.errors else 200
    elif form.errors:
        status = 400
    return render_template("agreements/import.html", form=form, report=report,
                           columns={k: import_columns(k) for k in (CONTRACT, GRANT)},
                           required=REQUIRED), status


TEMPLATE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.route("/import/template.<fmt>")
@requires(Permission.RECORDS_WORK)
def import_template(fmt: str):
    """An empty import file with the columns in the user's language and one example row
    (XLSX: and a sheet of notes on each column)."""
    kind = request.args.get("kind", CONTRACT)
    if fmt not in TEMPLATE_TYPES or kind not in (CONTRACT, GRANT):
        abort(404)
    unit = current_user.org_unit.code if current_user.org_unit is not None else "ZVS"
    make = template_csv if fmt == "csv" else template_xlsx
    name = _("import-contracts") if kind == CONTRACT else _("import-grants")
    response = send_file(io.BytesIO(make(kind, unit)), mimetype=TEMPLATE_TYPES[fmt],
                         as_attachment=True, download_name=f"{name}.{fmt}", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def _own_job(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None or not import_jobs.visible_to(job, current_user):
        abort(404)
    return job


@bp.route("/imports/<int:job_id>")
@requires(Permission.RECORDS_WORK)
def import_job(job_id: int):
    """A queued import: its progress while it runs, its report when it has ended."""
    job = _own_job(job_id)
    return render_template("agreements/import_job.html", job=job,
                           report=import_jobs.report_of(job),
                           expected=import_jobs.expected_rows(job),
                           progress=import_jobs.progress_text(job))


@bp.route("/imports/<int:job_id>/status")
@requires(Permission.RECORDS_WORK)
def import_job_status(job_id: int):
    job = _own_job(job_id)
    return {"status": job.status, "finished": job.status in (import_jobs.DONE,
                                                             import_jobs.FAILED),
            "rows_checked": job.rows_checked, "rows_expected": import_jobs.expected_rows(job),
            "text": import_jobs.progress_text(job)}


@bp.route("/thresholds", methods=["GET", "POST"])
@requires(Permission.THRESHOLDS_MANAGE)
def thresholds():
    form = ThresholdForm()
    form.org_unit_id.choices = [SelectChoice(u.id, f"{u.code} – {u.name}")
                                 for u in all_units()]
    if form.validate_on_submit():
        services.set_threshold(form.org_unit_id.data, form.kind.data, form.amount.data)
        flash(_("The threshold was saved."), "success")
        return redirect(url_for("registry.thresholds"))
    return render_template("agreements/thresholds.html", form=form,
                           rows=services.thresholds()), 400 if form.errors else 200
