"""Writing and checking the audit trail.

`record` is called by the service layer inside the transaction of the change it
describes, so an event exists exactly when its change was committed. Each event's
hash covers its content and its predecessor's hash: editing, removing or
reordering a row breaks the chain at that row.

The hash covers `changes_records` too, except for the events written before that column
existed (migration 0009): they form the chain's first part, hashed without it, and their
flag is what the migration derived from their action (FLAGGED_BY_MIGRATION).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import select, update

from clause_tracker.audit import anchors, messages
from clause_tracker.audit.models import AuditEvent, AuditPersonal, AuditRedaction
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.locks import Lock, hold_for_transaction
from clause_tracker.transaction import AUDIT_MARK, transactional

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str
    role: str


SYSTEM = Actor(None, "system", "system")


# The request's API token, when a machine client acts (set by the API's authentication):
# every event the request writes names it beside the actor, the token's user.
API_TOKEN_KEY = "audit_api_token_id"  # noqa: S105  # a name in flask.g, no secret
API_TOKEN_DETAIL = "api_token"  # noqa: S105  # a key of the event details, no secret


def act_through_token(token_id: int) -> None:
    """Mark this request's events as made through API token `token_id`."""
    setattr(g, API_TOKEN_KEY, token_id)


def _request_token() -> int | None:
    return g.get(API_TOKEN_KEY) if has_request_context() else None


def current_actor() -> Actor:
    if has_request_context() and current_user and current_user.is_authenticated:
        return Actor(current_user.id, current_user.username, current_user.role)
    return SYSTEM


# json.dumps with these options builds this very encoder on every call; keeping one saves
# that for the tens of thousands of events a sweep may hash in one batch.
_encode_content = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_encode_details = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def details_json(details: dict[str, Any] | None) -> str:
    """The canonical JSON stored (and hashed) as an event's details."""
    return _encode_details(details or {})


def content_hash(content: list[Any]) -> str:
    """The chain hash of an event's content in `event_hash` order (the occurred_at already
    formatted with TIMESTAMP_FORMAT, changes_records last). Batch writers call it directly,
    so they cannot drift from what `verify_chain` recomputes."""
    return hashlib.sha256(_encode_content(content).encode("utf-8")).hexdigest()


def event_hash(event: AuditEvent) -> str:
    return content_hash([
        event.id,
        event.occurred_at.strftime(TIMESTAMP_FORMAT),
        event.actor_id,
        event.actor_name,
        event.actor_role,
        event.action,
        event.object_type,
        event.object_id,
        event.summary,
        event.details,
        event.prev_hash,
        event.changes_records,
    ])


PERSONAL = "personal"  # the key of the personal part's digest in an event's details


def personal_digest(salt: str, content: str) -> str:
    """HMAC-SHA256 of the personal part's canonical JSON under its own random salt: the
    chain covers it, and once the salt is erased nobody can test a guessed name against it."""
    return hmac.new(bytes.fromhex(salt), content.encode("utf-8"), hashlib.sha256).hexdigest()


