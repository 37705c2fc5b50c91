"""What an audit event says, in the reader's language.

Each event is written with a message id and its parameters in its chained details
(`"msg"`, `"params"`): `record` derives them from the action and details (`derive`) and
merges the parameters the caller adds (a record's reference). The page renders the
message from the catalogue below, each parameter formatted by its kind (a status through
its label, a day as TT.MM.JJJJ, an amount in euros). Events written before the message
id existed are rendered the same way from their action and details (best effort: the
reference of their record is looked up).

Personal values (names, notes) are never parameters: they stay in the event's erasable
personal part and are shown beside the message.

The labels of the other packages' codes are registered here at start-up (`register_labels`,
by `templating`), so the trail, low in the layers, reads them without importing upward.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import url_for
from flask_babel import format_currency, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from clause_tracker.i18n import format_day

MSG, PARAMS = "msg", "params"

# message id -> text (lazy: rendered in the reader's language)
MESSAGES: dict[str, Any] = {
    "contract.create": _l("Contract %(reference)s recorded"),
    "grant.create": _l("Grant %(reference)s recorded"),
    "contract.update": _l("%(reference)s changed: %(fields)s"),
    "grant.update": _l("%(reference)s changed: %(fields)s"),
    "contract.status": _l("%(reference)s: %(from)s → %(to)s"),
    "grant.status": _l("%(reference)s: %(from)s → %(to)s"),
    "contract.import": _l("%(count)s contracts imported from %(file)s, lines %(first)s–%(last)s"),
    "grant.import": _l("%(count)s grants imported from %(file)s, lines %(first)s–%(last)s"),
    "contract.import_file": _l("%(created)s contracts imported from %(file)s, "
                               "%(skipped)s already registered"),
    "grant.import_file": _l("%(created)s grants imported from %(file)s, "
                            "%(skipped)s already registered"),
    "agreement.clause_attach": _l("Clause attached to %(reference)s: %(method)s"),
    "agreement.exemption_request": _l("Exemption requested for %(reference)s: %(reason)s"),
    "agreement.exemption_approve": _l("Exemption approved for %(reference)s: %(reason)s"),
    "agreement.exemption_void": _l("Exemption of %(reference)s void: %(fields)s changed"),
    "threshold.set": _l("Declaration threshold for %(kind)s: %(from)s → %(to)s"),
    "counterparty.create": _l("Contractor or grantee recorded: %(name)s"),
    "counterparty.update": _l("Contractor or grantee %(name)s changed: %(fields)s"),
    "counterparty.contact_add": _l("Contact person added"),
    "counterparty.import": _l("%(count)s contractors and grantees recorded by import from "
                              "%(file)s"),
    "import.queue": _l("%(file)s queued for import"),
    "import.checked": _l("%(file)s: %(rows)s rows checked, %(errors)s errors, nothing imported"),
    "import.fail": _l("%(file)s: not imported"),
    "document.ocr_confirm": _l("Scan of %(reference)s confirmed as the clause"),
    "document.manual_check": _l("Manual check of the signed copy of %(reference)s proposed"),
    "document.manual_check_approve": _l("Manual check of the signed copy of %(reference)s "
                                        "approved"),
    "document.insert": _l("Clause inserted into a document"),
    "document.generate": _l("Document %(reference)s generated with the clause"),
    "document.verify": _l("Returned document checked: %(status)s"),
    "declaration.request": _l("%(reference)s: declaration requested, deadline %(deadline)s"),
    "declaration.not_required": _l("%(reference)s: no declaration required (%(reason)s)"),
    "declaration.void": _l("%(reference)s: “no declaration required” void, the values it "
                           "was decided on changed"),
    "declaration.receive": _l("%(reference)s: declaration received"),
    "declaration.state": _l("%(reference)s: declaration %(from)s → %(to)s"),
    "grant.self_commitment": _l("%(reference)s: voluntary self-commitment scored "
                                "%(score)s of %(max)s"),
    "compliance.assign": _l("%(reference)s: check assigned"),
    "compliance.outcome": _l("%(reference)s: check done: %(outcome)s"),
    "compliance.hearing": _l("%(reference)s: hearing held on %(held_on)s"),
    "compliance.decision": _l("%(reference)s: decided: %(decision)s"),
    "compliance.measure.propose": _l("%(reference)s: measure proposed: %(measure)s"),
    "compliance.measure.approved": _l("%(reference)s: measure approved"),
    "compliance.measure.rejected": _l("%(reference)s: measure rejected"),
    "compliance.measure.completion": _l("%(reference)s: action plan: %(completion)s"),
    "compliance.complaint": _l("%(reference)s: complaint linked, check opened"),
    "compliance.sweep": _l("Daily sweep of %(day)s: %(step)s: %(rows)s"),
    "outbox.requeue": _l("E-mail %(id)s queued again"),
    "retention.purge": _l("%(reference)s: personal data erased after the retention period"),
    "clause.publish": _l("Clause version published: %(variant)s, version %(version)s "
                         "(%(language)s)"),
    "orgunit.create": _l("Unit %(code)s created: %(name)s"),
    "audit.erased": _l("Personal data of %(count)s events erased"),
    "audit.verified": _l("Audit trail checked: intact, %(count)s events"),
    "audit.verified.tampered": _l("Audit trail checked: tampered with at event %(event)s"),
    "audit.redactions_pinned": _l("Redacted forms of older events fixed"),
    "audit.export": _l("Audit trail exported (%(format)s, %(count)s events)"),
    "auth.login": _l("Signed in"),
    "auth.logout": _l("Signed out"),
    "auth.login_failed": _l("Failed sign-in"),
    "auth.login_refused_locked": _l("Sign-in refused: the account is locked"),
    "auth.locked": _l("Account locked after repeated failed sign-ins"),
    "auth.password_ok": _l("Password right, second factor awaited"),
    "user.create": _l("User %(username)s created with role %(role)s"),
    "user.password_set": _l("Password set for %(username)s"),
    "user.password_changed": _l("Password changed by %(username)s"),
    "user.password_reset": _l("Password of %(username)s reset"),
    "user.activate": _l("User %(username)s activated"),
    "user.deactivate": _l("User %(username)s deactivated"),
    "user.role": _l("Role of %(username)s set to %(role)s"),
    "user.sessions_ended": _l("Sessions of %(username)s ended"),
    "user.unlock": _l("Account %(username)s unlocked"),
    "user.locale": _l("Language set to %(language)s"),
    "user.totp_setup": _l("Second factor set-up started by %(username)s"),
    "user.totp_enabled": _l("%(username)s set up a second factor"),
    "user.totp_disabled": _l("%(username)s removed the second factor"),
    "user.totp_reset": _l("Second factor of %(username)s removed"),
    "user.service_account": _l("%(username)s is a service account (API tokens only)"),
    "user.directory_create": _l("User %(username)s created from the directory with role "
                                "%(role)s"),
    "user.directory_activate": _l("%(username)s reactivated from the directory"),
    "user.directory_update": _l("%(username)s updated from the directory"),
    "user.directory_deactivate": _l("Account %(username)s deactivated: the directory no "
                                    "longer grants access"),
    "user.directory_sync": _l("Directory accounts synchronised"),
    "auth.directory_name_taken": _l("Directory entry refused: %(username)s is a local account"),
    "auth.directory_refused": _l("Sign-in through the directory refused: no access"),
    "auth.directory_unavailable": _l("Sign-in through the directory impossible: the directory "
                                     "cannot be reached"),
    "api_token.create": _l("API token for %(username)s created"),
    "api_token.revoke": _l("API token revoked"),
    "eforms_buyer.add": _l("eForms buyer %(buyer)s assigned to unit %(unit)s"),
    "eforms_buyer.remove": _l("eForms buyer %(buyer)s no longer assigned to unit %(unit)s"),
    "eccar.narrative": _l("ECCAR report %(start)s–%(end)s: text of a section changed"),
    "orgunit.update": _l("Unit %(code)s changed: %(fields)s"),
    "storage.migrate": _l("Stored files moved to another storage: %(copied)s copied, "
                          "%(present)s already there"),
}
UNKNOWN = _l("Change recorded")

# The record types, as the reader names them (filters, the "Record" column).
OBJECT_TYPE_LABELS: dict[str, Any] = {
    "Agreement": _l("Contract or grant"),
    "Declaration": _l("Declaration"),
    "DocumentRecord": _l("Document"),
    "ComplianceCheck": _l("Check"),
    "Counterparty": _l("Contractor or grantee"),
    "ClauseVersion": _l("Clause version"),
    "User": _l("User"),
    "OrgUnit": _l("Unit"),
    "Import": _l("Import"),
    "Sweep": _l("Daily sweep"),
    "OutboxMessage": _l("E-mail"),
    "AuditTrail": _l("Audit trail"),
    "ApiToken": _l("API token"),
    "EformsBuyer": _l("eForms buyer"),
    "EccarNarrative": _l("ECCAR report text"),
    "StoredFiles": _l("Stored files"),
}

# The actions, grouped as the filter offers them (a prefix filters all its actions).
ACTION_LABELS: dict[str, Any] = {
    "contract": _l("Contracts"),
    "grant": _l("Grants"),
    "agreement": _l("Clause and exemptions"),
    "declaration": _l("Declarations"),
    "compliance": _l("Checks and measures"),
    "document": _l("Documents"),
    "counterparty": _l("Contractors and grantees"),
    "import": _l("Imports"),
    "threshold": _l("Declaration thresholds"),
    "clause": _l("Clause library"),
    "orgunit": _l("Units"),
    "user": _l("Users"),
    "auth": _l("Sign-in and sign-out"),
    "outbox": _l("E-mails"),
    "retention": _l("Retention"),
    "audit": _l("Audit trail"),
    "api_token": _l("API tokens"),
    "eforms_buyer": _l("eForms buyers"),
    "eccar": _l("ECCAR report"),
    "storage": _l("Stored files"),
}

# Where a record type's page is: (endpoint, its argument, the permission it needs).
OBJECT_ENDPOINTS = {
    "Agreement": ("registry.show", "agreement_id", "registry_read"),
    "ComplianceCheck": ("checks.show", "check_id", "registry_read"),
    "DocumentRecord": ("documents.show", "record_id", "documents_read"),
    "Counterparty": ("counterparties.show", "counterparty_id", "registry_read"),
    "User": ("auth.user_detail", "user_id", "users_manage"),
    "Import": ("registry.import_job", "job_id", "records_work"),
}

# parameter name -> the label table (or formatter) it is shown through
PARAM_KINDS = {
    "from": "value", "to": "value", "status": "document_status", "method": "clause_method",
    "reason": "exemption_reason", "kind": "kind", "outcome": "outcome",
    "decision": "decision", "measure": "measure", "completion": "completion",
    "fields": "fields", "role": "role", "step": "sweep_step", "language": "language",
    "variant": "variant",
    "deadline": "date", "held_on": "date", "day": "date", "start": "date", "end": "date",
}

_labels: dict[str, Mapping[Any, Any]] = {}
_references: list[Callable[[Iterable[int]], dict[int, str]]] = []
_usernames: list[Callable[[Iterable[int]], dict[int, str]]] = []


def register_labels(kind: str, table: Mapping[Any, Any]) -> None:
    """Labels of a parameter kind (a package's codes), registered at start-up."""
    _labels[kind] = table


def register_reference_lookup(lookup: Callable[[Iterable[int]], dict[int, str]]) -> None:
    """agreement ids -> references, for events written without the reference."""
    _references[:] = [lookup]


def register_username_lookup(lookup: Callable[[Iterable[int]], dict[int, str]]) -> None:
    """user ids -> user names, for user events written without the name."""
    _usernames[:] = [lookup]


def _label(kind: str, code: Any) -> str | None:
    table = _labels.get(kind)
    if table is None or code not in table:
        return None
    return str(table[code])


def code_label(kind: str, code: Any) -> str:
    """A code through its registered labels, the code itself where none is known."""
    return _label(kind, code) or str(code)


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, date):
        return format_day(value)
    return str(value)


