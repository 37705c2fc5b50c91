"""Meine Fristen, a check with its outcome, hearing and measures, complaints.
Thin: services decide."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clause_tracker.agreements import services as agreements
from clause_tracker.checks import bp, services
from clause_tracker.checks.forms import (
    AssignForm,
    BreachDecisionForm,
    ComplaintForm,
    DecisionForm,
    HearingForm,
    MeasureForm,
    OutcomeForm,
    PlanCompletionForm,
)
from clause_tracker.checks.models import (
    ComplianceCheck,
    Measure,
)
from clause_tracker.clock import today
from clause_tracker.errors import returns_to
from clause_tracker.extensions import db
from clause_tracker.permissions import Permission, requires
from clause_tracker.versioning import RefusedChange

# The field that holds what a measure of each kind needs (the action plan's deadline, …):
# where a refusal of that measure is shown, unless the check itself is not ready for one.
MEASURE_DETAIL = {"action_plan": "deadline", "penalty": "breaches",
                  "exclusion": "exclusion_until"}


def _check(check_id: int) -> ComplianceCheck:
    return services.get_visible(check_id, current_user) or abort(404)


def _for_work(check_id: int) -> ComplianceCheck:
    check = _check(check_id)
    if not services.may_work(current_user, check):
        abort(403)
    return check


def _url(check: ComplianceCheck, anchor: str = "") -> str:
    return url_for("checks.show", check_id=check.id) + anchor


def _back(check: ComplianceCheck, anchor: str = "") -> Response:
    return redirect(_url(check, anchor))


@bp.route("/")
@requires(Permission.REGISTRY_READ)
def deadlines():
    day = today()
    return render_template("compliance/deadlines.html",
                           checks=services.my_deadlines(current_user, day), today=day)


@bp.route("/agreement/<int:agreement_id>")
@requires(Permission.REGISTRY_READ)
def for_agreement(agreement_id: int):
    agreement = agreements.get_visible(agreement_id, current_user) or abort(404)
    return render_template("compliance/agreement.html", agreement=agreement,
                           checks=services.checks_of(agreement), today=today())


def _render_check(check: ComplianceCheck, measure_form: MeasureForm | None = None,
                  status: int = 200, refused: dict[int, tuple[str, str]] | None = None,
                  breach_form: BreachDecisionForm | None = None):
    """`refused`: measure id → (what is missing, the note typed), shown at that measure."""
    may_work = services.may_work(current_user, check)
    return render_template(
        "compliance/check.html", check=check, today=today(), may_work=may_work,
        refused=refused or {}, completion_form=PlanCompletionForm(formdata=None),
        complaints=services.complaints_of(check),
        assign_form=AssignForm(formdata=None, version=check.version_id),
        outcome_form=OutcomeForm(formdata=None, version=check.version_id),
        hearing_form=HearingForm(formdata=None),
        breach_form=breach_form or BreachDecisionForm(formdata=None, version=check.version_id),
        measure_form=measure_form or MeasureForm(formdata=None),
        decision_form=DecisionForm, may_approve=lambda measure: services.may_approve(
            current_user, measure)), status


@bp.route("/checks/<int:check_id>")
@requires(Permission.REGISTRY_READ)
def show(check_id: int):
    return _render_check(_check(check_id))


@bp.route("/checks/<int:check_id>/assign", methods=["POST"])
@requires(Permission.CHECKS_WORK)
def assign(check_id: int):
    check = _for_work(check_id)
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    returns_to(_url(check))
    services.assign(check, current_user, form.version.data)
    flash(_("The check is assigned to you."), "success")
    return _back(check)


@bp.route("/checks/<int:check_id>/outcome", methods=["POST"])
@requires(Permission.CHECKS_WORK)
def outcome(check_id: int):
    check = _for_work(check_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        flash(_("Choose the outcome."), "error")
        return _back(check, "#outcome")
    returns_to(_url(check, "#outcome"))
    services.record_outcome(check, form.outcome.data, form.note.data or "",
                            form.findings.data or "", current_user, form.version.data,
                            today())
    flash(_("The outcome is recorded."), "success")
    return _back(check, "#outcome")


@bp.route("/checks/<int:check_id>/hearing", methods=["POST"])
@requires(Permission.CHECKS_WORK)
def hearing(check_id: int):
    check = _for_work(check_id)
    form = HearingForm()
    if not form.validate_on_submit():
        flash(_("Enter the date and a summary of the hearing."), "error")
        return _back(check, "#hearings")
    returns_to(_url(check, "#hearings"))
    assert form.held_on.data is not None  # DataRequired
    services.record_hearing(check, form.held_on.data, form.summary.data or "", current_user,
                            today(), form.statement.data or "")
    flash(_("The hearing is recorded."), "success")
    return _back(check, "#hearings")


@bp.route("/checks/<int:check_id>/decision", methods=["POST"])
@requires(Permission.CHECKS_WORK)
def decide_breach(check_id: int):
    check = _for_work(check_id)
    form = BreachDecisionForm()
    if not form.validate_on_submit():
        # Shown again with the reasons as typed and each error at its field.
        flash(_("Choose whether the clause was breached and give the reasons."), "error")
        return _render_check(check, status=400, breach_form=form)
    returns_to(_url(check, "#decision"))
    services.decide_breach(check, form.decision.data, form.note.data or "", current_user,
                           form.version.data, today())
    flash(_("The decision is recorded."), "success")
    return _back(check, "#decision")


@bp.route("/checks/<int:check_id>/measures", methods=["POST"])
@requires(Permission.CHECKS_WORK)
def propose(check_id: int):
    check = _for_work(check_id)
    form = MeasureForm()
    if form.validate_on_submit():
        data = services.MeasureInput(form.kind.data, form.description.data or "",
                                     form.deadline.data, form.breaches.data,
                                     form.exclusion_until.data)
        try:
            services.propose_measure(check, data, current_user, today())
        except RefusedChange as exc:
            # The refusal goes next to the input it is about, so it can be corrected there.
            detail = MEASURE_DETAIL.get(form.kind.data)
            target = form[detail] if detail and check.hearings else form.kind
            target.errors = [*target.errors, str(exc)]
        else:
            flash(_("The measure is proposed; a second person must approve it."), "success")
            return _back(check, "#measures")
    # Shown again with what was typed and each error at its field.
    flash(_("Check the details of the measure."), "error")
    return _render_check(check, form, 400)


@bp.route("/measures/<int:measure_id>/decision", methods=["POST"])
@requires(Permission.MEASURES_APPROVE)
def decide(measure_id: int):
    measure = db.session.get(Measure, measure_id) or abort(404)
    check = _check(measure.check_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        # Said at the measure, with the note as typed: nothing the approver wrote is lost.
        missing = _("Choose whether to approve or to reject the measure.")
        return _render_check(check, status=400,
                             refused={measure.id: (missing, form.note.data or "")})
    returns_to(_url(check, "#measures"))
    services.decide_measure(measure, form.decision.data == "approve", form.note.data or "",
                            current_user, form.version.data)
    flash(_("The decision is recorded."), "success")
    return _back(check, "#measures")


@bp.route("/measures/<int:measure_id>/completion", methods=["POST"])
@requires(Permission.CHECKS_WORK)
def plan_completion(measure_id: int):
    measure = db.session.get(Measure, measure_id) or abort(404)
    check = _for_work(measure.check_id)
    form = PlanCompletionForm()
    if not form.validate_on_submit():
        flash(_("Say whether the action plan was done, and when."), "error")
        return _back(check, f"#measure-{measure.id}")
    returns_to(_url(check, f"#measure-{measure.id}"))
    assert form.on.data is not None  # DataRequired
    services.record_plan_completion(measure, form.outcome.data == "done", form.on.data,
                                    form.note.data or "", current_user, form.version.data,
                                    today())
    flash(_("The completion is recorded."), "success")
    return _back(check, f"#measure-{measure.id}")


@bp.route("/complaints/<int:agreement_id>", methods=["GET", "POST"])
@requires(Permission.CHECKS_WORK)
def complaint(agreement_id: int):
    agreement = agreements.get_visible(agreement_id, current_user) or abort(404)
    if not agreements.may_work_on(current_user, agreement):
        abort(403)
    form = ComplaintForm()
    if form.validate_on_submit():
        assert form.received_on.data is not None  # DataRequired
        try:
            check = services.record_complaint(agreement, form.case_reference.data or "",
                                              form.received_on.data, current_user, today())
        except RefusedChange as exc:
            form.case_reference.errors.append(str(exc))  # type: ignore[attr-defined]  # a list once validated
        else:
            flash(_("The complaint is linked and an ad-hoc check is open."), "success")
            return _back(check)
    return render_template("compliance/complaint.html", form=form, agreement=agreement), \
        400 if form.errors else 200
