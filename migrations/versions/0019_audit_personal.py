"""audit personal: personal data of audit events kept apart, erasable; legacy redactions pinned

`audit_personal`: the personal part of each new event (names, e-mail addresses, notes,
findings, file names, case references), its chained details holding only an HMAC-SHA256
under a random per-row salt. Erasure nulls content and salt; triggers refuse any other
UPDATE and every DELETE.

`audit_redactions`: the events written before this revision whose chained summary or details
hold personal data. For each, the one redacted form it may take (the personal values
replaced by "[erased]") is fixed now, with the SHA-256 of the whole redacted row (its hash
unchanged), and one chained event `audit.redactions_pinned` commits to all pins. Retention
applies a pin when it erases the event's agreement; `audit verify` accepts exactly that form.
The UPDATE trigger of `audit_events` lets only that through: summary and details set to the
pinned redaction, every other column unchanged.

Revision ID: 0019_audit_personal
Revises: 0018_import_jobs
Create Date: 2026-12-02 00:00:00
"""
import hashlib
import json
import re
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0019_audit_personal'
down_revision = '0018_import_jobs'
branch_labels = None
depends_on = None

ERASED = "[erased]"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
PINNED = "audit.redactions_pinned"

# Frozen here (the code moved on): the detail keys that held personal data, by action …
PERSONAL_KEYS = {
    "contract.status": ("reason",), "grant.status": ("reason",),
    "agreement.exemption_request": ("note",),
    "document.manual_check": ("reason",),
    "compliance.outcome": ("note", "findings"),
    "compliance.decision": ("note",),
    "compliance.measure.completion": ("note",),
    "compliance.complaint": ("case_reference",),
    "counterparty.contact_add": ("name", "function", "email"),
    "declaration.receive": ("evidence_file",),
    "grant.self_commitment": ("notes",),
}
PERSONAL_KEY_PREFIXES = {"compliance.measure.": ("note",), "declaration.": ("note",)}
# … and the summaries that named people or files beyond those values.
SUMMARY_PATTERNS = {
    "declaration.receive": (r", signed by .*$", ", signed by " + ERASED),
    "document.ocr_confirm": (r"^Scan .*? of (.*) confirmed as the clause$",
                             "Scan " + ERASED + r" of \1 confirmed as the clause"),
    "document.verify": (r"^Returned document .* checked: ", "Returned document " + ERASED
                        + " checked: "),
}
WITH_AGREEMENT_ID = ("Declaration", "ComplianceCheck", "DocumentRecord")

_encode_content = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_encode_details = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode

events = sa.table(
    "audit_events", sa.column("id", sa.Integer), sa.column("occurred_at", sa.DateTime),
    sa.column("actor_id", sa.Integer), sa.column("actor_name", sa.String),
    sa.column("actor_role", sa.String), sa.column("action", sa.String),
    sa.column("object_type", sa.String), sa.column("object_id", sa.String),
    sa.column("summary", sa.String), sa.column("details", sa.Text),
    sa.column("prev_hash", sa.String), sa.column("changes_records", sa.Boolean),
    sa.column("hash", sa.String))


def _content_hash(content):
    return hashlib.sha256(_encode_content(content).encode("utf-8")).hexdigest()


def _keys(action):
    keys = set(PERSONAL_KEYS.get(action, ()))
    for prefix, more in PERSONAL_KEY_PREFIXES.items():
        if action.startswith(prefix):
            keys |= set(more)
    return keys


def _redacted(row):
    """(summary, details) with the personal values replaced, or None where there are none."""
    try:
        details = json.loads(row.details or "{}")
    except ValueError:
        return None
    if not isinstance(details, dict):
        return None
    summary = row.summary
    for key in _keys(row.action):
        value = details.get(key)
        if value in (None, "", ERASED):
            continue
        if isinstance(value, str) and len(value) >= 3:
            summary = summary.replace(value, ERASED)
        details[key] = ERASED
    pattern = SUMMARY_PATTERNS.get(row.action)
    if pattern is not None:
        summary = re.sub(pattern[0], pattern[1], summary, count=1)
    new_details = _encode_details(details)
    if summary == row.summary and new_details == row.details:
        return None
    return summary[:500], new_details


def _subject(row):
    try:
        details = json.loads(row.details or "{}")
    except ValueError:
        details = {}
    if row.action == "counterparty.contact_add" and details.get("contact_id") is not None:
        return f"ContactPerson:{details['contact_id']}"
    if row.object_type in WITH_AGREEMENT_ID and details.get("agreement_id") is not None:
        return f"Agreement:{details['agreement_id']}"
    return f"{row.object_type}:{row.object_id}"