def _amount(value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        return format_currency(Decimal(str(value)), "EUR")
    except (InvalidOperation, ValueError):
        return str(value)


def _value(kind: str, value: Any, context: dict[str, Any]) -> str:
    """One parameter shown by its kind; codes without a label are shown as they are
    (the catalogue and the label tables cover every code the app writes)."""
    if value is None:
        return "—"
    if kind == "date":
        return _day(value)
    if kind == "amount":
        return _amount(value)
    if kind == "fields":
        names = value if isinstance(value, list | tuple) else list(value)
        return ", ".join(_label("field", name) or str(name) for name in names)
    if kind == "value":  # a state: of an agreement, a declaration or a check
        table = context.get("states", "status")
        if table == "amount":
            return _amount(value)
        if context.get("grant"):
            found = _label("grant_status", value)
            if found:
                return found
        return _label(table, value) or str(value)
    if kind == "kind" and context.get("msg") == "threshold.set":
        return _label("kind", value) or str(value)
    if kind == "exemption_reason" and context.get("msg") == "declaration.not_required":
        kind = "not_required"
    found = _label(kind, value)
    if found is not None:
        return found
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float | Decimal):
        return format_decimal(value)
    return str(value)


def message_id(action: str) -> str:
    """The message of an action: declarations share one for their state changes, checks
    with their measures one per step."""
    if action in MESSAGES:
        return action
    if action.startswith("declaration."):
        return "declaration.state"
    return action