def record(
    action: str,
    object_type: str,
    object_id: object | None,
    summary: str,
    details: dict[str, Any] | None = None,
    actor: Actor | None = None,
    changes_records: bool = True,
    personal: dict[str, Any] | None = None,
    subject: str | None = None,
    params: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the current transaction; the caller commits with its change.

    `changes_records=False` for an event that changes nothing the stored figures and states
    are computed from (a sign-in touches only the user's sign-in fields): newest_change()
    then stays put, and they stay current.

    `personal`: the names, addresses, notes and other texts about people the event records.
    They never go into the summary or the details (the chained content); they are stored
    in audit_personal under `subject` (default: the event's object, e.g. "Agreement:12"),
    the chain covering only their salted digest, so retention can erase them
    (`erase_personal`) and the chain still verifies.

    `params`: parameters of the event's message beyond those in `details` (a record's
    reference); the message id and all its parameters are stored in the chained details
    (audit.messages), so the trail is rendered in each reader's language. Never personal
    values: those belong in `personal`."""
    session = db.session
    details = messages.stamp(action, details or {}, params, summary)
    kept = {key: value for key, value in (personal or {}).items()
            if value is not None and value != ""}
    part: AuditPersonal | None = None
    if kept:
        salt = secrets.token_hex(32)
        content = details_json(kept)
        details = {**(details or {}), PERSONAL: personal_digest(salt, content)}
        part = AuditPersonal(subject=(subject or f"{object_type}:{object_id}")[:80],
                             salt=salt, content=content)
    # Two transactions must not both extend the chain from the same predecessor.
    hold_for_transaction(Lock.AUDIT_CHAIN)
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    token_id = _request_token()
    if token_id is not None and actor is None:
        details = {**(details or {}), API_TOKEN_DETAIL: token_id}
    actor = actor or current_actor()
    event = AuditEvent(
        id=(last.id + 1) if last else 1,
        occurred_at=utcnow(),
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role=actor.role,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        summary=summary[:500],
        details=details_json(details),
        prev_hash=last.hash if last else GENESIS,
        changes_records=bool(changes_records),  # hashed as JSON: true, never 1
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    session.info[AUDIT_MARK] = (event.id, event.hash)  # what a commit's outcome is asked by
    if part is not None:
        part.event_id = event.id
        session.add(part)
        session.flush()
    return event


ERASED_BY_RETENTION = "retention"
ERASED = "audit.erased"  # the chained record of an erasure: which subjects, how many events


def erase_personal(subjects: Collection[str], by: str = ERASED_BY_RETENTION,
                   actor: Actor | None = None) -> int:
    """Erase the personal part of every event about `subjects` (inside the caller's
    transaction): the content and salt of events written with a personal part, and the
    pinned redaction of events written before migration 0019 (their summary and details
    replaced by the form the migration fixed). The chain verifies as before; the erasure
    is itself an event naming the subjects, and `verify_chain` accepts an erased part only
    where one names its subject. Returns the events erased."""
    if not subjects:
        return 0
    now = utcnow()
    erased = db.session.execute(
        update(AuditPersonal).where(AuditPersonal.subject.in_(list(subjects)),
                                    AuditPersonal.content.is_not(None))
        .values(content=None, salt=None, erased_at=now, erased_by=by)
    ).rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult
    pinned = db.session.scalars(select(AuditRedaction).where(
        AuditRedaction.subject.in_(list(subjects)), AuditRedaction.redacted_at.is_(None)))
    for pin in pinned:
        db.session.execute(update(AuditEvent).where(AuditEvent.id == pin.event_id)
                           .values(summary=pin.summary, details=pin.details)
                           .execution_options(synchronize_session=False))
        pin.redacted_at = now
        erased += 1
    db.session.flush()
    record(ERASED, "AuditTrail", None, f"personal data of {erased} events erased ({by})",
           {"subjects": sorted(subjects), "events": erased, "by": by}, actor=actor)
    return erased


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    kind: str  # "edited" | "removed" | "reordered" | "anchor_log" (the log unreadable)
    message: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    problem: ChainProblem | None
    anchors: int = 0  # anchors found in place (checked only once the chain is intact)

    @property
    def ok(self) -> bool:
        return self.problem is None


def head() -> AuditEvent | None:
    """The newest event: its id and hash, noted outside the database, anchor the chain."""
    return db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))


def check_anchor(anchor: str) -> ChainProblem | None:
    """An anchor `ID:HASH` noted earlier must still be in the chain, unchanged.

    The chain alone cannot show that its newest events were cut off (or all of them); an
    anchor can: the chain is shorter than it says, or its event has another hash.
    """
    ident, expected = anchors.parse(anchor)
    event = db.session.get(AuditEvent, ident)
    if event is None:
        return ChainProblem(ident, "removed",
                            f"anchored event {ident} is gone: the trail was cut after it")
    if event.hash != expected:
        return ChainProblem(event.id, "edited",
                            f"anchored event {ident} has another hash than was noted")
    return None


def verify_anchored(extra: Sequence[str] = (), use_log: bool = True) -> VerifyResult:
    """The chain (verify_chain), then the newest anchor of the anchor log (unless
    `use_log` is off) and the `extra` anchors given: the check the CLI, the web page and the
    nightly job run. An empty or shortened trail fails against an earlier anchor."""
    result = verify_chain()
    if not result.ok:
        return result
    found = list(extra)
    try:
        newest = anchors.newest() if use_log else None
    except anchors.AnchorLogUnreadable as exc:  # fails closed: no anchor, no "intact"
        return VerifyResult(result.checked, ChainProblem(0, "anchor_log", str(exc)))
    if newest is not None:
        found.append(newest)
    for count, anchor in enumerate(found):
        problem = check_anchor(anchor)
        if problem is not None:
            return VerifyResult(result.checked, problem, count)
    return VerifyResult(result.checked, None, len(found))


# The columns an event's hash covers, in hash order, then the hash itself.
_CHAIN_COLUMNS = ("id", "occurred_at", "actor_id", "actor_name", "actor_role", "action",
                  "object_type", "object_id", "summary", "details", "prev_hash",
                  "changes_records", "hash")
_ACTION = _CHAIN_COLUMNS.index("action")
VERIFIED = "audit.verified"
# The events written before changes_records existed were hashed without it; migration 0009
# set it to False for these actions and True for all others. For those events only this
# rule, not the hash, shows that the flag is unchanged.
FLAGGED_BY_MIGRATION = frozenset({"auth.login", "auth.logout", "auth.login_failed",
                                  "auth.login_refused_locked", "auth.locked", VERIFIED})


def _events() -> Iterator[tuple]:
    """Every event in chain order, as plain tuples of _CHAIN_COLUMNS: building an ORM
    object (or reading Row attributes by name) per event made a million-event check take
    48 s."""
    table = AuditEvent.__table__
    stmt = select(*[table.c[name] for name in _CHAIN_COLUMNS]).order_by(table.c.id) \
        .execution_options(yield_per=5000)
    for partition in db.session.execute(stmt).tuples().partitions():
        yield from partition


PINNED = "audit.redactions_pinned"  # migration 0019's commitment to the legacy redactions


def redaction_pin(row: Sequence[Any]) -> str:
    """The SHA-256 a redacted legacy event must have: every column of the row in
    _CHAIN_COLUMNS order, its stored hash included (the time formatted as it is hashed)."""
    ident, occurred_at, *rest = row
    return content_hash([ident, occurred_at.strftime(TIMESTAMP_FORMAT), *rest])


def pins_root(pins: dict[int, str]) -> str:
    """The digest over all pins that migration 0019's chained event committed to."""
    lines = "".join(f"{ident}:{pins[ident]}\n" for ident in sorted(pins))
    return hashlib.sha256(lines.encode("ascii")).hexdigest()


def _pins() -> tuple[dict[int, str], ChainProblem | None]:
    """The pinned redactions, checked against the chained commitment (which the chain walk
    then checks like every event): a pin added, changed or dropped is named."""
    pins = dict(db.session.execute(select(AuditRedaction.event_id, AuditRedaction.sha256))
                .tuples().all())
    commitment = db.session.execute(select(AuditEvent.id, AuditEvent.details)
                                    .where(AuditEvent.action == PINNED)
                                    # migration 0019 writes it (again after a
                                    # downgrade); any other shows in the trail
                                    .order_by(AuditEvent.id.desc()).limit(1)).first()
    if not pins and commitment is None:
        return pins, None
    if commitment is None:
        return pins, ChainProblem(min(pins), "edited",
                                  "redaction pins exist without the chained event fixing them")
    if json.loads(commitment.details).get("sha256") != pins_root(pins):
        return pins, ChainProblem(commitment.id, "edited",
                                  "the redaction pins differ from those the trail fixed")
    return pins, None


def _erased_subjects() -> set[str]:
    subjects: set[str] = set()
    for details in db.session.scalars(select(AuditEvent.details)
                                      .where(AuditEvent.action == ERASED)):
        subjects |= set(json.loads(details).get("subjects", ()))
    return subjects


def _personal_problem(redacted: set[int]) -> ChainProblem | None:
    """Each personal part not erased must still be what its event's digest says; each one
    erased, and each event found in its pinned redacted form (`redacted`), must be about a
    subject an erasure event names (an erasure behind the trail's back shows)."""
    erased = _erased_subjects()
    unrecorded = [ident for ident, subject in db.session.execute(
        select(AuditPersonal.event_id, AuditPersonal.subject)
        .where(AuditPersonal.content.is_(None))).tuples() if subject not in erased]
    if redacted:
        unrecorded += [ident for ident, subject in db.session.execute(
            select(AuditRedaction.event_id, AuditRedaction.subject)).tuples()
            if ident in redacted and subject not in erased]
    if unrecorded:
        ident = min(unrecorded)
        return ChainProblem(ident, "edited",
                            f"the personal data of event {ident} was erased unrecorded")
    rows = db.session.execute(
        select(AuditPersonal.event_id, AuditPersonal.salt, AuditPersonal.content,
               AuditEvent.details)
        .join(AuditEvent, AuditEvent.id == AuditPersonal.event_id)
        .where(AuditPersonal.content.is_not(None)).order_by(AuditPersonal.event_id)
        .execution_options(yield_per=5000)).tuples()
    for ident, salt, content, details in rows:
        digest = json.loads(details).get(PERSONAL)
        if salt is None or content is None or digest != personal_digest(salt, content):
            return ChainProblem(ident, "edited",
                                f"the personal data of event {ident} was changed")
    return None


def verify_chain() -> VerifyResult:
    """Walk the chain in order and report the first event that does not fit.

    Events hashed without changes_records come first: once an event's hash covers the flag,
    every later one's must. An event written before migration 0019 that retention redacted
    fits when its row is exactly the form pinned for it (redaction_pin); the personal parts
    not erased must fit their events' digests."""
    pins, pin_problem = _pins()
    if pin_problem is not None:
        return VerifyResult(0, pin_problem)
    expected_id, expected_prev, checked, unflagged = 1, GENESIS, 0, True
    redacted: set[int] = set()
    for row in _events():
        ident, occurred_at, *content, prev_hash, changes_records, stored = row
        if ident != expected_id:
            return VerifyResult(checked, ChainProblem(
                ident, "removed",
                f"event {expected_id}" + (f"–{ident - 1}" if ident - 1 > expected_id else "")
                + f" missing before event {ident}",
            ))
        if prev_hash != expected_prev:
            return VerifyResult(checked, ChainProblem(
                ident, "reordered",
                f"event {ident} does not follow event {ident - 1} (predecessor hash differs)",
            ))
        # isoformat(timespec="microseconds") is TIMESTAMP_FORMAT, ten times faster.
        hashed = [ident, occurred_at.isoformat(timespec="microseconds"), *content, prev_hash,
                  changes_records]
        if ident in pins and content_hash([*hashed, stored]) == pins[ident]:
            intact = True  # redacted to exactly its pinned form
            redacted.add(ident)
        elif not unflagged:
            intact = content_hash(hashed) == stored
        elif content_hash(hashed[:-1]) == stored:
            intact = changes_records == (row[_ACTION] not in FLAGGED_BY_MIGRATION)
        else:
            unflagged = False
            intact = content_hash(hashed) == stored
        if not intact:
            return VerifyResult(checked, ChainProblem(
                ident, "edited", f"event {ident} was changed after it was written",
            ))
        checked += 1
        expected_id, expected_prev = ident + 1, stored
    problem = _personal_problem(redacted)
    return VerifyResult(checked, problem)


def newest_change() -> tuple[int, str] | None:
    """The newest event that may change records, by id and hash. Every change is written
    with its event in the same transaction and events are appended in commit order, so
    anything computed from the records is a function of this mark (the stored overview
    figures); the hash too, so a database emptied and refilled to the same length
    does not look unchanged. Events recorded with changes_records=False leave it alone:
    each sign-in would otherwise make every stored figure stale. (The primary key read
    backwards, stopping at the first such event: only the neutral events since the last
    change are passed over.)"""
    row = db.session.execute(select(AuditEvent.id, AuditEvent.hash)
                             .where(AuditEvent.changes_records)
                             .order_by(AuditEvent.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


@transactional
def record_verification(result: VerifyResult) -> AuditEvent:
    """Write a check's result into the trail itself (by the system, e.g. the scheduler's
    nightly check), so the viewer can show when the chain was last found intact — without
    making an auditor's page walk a million events. Its own transaction: it is its own fact."""
    problem = result.problem
    details = {"ok": result.ok, "checked": result.checked, "anchors": result.anchors,
               "problem": None if problem is None else
               {"event_id": problem.event_id, "kind": problem.kind, "message": problem.message}}
    summary = (f"audit trail intact: {result.checked} events" if problem is None
               else f"audit trail TAMPERED at event {problem.event_id} ({problem.kind})")
    event = record(VERIFIED, "AuditTrail", None, summary, details, actor=SYSTEM,
                   changes_records=False)
    return event


@dataclass(frozen=True)
class Verification:
    """The newest recorded check: when, how many events, and what it found."""

    at: datetime
    ok: bool
    checked: int
    problem: dict[str, Any] | None


def last_verification() -> Verification | None:
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == VERIFIED)
                              .order_by(AuditEvent.id.desc()).limit(1))
    if event is None:
        return None
    found = json.loads(event.details or "{}")
    return Verification(event.occurred_at, bool(found.get("ok")), int(found.get("checked", 0)),
                        found.get("problem"))