TRIGGERS = {
    "postgresql": [
        # audit_events: DELETE refused as before (0001's function); UPDATE only to the pin.
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
        """CREATE TRIGGER audit_events_append_only BEFORE DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
        """CREATE FUNCTION audit_events_redact_only() RETURNS trigger AS $$
        BEGIN
            IF NEW.id = OLD.id AND NEW.occurred_at = OLD.occurred_at
               AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
               AND NEW.actor_name = OLD.actor_name AND NEW.actor_role = OLD.actor_role
               AND NEW.action = OLD.action AND NEW.object_type = OLD.object_type
               AND NEW.object_id IS NOT DISTINCT FROM OLD.object_id
               AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
               AND NEW.changes_records = OLD.changes_records
               AND EXISTS (SELECT 1 FROM audit_redactions r WHERE r.event_id = OLD.id
                           AND r.summary = NEW.summary AND r.details = NEW.details) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit_events is append-only';
        END;
        $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER audit_events_redact_only BEFORE UPDATE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_redact_only()""",
        """CREATE FUNCTION audit_personal_erase_only() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.event_id = OLD.event_id AND NEW.subject = OLD.subject
               AND NEW.content IS NULL AND NEW.salt IS NULL THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit_personal can only be erased';
        END;
        $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER audit_personal_erase_only BEFORE UPDATE OR DELETE ON audit_personal
        FOR EACH ROW EXECUTE FUNCTION audit_personal_erase_only()""",
        """CREATE TRIGGER audit_personal_no_truncate BEFORE TRUNCATE ON audit_personal
        FOR EACH STATEMENT EXECUTE FUNCTION audit_personal_erase_only()""",
        """CREATE FUNCTION audit_redactions_fixed() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.event_id = OLD.event_id AND NEW.subject = OLD.subject
               AND NEW.summary = OLD.summary AND NEW.details = OLD.details
               AND NEW.sha256 = OLD.sha256 THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit_redactions are fixed';
        END;
        $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER audit_redactions_fixed BEFORE UPDATE OR DELETE ON audit_redactions
        FOR EACH ROW EXECUTE FUNCTION audit_redactions_fixed()""",
        """CREATE TRIGGER audit_redactions_no_truncate BEFORE TRUNCATE ON audit_redactions
        FOR EACH STATEMENT EXECUTE FUNCTION audit_redactions_fixed()""",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        WHEN NOT (NEW.id = OLD.id AND NEW.occurred_at = OLD.occurred_at
                  AND NEW.actor_id IS OLD.actor_id AND NEW.actor_name = OLD.actor_name
                  AND NEW.actor_role = OLD.actor_role AND NEW.action = OLD.action
                  AND NEW.object_type = OLD.object_type AND NEW.object_id IS OLD.object_id
                  AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
                  AND NEW.changes_records = OLD.changes_records
                  AND EXISTS (SELECT 1 FROM audit_redactions r WHERE r.event_id = OLD.id
                              AND r.summary = NEW.summary AND r.details = NEW.details))
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
        """CREATE TRIGGER audit_personal_erase_only BEFORE UPDATE ON audit_personal
        WHEN NOT (NEW.event_id = OLD.event_id AND NEW.subject = OLD.subject
                  AND NEW.content IS NULL AND NEW.salt IS NULL)
        BEGIN SELECT RAISE(ABORT, 'audit_personal can only be erased'); END""",
        """CREATE TRIGGER audit_personal_no_delete BEFORE DELETE ON audit_personal
        BEGIN SELECT RAISE(ABORT, 'audit_personal can only be erased'); END""",
        """CREATE TRIGGER audit_redactions_fixed BEFORE UPDATE ON audit_redactions
        WHEN NOT (NEW.event_id = OLD.event_id AND NEW.subject = OLD.subject
                  AND NEW.summary = OLD.summary AND NEW.details = OLD.details
                  AND NEW.sha256 = OLD.sha256)
        BEGIN SELECT RAISE(ABORT, 'audit_redactions are fixed'); END""",
        """CREATE TRIGGER audit_redactions_no_delete BEFORE DELETE ON audit_redactions
        BEGIN SELECT RAISE(ABORT, 'audit_redactions are fixed'); END""",
    ],
}
DROP_TRIGGERS = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_redactions_no_truncate ON audit_redactions",
        "DROP TRIGGER IF EXISTS audit_redactions_fixed ON audit_redactions",
        "DROP FUNCTION IF EXISTS audit_redactions_fixed()",
        "DROP TRIGGER IF EXISTS audit_personal_no_truncate ON audit_personal",
        "DROP TRIGGER IF EXISTS audit_personal_erase_only ON audit_personal",
        "DROP FUNCTION IF EXISTS audit_personal_erase_only()",
        "DROP TRIGGER IF EXISTS audit_events_redact_only ON audit_events",
        "DROP FUNCTION IF EXISTS audit_events_redact_only()",
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
        """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_redactions_no_delete",
        "DROP TRIGGER IF EXISTS audit_redactions_fixed",
        "DROP TRIGGER IF EXISTS audit_personal_no_delete",
        "DROP TRIGGER IF EXISTS audit_personal_erase_only",
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    ],
}