def derive(action: str, details: Mapping[str, Any], summary: str = "") -> dict[str, Any]:
    """The message parameters in an event's details (no personal values ever are)."""
    params: dict[str, Any] = {}
    for key in ("reference", "from", "to", "status", "method", "reason", "kind", "outcome",
                "decision", "deadline", "held_on", "completion", "score", "file", "rows",
                "errors", "created", "name", "code", "step", "username", "unit", "copied",
                "present"):
        if key in details and not isinstance(details[key], dict | list):
            params[key] = details[key]
    changes = details.get("changes")
    if isinstance(changes, dict | list):
        params["fields"] = sorted(changes)
    if "run_on" in details:
        params["day"] = details["run_on"]
    if "skipped" in details:
        skipped = details["skipped"]
        params["skipped"] = len(skipped) if isinstance(skipped, list) else skipped
    if "lines" in details and isinstance(details["lines"], list) and details["lines"]:
        params["first"], params["last"] = details["lines"][0], details["lines"][-1]
    for key in ("agreements", "counterparties"):
        if isinstance(details.get(key), dict):
            params["count"] = len(details[key])
    if action == "audit.erased":
        params["count"] = details.get("events")
    if action in ("audit.verified", "audit.export"):
        params["count"] = details.get("checked", details.get("count"))
        params["format"] = details.get("format")
        problem = details.get("problem")
        if isinstance(problem, dict):
            params["event"] = problem.get("event_id")
    if action == "measure.propose" or action.endswith("measure.propose"):
        params["measure"] = details.get("kind")
    if action == "grant.self_commitment":
        params["max"] = details.get("max", 5)
    if action == "threshold.set":
        params["kind"] = details.get("kind")
    if action.startswith("eforms_buyer."):
        params["buyer"] = details.get("name") or details.get("company_id")
    if action == "eccar.narrative":
        params["start"], params["end"] = details.get("period_start"), details.get("period_end")
    return params


