from __future__ import annotations

from flask import render_template, request
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker.audit import bp
from clause_tracker.audit.forms import EventFilterForm
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.queries import EventFilter, distinct_values, events_page
from clause_tracker.audit.services import last_verification, verify_anchored
from clause_tracker.permissions import Permission, requires
from clause_tracker.request_args import page_number


def _choices(values: list[str]) -> list[SelectChoice]:
    return [SelectChoice("", "—")] + [SelectChoice(v, v) for v in values]


@bp.route("/")
@requires(Permission.AUDIT_READ)
def events():
    form = EventFilterForm(request.args)
    form.action.choices = _choices(distinct_values(AuditEvent.action))
    form.object_type.choices = _choices(distinct_values(AuditEvent.object_type))
    filters = EventFilter()
    if form.validate():
        filters = EventFilter(
            action=form.action.data or None,
            actor=(form.actor.data or "").strip() or None,
            object_type=form.object_type.data or None,
            object_id=(form.object_id.data or "").strip() or None,
            since=form.since.data,
            until=form.until.data,
        )
    page = events_page(filters, request.args.get("page", 1, type=page_number))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("audit/events.html", form=form, page=page, args=args,
                           verification=last_verification())


@bp.route("/verify")
@requires(Permission.AUDIT_READ)
def verify():
    # The chain and the newest anchor of the anchor log: an emptied or shortened trail is
    # an intact chain, but falls short of the anchor.
    return render_template("audit/verify.html", result=verify_anchored())
