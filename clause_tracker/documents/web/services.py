"""Operations of the documents desk; each stores its record and audit event in one transaction."""

from __future__ import annotations

import json
from dataclasses import asdict

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Select, or_, select, update
from werkzeug.datastructures import FileStorage

from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.auth.visibility import in_view
from clause_tracker.clauses import services as clauses
from clause_tracker.clock import utcnow
from clause_tracker.documents import (
    ClauseUnavailable,
    InsertResult,
    Limits,
    Location,
    ReturnedLimits,
    VerifyResult,
    insert_clause,
    preview_location,
    returned_settings,
    verify_returned,
)
from clause_tracker.documents.generate import (
    document_values,
    fill,
    mark_language,
    template_bytes,
)
from clause_tracker.documents.provenance import app_version
from clause_tracker.documents.web.models import RETURNED_ACTIONS, DocumentRecord
from clause_tracker.erasure import ERASED
from clause_tracker.extensions import db
from clause_tracker.storage import safe_filename, storage
from clause_tracker.transaction import transactional
from clause_tracker.versioning import RefusedChange

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class UploadError(RefusedChange):
    """An upload refused before the engine saw it; the message is for the user."""


def read_upload(file: FileStorage) -> tuple[bytes, str]:
    """The upload's bytes and a safe display name; refuses empty or oversized files."""
    limit = Limits.current().max_file_bytes
    data = file.stream.read(limit + 1)
    if not data:
        raise UploadError(_l("The file is empty."))
    if len(data) > limit:
        raise UploadError(_l("The file is larger than %(size)d MiB.", size=limit // 2**20))
    return data, display_name(file.filename or "document.docx")


def display_name(filename: str) -> str:
    return safe_filename(filename, "document.docx")


def _clause(variant: str, language: str):
    version = clauses.current_version(variant, language)
    if version is None:
        raise ClauseUnavailable(variant, language)
    return version


@transactional
def prepare_insert(data: bytes, variant: str, language: str) -> tuple[str, Location]:
    """Check the file, find where the clause goes, keep the upload for the confirmation
    (stored, so that the confirmation may reach any node)."""
    # Runs every ingest check first; the published texts find the clause already there.
    location = preview_location(data, known=clauses.published_texts(), variant=variant,
                                language=language)
    return storage().put(data), location


# The confirmation of an insert names the upload by a token signed with the app's secret key,
# bound to the user who uploaded it and valid for a while: a stored file's SHA-256 alone never
# lets anyone turn another unit's document into their own record.
UPLOAD_TOKEN_MAX_AGE = 3600  # seconds
_UPLOAD_SALT = "documents.insert.upload"


def _upload_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_UPLOAD_SALT)


def upload_token(upload_key: str, user: User) -> str:
    """A token for the confirmation form: this user's pending upload `upload_key`."""
    return str(_upload_serializer().dumps({"user": user.id, "sha256": upload_key}))


def pending_upload(token: str, user: User) -> str | None:
    """The storage key of `user`'s pending upload named by `token`; None when the token is
    forged, expired, another user's, or its file is gone."""
    try:
        payload = _upload_serializer().loads(token, max_age=UPLOAD_TOKEN_MAX_AGE)
    except (BadData, UnicodeError):
        return None
    if not isinstance(payload, dict) or payload.get("user") != user.id:
        return None
    key = payload.get("sha256")
    if not isinstance(key, str) or not storage().exists(key):
        return None
    return key


def _new_record(action: str, user: User, filename: str, **values: object) -> DocumentRecord:
    return DocumentRecord(action=action, filename=filename, created_by=user,
                          org_unit_id=user.org_unit_id, created_at=utcnow(),
                          app_version=app_version(), **values)


def _store_issued(action: str, user: User, filename: str, input_sha: str | None,
                  result: InsertResult, version) -> DocumentRecord:
    output_key = storage().put(result.data)
    stamp = result.provenance
    record = _new_record(
        action, user, filename,
        input_sha256=input_sha, output_sha256=output_key, clause_version=version,
        clause_id=stamp.clause_id, variant=stamp.variant, version=stamp.version,
        language=stamp.language, clause_sha256=stamp.sha256, location_mode=result.location.mode,
        details_json=json.dumps({
            "warnings": [str(w) for w in result.warnings],
            "before": result.location.before[-2:], "after": result.location.after[:2],
            "inserted_at": stamp.inserted_at.isoformat(),
        }, ensure_ascii=False),
    )
    db.session.add(record)
    db.session.flush()
    return record


@transactional
def insert(upload_key: str, filename: str, variant: str, language: str,
           user: User) -> DocumentRecord:
    data = storage().get(upload_key)
    version = _clause(variant, language)
    result = insert_clause(data, clauses.as_clause_text(version), context=True,
                           known=clauses.published_texts())
    record = _store_issued("insert", user, filename, upload_key, result, version)
    audit("document.insert", "DocumentRecord", record.id,
          f"Clause {variant} {version.version} ({language}) inserted into {filename}",
          {"input_sha256": upload_key, "output_sha256": record.output_sha256,
           "location": result.location.mode, "warnings": len(result.warnings)})
    return record


@transactional
def generate(template: str, language: str, values: dict[str, object],
             user: User, agreement_id: int | None = None) -> DocumentRecord:
    variant = "grant" if template == "grant" else "procurement"
    version = _clause(variant, language)
    filled = fill(template_bytes(template), document_values(template, language, values))
    result = insert_clause(filled, clauses.as_clause_text(version), context=True)
    result.data = mark_language(result.data, language)
    reference = str(values.get("reference", ""))
    filename = display_name(f"{template}_{reference}.docx")
    record = _store_issued("generate", user, filename, None, result, version)
    record.agreement_id = agreement_id
    audit("document.generate", "DocumentRecord", record.id,
          f"{template} document {reference} generated with clause {variant} {version.version}",
          {"output_sha256": record.output_sha256, "reference": reference,
           "agreement_id": agreement_id})
    return record


def _verify(data: bytes) -> VerifyResult:
    """Any returned file (DOCX, PDF, scan) against every published text, with the app's
    limits, OCR threshold and signature trust list."""
    threshold, trust_dir = returned_settings()
    return verify_returned(data, clauses.published_texts(), limits=Limits.current(),
                           returned_limits=ReturnedLimits.current(),
                           ocr_threshold=threshold, trust_dir=trust_dir)


@transactional
def check(data: bytes, filename: str, user: User, agreement_id: int | None = None,
          keep: bool = False) -> tuple[DocumentRecord, VerifyResult]:
    """Verify a returned file of any kind and store the result; returns the record and it.
    `details` holds method, similarity and signatures beside diff and warnings. `keep`:
    store the file too, with the record (after the check: a refused file is never kept)."""
    result = _verify(data)
    # Matched by its hash only among the documents the uploader may see: another unit's
    # issued document is neither named on the result nor linked.
    issued = db.session.scalar(visible(user).where(
        DocumentRecord.output_sha256 == result.sha256).order_by(DocumentRecord.id).limit(1))
    # A returned copy of a document issued for an agreement belongs to that agreement, when
    # the uploader is an officer of its unit: a file matched by its hash never files itself
    # on a record its uploader may not work on (an auditor sees it, but works on nothing).
    if agreement_id is None and issued is not None and issued.org_unit_id is not None \
            and issued.org_unit_id == user.org_unit_id:
        agreement_id = issued.agreement_id
    record = _new_record(
        "verify", user, filename, input_sha256=result.sha256, status=result.status,
        agreement_id=agreement_id,
        clause_id=result.clause_id, variant=result.variant, version=result.version,
        language=result.language, location_mode=result.found_in,
        details_json=json.dumps({
            "diff": [asdict(op) for op in result.diff],
            "warnings": [str(w) for w in result.warnings],
            "provenance": result.provenance and {
                k: str(v) for k, v in asdict(result.provenance).items()},
            "identical_to_issued": issued.id if issued else None,
            "method": result.method,
            "similarity": round(result.similarity, 4),
            "signatures": result.signatures,
        }, ensure_ascii=False),
    )
    db.session.add(record)
    db.session.flush()
    audit("document.verify", "DocumentRecord", record.id,
          f"Returned document checked: {result.status}",
          {"sha256": result.sha256, "status": result.status, "agreement_id": agreement_id,
           "method": result.method, "similarity": round(result.similarity, 4),
           "signatures": len(result.signatures)},
          personal={"filename": filename},
          subject=f"Agreement:{agreement_id}" if agreement_id is not None else None)
    if keep:
        storage().put(data)
    return record, result


def visible(user: User) -> Select:
    """Records the user may see: their own unit's, or all for auditors."""
    return select(DocumentRecord).where(in_view(user, DocumentRecord.org_unit_id))


def recent(user: User, limit: int = 20) -> list[DocumentRecord]:
    stmt = visible(user).order_by(DocumentRecord.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def get_visible(record_id: int, user: User) -> DocumentRecord | None:
    return db.session.scalar(visible(user).where(DocumentRecord.id == record_id))


# --- retention ---------------------------------------------------------------------------------

def files_of_agreement(agreement_id: int) -> set[str]:
    """The stored documents generated for the agreement and the returned copies filed on it
    (contracts name people; signed copies carry signatures)."""
    of_it = DocumentRecord.agreement_id == agreement_id
    keys = set(db.session.scalars(select(DocumentRecord.output_sha256).where(of_it)))
    keys |= set(db.session.scalars(select(DocumentRecord.input_sha256).where(
        of_it, DocumentRecord.action.in_(RETURNED_ACTIONS))))
    return {key for key in keys if key}


KEPT_DETAILS = ("method", "similarity", "identical_to_issued")


def erase_notes(agreement_id: int) -> int:
    """The reasons of manual checks of the agreement's signed copies, the file names and
    what the verification read from the files (the differing words, the author in the
    file's properties, the signers of its signatures): they may name people. The records,
    their statuses, method, similarity and hashes stay. Returns the notes erased."""
    notes = db.session.execute(update(DocumentRecord).where(  # type: ignore[attr-defined]  # DML: a CursorResult
        DocumentRecord.agreement_id == agreement_id, DocumentRecord.note.is_not(None))
        .values(note=ERASED)).rowcount or 0
    for record in db.session.scalars(select(DocumentRecord).where(
            DocumentRecord.agreement_id == agreement_id)):
        found = record.details
        record.details_json = json.dumps({key: found[key] for key in KEPT_DETAILS
                                          if key in found}, ensure_ascii=False)
        record.filename = ERASED
    return notes


RETENTION_PURGE = "retention.purge"  # the audit action of an agreement's erasure


def files_erased(record: DocumentRecord) -> bool:
    """Whether the audit trail says the record's files were erased: its agreement was purged
    after the retention period."""
    if record.agreement_id is None:
        return False
    return db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == RETENTION_PURGE, AuditEvent.object_type == "Agreement",
        AuditEvent.object_id == str(record.agreement_id)).limit(1)) is not None


def files_named_elsewhere(keys: set[str], agreement_id: int) -> set[str]:
    """Of the stored files `keys`, those a document record of another agreement (or of none)
    names as its input or output: a content-addressed file is shared by equal contents."""
    if not keys:
        return set()
    other = or_(DocumentRecord.agreement_id.is_(None),
                DocumentRecord.agreement_id != agreement_id)
    named = set(db.session.scalars(select(DocumentRecord.output_sha256).where(
        DocumentRecord.output_sha256.in_(keys), other)))
    named |= set(db.session.scalars(select(DocumentRecord.input_sha256).where(
        DocumentRecord.input_sha256.in_(keys), other)))
    return {key for key in named if key}