def stamp(action: str, details: dict[str, Any], params: Mapping[str, Any] | None,
          summary: str) -> dict[str, Any]:
    """The details to store: with the message id and its parameters (hashed with them)."""
    found = derive(action, details, summary)
    found.update({k: v for k, v in (params or {}).items() if v is not None})
    return {**details, MSG: message_id(action), PARAMS: found}


@dataclass(frozen=True)
class Rendered:
    text: str
    url: str | None
    record: str  # the record's type and id as the reader names them
    lang: str | None = None  # "en": an action the catalogue does not know, its summary


def _context(msg: str, action: str, params: Mapping[str, Any],
             details: Mapping[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {"msg": msg, "grant": action.startswith("grant.")}
    if msg == "declaration.state" or action.startswith("declaration."):
        context["states"] = "declaration_state"
    elif action.startswith("compliance."):
        context["states"] = "stage"
    elif msg == "threshold.set":
        context["states"] = "amount"
    if details.get("kind") == "grant":
        context["grant"] = True
    return context


def _format(msg: str, params: Mapping[str, Any], context: dict[str, Any]) -> str:
    template = MESSAGES.get(msg)
    if template is None:
        return str(UNKNOWN)
    shown = {name: _value(PARAM_KINDS.get(name, "plain"), value, context)
             for name, value in params.items()}
    for _attempt in range(3):
        try:
            return str(template) % shown
        except KeyError as missing:  # an old event without that parameter
            shown[missing.args[0]] = "—"
    return str(UNKNOWN)


def object_label(object_type: str) -> str:
    return str(OBJECT_TYPE_LABELS.get(object_type, _l("Record")))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, ACTION_LABELS.get(action.split(".")[0], UNKNOWN)))


