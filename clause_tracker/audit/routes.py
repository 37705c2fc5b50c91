from __future__ import annotations

import re

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker.audit import bp, exports, messages
from clause_tracker.audit.forms import EventFilterForm
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.queries import (
    EventFilter,
    distinct_values,
    events_page,
    personal_parts,
)
from clause_tracker.audit.services import last_verification, verify_anchored
from clause_tracker.i18n import format_day
from clause_tracker.permissions import Permission, requires
from clause_tracker.request_args import page_number
from clause_tracker.request_chips import chips, clear_url

FILTER_LABELS = {"action": EventFilterForm.action.args[0],
                 "actor": EventFilterForm.actor.args[0],
                 "object_type": EventFilterForm.object_type.args[0],
                 "object_id": EventFilterForm.object_id.args[0],
                 "since": EventFilterForm.since.args[0],
                 "until": EventFilterForm.until.args[0]}


def _action_choices(selected: str | None) -> list[SelectChoice]:
    """The groups of actions (a prefix filters all its actions), each once, by label; a
    value from the URL the list lacks (one exact action) is offered too, shown selected."""
    groups = sorted({value.split(".")[0] for value in distinct_values(AuditEvent.action)},
                    key=lambda group: messages.action_label(group))
    choices = [SelectChoice("", _("All"))] + [
        SelectChoice(group, messages.action_label(group)) for group in groups]
    if selected and selected not in groups:
        choices.append(SelectChoice(selected, _action_value(selected)))
    return choices


def _action_value(action: str) -> str:
    """How an action filter reads: its group, or the message of the exact action."""
    if action in messages.ACTION_LABELS:
        return messages.action_label(action)
    template = messages.MESSAGES.get(messages.message_id(action))
    group = messages.action_label(action)
    if template is None:
        return group
    # The message's words without its placeholders: "Vertrag … erfasst".
    return f"{group}: {_strip(str(template))}"


def _strip(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"%\([a-z_]+\)s", "…", text)).strip()


def _object_choices(selected: str | None) -> list[SelectChoice]:
    types = distinct_values(AuditEvent.object_type)
    if selected and selected not in types:
        types.append(selected)
    return [SelectChoice("", _("All")), *sorted(
        (SelectChoice(value, messages.object_label(value)) for value in types),
        key=lambda choice: choice.label)]


def _filters(form: EventFilterForm) -> EventFilter:
    form.action.choices = _action_choices(request.args.get("action"))
    form.object_type.choices = _object_choices(request.args.get("object_type"))
    if not form.validate():
        return EventFilter()
    return EventFilter(
        action=form.action.data or None,
        actor=(form.actor.data or "").strip() or None,
        object_type=form.object_type.data or None,
        object_id=(form.object_id.data or "").strip() or None,
        since=form.since.data,
        until=form.until.data,
    )


def _chips(form: EventFilterForm, args: dict[str, str]):
    def day(field):
        return lambda _raw: format_day(field.data) if field.data else _raw
    values = {"action": _action_value, "object_type": messages.object_label,
              "since": day(form.since), "until": day(form.until)}
    return chips("audit.events", args, FILTER_LABELS, values), clear_url("audit.events", args)


@bp.route("/")
@requires(Permission.AUDIT_READ)
def events():
    form = EventFilterForm(request.args)
    filters = _filters(form)
    page = events_page(filters, request.args.get("page", 1, type=page_number))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    active, clear = _chips(form, args)
    return render_template("audit/events.html", form=form, page=page, args=args,
                           verification=last_verification(), chips=active, clear=clear,
                           personal=personal_parts(page.events),
                           rendered=messages.render_events(page.events))


@bp.route("/events.<fmt>")
@requires(Permission.AUDIT_READ)
def export(fmt: str):
    """The events the filters select, every page, with their messages in the reader's
    language; the export itself is recorded in the trail."""
    if fmt not in exports.FORMATS:
        abort(404)
    form = EventFilterForm(request.args)
    filters = _filters(form)
    body, count = exports.export(filters, fmt)
    exports.record_export(fmt, count, {k: v for k, v in request.args.items() if v})
    response = Response(body, mimetype=exports.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(fmt)}"')
    return response


@bp.route("/verify")
@requires(Permission.AUDIT_READ)
def verify():
    # The chain and the newest anchor of the anchor log: an emptied or shortened trail is
    # an intact chain, but falls short of the anchor.
    return render_template("audit/verify.html", result=verify_anchored())