def _pin_legacy_events(bind):
    """Pin the redacted form of every event so far that holds personal data, and append
    one chained event committing to the pins (hashed as audit.services hashes events)."""
    pins, rows = {}, []
    stmt = sa.select(events).order_by(events.c.id)
    for row in bind.execute(stmt):
        redacted = _redacted(row)
        if redacted is None:
            continue
        summary, details = redacted
        pin = _content_hash([row.id, row.occurred_at.strftime(TIMESTAMP_FORMAT), row.actor_id,
                             row.actor_name, row.actor_role, row.action, row.object_type,
                             row.object_id, summary, details, row.prev_hash,
                             bool(row.changes_records), row.hash])
        pins[row.id] = pin
        rows.append({"event_id": row.id, "subject": _subject(row)[:80], "summary": summary,
                     "details": details, "sha256": pin})
    if not rows:
        return
    op.bulk_insert(sa.table("audit_redactions", sa.column("event_id"), sa.column("subject"),
                            sa.column("summary"), sa.column("details"),
                            sa.column("sha256")), rows)
    if bind.dialect.name == "postgresql":
        # locks.Lock.AUDIT_CHAIN: no other transaction extends the chain meanwhile
        bind.execute(sa.text("SELECT pg_advisory_xact_lock(1635083369)"))
    last = bind.execute(sa.select(events.c.id, events.c.hash)
                        .order_by(events.c.id.desc()).limit(1)).first()
    lines = "".join(f"{ident}:{pins[ident]}\n" for ident in sorted(pins))
    details = _encode_details({"events": len(pins),
                               "sha256": hashlib.sha256(lines.encode("ascii")).hexdigest()})
    at = datetime.now(timezone.utc).replace(tzinfo=None)
    summary = f"redacted forms of {len(pins)} earlier events pinned for retention"
    event = {"id": last.id + 1, "occurred_at": at, "actor_id": None, "actor_name": "system",
             "actor_role": "system", "action": PINNED, "object_type": "AuditTrail",
             "object_id": None, "summary": summary, "details": details,
             "prev_hash": last.hash, "changes_records": False}
    event["hash"] = _content_hash([event["id"], at.strftime(TIMESTAMP_FORMAT), None, "system",
                                   "system", PINNED, "AuditTrail", None, summary, details,
                                   last.hash, False])
    bind.execute(events.insert().values(**event))


def upgrade():
    op.create_table(
        'audit_personal',
        sa.Column('event_id', sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column('subject', sa.String(length=80), nullable=False),
        sa.Column('salt', sa.String(length=64), nullable=True),
        sa.Column('content', sa.Text(), nullable=True),
        sa.Column('erased_at', sa.DateTime(), nullable=True),
        sa.Column('erased_by', sa.String(length=40), nullable=True),
    )
    op.create_index('ix_audit_personal_subject', 'audit_personal', ['subject'])
    op.create_table(
        'audit_redactions',
        sa.Column('event_id', sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column('subject', sa.String(length=80), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('redacted_at', sa.DateTime(), nullable=True),
    )
    op.create_index('ix_audit_redactions_subject', 'audit_redactions', ['subject'])
    bind = op.get_bind()
    _pin_legacy_events(bind)
    for statement in TRIGGERS[bind.dialect.name]:
        op.execute(statement)


def downgrade():
    """Drops the tables: events written since keep their personal part's digest in their
    details but lose the part itself (their summaries never held it); a redaction already
    applied stays applied and no longer verifies without its pin — downgrade only a
    database whose trail you may re-anchor."""
    bind = op.get_bind()
    for statement in DROP_TRIGGERS[bind.dialect.name]:
        op.execute(statement)
    op.drop_index('ix_audit_redactions_subject', table_name='audit_redactions')
    op.drop_table('audit_redactions')
    op.drop_index('ix_audit_personal_subject', table_name='audit_personal')
    op.drop_table('audit_personal')
