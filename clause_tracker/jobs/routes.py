"""The operations page: the scheduler's heartbeat, the e-mail outbox and the records due
for erasure, with the two actions on them (requeue a message, erase a record's personal
data). Thin: services decide."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clause_tracker.checks import notifications
from clause_tracker.checks.forms import AssignForm
from clause_tracker.errors import returns_to
from clause_tracker.jobs import bp, heartbeat
from clause_tracker.permissions import Permission, requires
from clause_tracker.retention import services as retention


@bp.route("/admin")
@requires(Permission.COMPLIANCE_ADMIN)
def admin():
    stale = heartbeat.stale_after(current_app.config)
    return render_template("compliance/admin.html", beat=heartbeat.status(stale),
                           outbox=notifications.counts(), problems=notifications.problems(),
                           mail_outage=notifications.outage(),
                           retention_rows=retention.due_for_deletion())


@bp.route("/admin/retention/<int:agreement_id>/purge", methods=["POST"])
@requires(Permission.COMPLIANCE_ADMIN)
def purge(agreement_id: int):
    form = AssignForm()  # CSRF only
    if not form.validate_on_submit():
        abort(400)
    back = url_for("jobs.admin") + "#retention"
    returns_to(back)
    retention.purge(agreement_id, current_user.id)
    flash(_("The personal data of the record was erased."), "success")
    return redirect(back)


@bp.route("/admin/outbox/<int:message_id>/requeue", methods=["POST"])
@requires(Permission.COMPLIANCE_ADMIN)
def requeue(message_id: int):
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    if notifications.requeue(message_id):
        flash(_("The message is queued again."), "success")
    return redirect(url_for("jobs.admin") + "#outbox")