def _url(object_type: str, object_id: str | None, details: Mapping[str, Any]) -> str | None:
    endpoint = OBJECT_ENDPOINTS.get(object_type)
    ident = object_id
    if endpoint is None and details.get("agreement_id"):
        endpoint, ident = OBJECT_ENDPOINTS["Agreement"], str(details["agreement_id"])
    if endpoint is None or not ident or not str(ident).isdigit():
        return None
    if not (current_user and current_user.is_authenticated and current_user.can(endpoint[2])):
        return None
    try:
        values: dict[str, Any] = {endpoint[1]: int(ident)}
        return url_for(endpoint[0], **values)
    except BuildError:  # an endpoint this app was built without
        return None


def render_events(events: Iterable[Any]) -> dict[int, Rendered]:
    """The events' messages in the reader's language, their records' names and links."""
    events = list(events)
    parsed: dict[int, dict[str, Any]] = {}
    missing: set[int] = set()
    for event in events:
        try:
            details = json.loads(event.details or "{}")
        except ValueError:
            details = {}
        if not isinstance(details, dict):
            details = {}
        parsed[event.id] = details
        params = details.get(PARAMS) if isinstance(details.get(PARAMS), dict) else None
        if params is None or "reference" not in params:
            agreement = _agreement_id(event, details)
            if agreement is not None:
                missing.add(agreement)
    references: dict[int, str] = {}
    if missing and _references:
        references = _references[0](missing)
    users = {int(e.object_id) for e in events
             if e.object_type == "User" and str(e.object_id or "").isdigit()}
    usernames = _usernames[0](users) if users and _usernames else {}
    rendered: dict[int, Rendered] = {}
    for event in events:
        details = parsed[event.id]
        stored = details.get(PARAMS)
        stored_msg = details.get(MSG)
        msg = stored_msg if isinstance(stored_msg, str) else message_id(event.action)
        if event.action == "audit.verified" and details.get("ok") is False:
            msg = "audit.verified.tampered"
        params = dict(stored) if isinstance(stored, dict) else derive(event.action, details)
        if "reference" not in params:
            agreement = _agreement_id(event, details)
            if agreement is not None and agreement in references:
                params["reference"] = references[agreement]
        if event.object_type == "User" and "username" not in params:
            params["username"] = usernames.get(int(event.object_id or 0), event.object_id)
        if event.action == "user.role" and isinstance(details.get("after"), dict):
            params.setdefault("role", details["after"].get("role"))
        if event.action == "user.locale" and "language" not in params:
            params["language"] = (event.summary or "").rsplit(" ", 1)[-1]
        if event.action == "clause.publish" and "variant" not in params:
            # "Clause version published: procurement 1.0 (de)"
            words = (event.summary or "").split(": ", 1)[-1].replace("(", "").replace(")", "")
            parts = words.split()
            if len(parts) == 3:
                params.update(variant=parts[0], version=parts[1], language=parts[2])
        if event.action in ("orgunit.create",):
            params.setdefault("name", details.get("name"))
        context = _context(msg, event.action, params, details)
        record = object_label(event.object_type)
        if event.object_id:
            record = f"{record} {params.get('reference') or event.object_id}" \
                if event.object_type == "Agreement" else f"{record} {event.object_id}"
        url = _url(event.object_type, event.object_id, details)
        if msg not in MESSAGES:  # not written by this app: its own summary, marked English
            rendered[event.id] = Rendered(event.summary or str(UNKNOWN), url, record, "en")
            continue
        rendered[event.id] = Rendered(_format(msg, params, context), url, record)
    return rendered


def _agreement_id(event: Any, details: Mapping[str, Any]) -> int | None:
    if event.object_type == "Agreement" and str(event.object_id or "").isdigit():
        return int(event.object_id)
    value = details.get("agreement_id")
    return value if isinstance(value, int) else None

