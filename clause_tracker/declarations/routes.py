from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker import idempotency
from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.models import Agreement
from clause_tracker.agreements.services import RegistryError
from clause_tracker.declarations import bp, services
from clause_tracker.declarations.evidence import (
    EvidenceError,
    accept_upload,
    download_name,
    download_type,
)
from clause_tracker.declarations.forms import (
    CommitmentForm,
    NotRequiredForm,
    ReceiveForm,
    RequestForm,
    TransitionForm,
)
from clause_tracker.declarations.labels import GRANT_PARTY_LABELS
from clause_tracker.declarations.models import Declaration
from clause_tracker.errors import returns_to
from clause_tracker.idempotency import AlreadySubmitted
from clause_tracker.permissions import Permission, requires
from clause_tracker.storage import send_stored


def _visible_declaration(declaration_id: int) -> Declaration:
    decl = services.get(declaration_id) or abort(404)
    agreements.get_visible(decl.agreement_id, current_user) or abort(404)
    return decl


def _for_work(declaration_id: int) -> Declaration:
    decl = _visible_declaration(declaration_id)
    if not agreements.may_work_on(current_user, decl.agreement):
        abort(403)
    return decl


def _page_of(agreement: Agreement | int) -> str:
    """The agreement's declarations: where these actions return, refused or done."""
    agreement_id = agreement if isinstance(agreement, int) else agreement.id
    url = url_for("registry.show", agreement_id=agreement_id) + "#declarations"
    returns_to(url)
    return url


def _back(agreement: Agreement | int) -> Response:
    return redirect(_page_of(agreement))


def _already_sent(agreement_id: int):
    flash(_("This form was already sent; it was saved once."), "info")
    return _back(agreement_id)


@bp.route("/request/<int:agreement_id>", methods=["GET", "POST"])
@requires(Permission.RECORDS_WORK)
def request_declaration(agreement_id: int):
    agreement = agreements.get_for_work(agreement_id, current_user)
    form = RequestForm()
    if agreement.kind != "contract":
        form.party.choices = [SelectChoice("main", GRANT_PARTY_LABELS["main"])]
    if form.validate_on_submit():
        token, requested_on, days = form.once.data, form.requested_on.data, form.working_days.data
        assert token is not None and requested_on is not None and days is not None  # required
        try:
            if idempotency.already_done(token):
                raise AlreadySubmitted(token)
            services.request(agreement, form.party.data, (form.party_name.data or "").strip(),
                             requested_on, days, current_user, token)
        except AlreadySubmitted:
            return _already_sent(agreement.id)
        except RegistryError as exc:
            form.party.errors.append(str(exc))  # type: ignore[attr-defined]  # a list once validated
        else:
            flash(_("The declaration was requested."), "success")
            return _back(agreement)
    return render_template("declarations/request.html", form=form, agreement=agreement), \
        400 if form.errors else 200


@bp.route("/not-required/<int:agreement_id>", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def not_required(agreement_id: int):
    agreement = agreements.get_for_work(agreement_id, current_user)
    back = _page_of(agreement)
    form = NotRequiredForm()
    if not form.validate_on_submit():
        abort(400)
    services.not_required(agreement, form.reason.data or "", current_user)
    flash(_("Recorded: no declaration is required."), "success")
    return redirect(back)


@bp.route("/<int:declaration_id>/receive", methods=["GET", "POST"])
@requires(Permission.RECORDS_WORK)
def receive(declaration_id: int):
    decl = _for_work(declaration_id)
    back = _page_of(decl.agreement_id)
    form = ReceiveForm()
    if not form.is_submitted():
        form.version.data = decl.version_id
    status = 200
    if form.validate_on_submit():
        token, signed_on, received_on = form.once.data, form.signed_on.data, form.received_on.data
        assert token is not None and signed_on is not None and received_on is not None  # required
        if idempotency.already_done(token):
            return _already_sent(decl.agreement_id)
        try:
            evidence = accept_upload(form.evidence.data) if form.evidence.data else None
        except EvidenceError as exc:
            form.evidence.errors.append(str(exc))
            status = 422
        else:
            try:
                idempotency.spend(token, "Declaration", decl.id)
                services.receive(
                    decl, signer_name=(form.signer_name.data or "").strip(),
                    signer_function=(form.signer_function.data or "").strip(),
                    signed_on=signed_on, received_on=received_on,
                    channel=form.channel.data, valid_until=form.valid_until.data,
                    evidence=evidence, expected_version=form.version.data or 0,
                    user=current_user)
            except AlreadySubmitted:
                return _already_sent(decl.agreement_id)
            flash(_("The declaration was recorded as received."), "success")
            return redirect(back)
    elif form.errors:
        status = 400
    return render_template("declarations/receive.html", form=form, decl=decl), status


@bp.route("/<int:declaration_id>/transition", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def transition(declaration_id: int):
    decl = _for_work(declaration_id)
    back = _page_of(decl.agreement_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400)
    services.transition(decl, form.action.data or "", (form.note.data or "").strip(),
                        form.version.data or 0, current_user)
    flash(_("The declaration was updated."), "success")
    return redirect(back)


@bp.route("/<int:declaration_id>/evidence")
@requires(Permission.REGISTRY_READ)
def evidence(declaration_id: int):
    decl = _visible_declaration(declaration_id)
    if not decl.evidence_key:
        abort(404)
    # Name and type from the content's detected type, also for evidence stored before
    # the name was corrected on upload.
    return send_stored(decl.evidence_key, download_type(decl.evidence_mimetype),
                       download_name(decl.evidence_filename, decl.evidence_mimetype))


@bp.route("/commitment/<int:agreement_id>", methods=["POST"])
@requires(Permission.GRANTS_MANAGE)
def commitment(agreement_id: int):
    agreement = agreements.get_for_work(agreement_id, current_user)
    back = _page_of(agreement)
    form = CommitmentForm()
    if not form.validate_on_submit():
        flash(_("Enter a score between 0 and 10."), "error")
        return redirect(back)
    assert form.score.data is not None  # InputRequired
    services.record_commitment(agreement, form.score.data, (form.notes.data or "").strip(),
                               current_user)
    flash(_("The voluntary self-commitment was recorded."), "success")
    return redirect(back)
