"""Large imports run in the scheduler process, not in the request: queued in the database
(with the file), claimed by whichever node's scheduler leads, their progress on the page.

A file above IMPORT_BACKGROUND_BYTES is queued; smaller files are imported at once, as
before. The job checks every row first (its progress committed every few thousand rows,
so the page can show it), then saves all rows in one transaction or none, as an import
at once does (importing.py). A job whose process died is taken up again after
IMPORT_STALE_MINUTES without a sign of life; its transaction was rolled back, so it
starts from the beginning.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from clause_tracker.agreements.importing import (
    ImportFileError,
    ImportReport,
    RowError,
    import_file,
)
from clause_tracker.agreements.models import ImportJob
from clause_tracker.audit.services import record as audit
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.transaction import transactional

QUEUED, CHECKING, SAVING, DONE, FAILED = "queued", "checking", "saving", "done", "failed"
RUNNING = (CHECKING, SAVING)
# What a report keeps of its lists (a 100,000-row file can have as many errors).
REPORT_ITEMS = 1000


def runs_in_background(data: bytes) -> bool:
    return len(data) > int(current_app.config["IMPORT_BACKGROUND_BYTES"])


@transactional
def queue(kind: str, data: bytes, filename: str, *, dry_run: bool, unit: OrgUnit | None,
          restrict_unit: bool, user: User) -> ImportJob:
    job = ImportJob(kind=kind, filename=filename[:255] or "import",
                    sha256=hashlib.sha256(data).hexdigest(), data=data, dry_run=dry_run,
                    org_unit_id=unit.id if unit else None, restrict_unit=restrict_unit,
                    user_id=user.id, status=QUEUED, queued_at=utcnow())
    db.session.add(job)
    db.session.flush()
    audit("import.queue", "Import", job.id,
          f"{filename} queued for import ({kind}{', dry run' if dry_run else ''})",
          {"file": filename, "sha256": job.sha256, "bytes": len(data), "kind": kind,
           "dry_run": dry_run})
    return job


def claim(holder: str) -> ImportJob | None:
    """The oldest queued job (or one whose process stopped showing signs of life), marked
    as ours in one UPDATE: two nodes never run the same job."""
    now = utcnow()
    stale = now - timedelta(minutes=int(current_app.config["IMPORT_STALE_MINUTES"]))
    candidate = (select(ImportJob.id)
                 .where(or_(ImportJob.status == QUEUED,
                            ImportJob.status.in_(RUNNING) & (ImportJob.heartbeat_at < stale)))
                 .order_by(ImportJob.id).limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    ident = db.session.scalar(candidate)
    if ident is None:
        db.session.rollback()
        return None
    claimed = db.session.execute(
        update(ImportJob).where(ImportJob.id == ident,
                                or_(ImportJob.status == QUEUED, ImportJob.heartbeat_at < stale))
        .values(status=CHECKING, started_at=now, heartbeat_at=now, claimed_by=holder[:200],
                rows_checked=0)).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
    db.session.commit()
    return db.session.get(ImportJob, ident) if claimed else None


def run(job: ImportJob) -> None:
    """Check and save the job's file; its outcome is in the job's row and the audit trail."""
    job_id, data = job.id, job.data or b""
    unit = db.session.get(OrgUnit, job.org_unit_id) if job.org_unit_id else None
    user = db.session.get(User, job.user_id) if job.user_id else None

    def progress(rows: int, stage: str) -> None:
        db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
            rows_checked=rows, status=stage, heartbeat_at=utcnow()))
        db.session.commit()

    # The report's words in the language of the user who queued the file.
    locale = (user.locale if user is not None and user.locale in current_app.config["LANGUAGES"]
              else current_app.config["BABEL_DEFAULT_LOCALE"])
    try:
        with force_locale(locale):
            report = import_file(job.kind, data, job.filename, dry_run=job.dry_run, unit=unit,
                                 restrict_unit=job.restrict_unit, user=user, job=job,
                                 progress=progress)
    except ImportFileError as exc:
        db.session.rollback()
        _fail(job_id, str(exc))
        return
    except Exception:
        db.session.rollback()
        _fail(job_id, "unexpected")
        raise
    _finish(job_id, report)


@transactional
def _finish(job_id: int, report: ImportReport) -> None:
    job = db.session.get(ImportJob, job_id)
    assert job is not None
    job.report = json.dumps({
        "rows": report.rows,
        "errors": [[e.line, e.column, e.message] for e in report.errors[:REPORT_ITEMS]],
        "error_total": len(report.errors),
        "warnings": [[w.line, w.column, w.message] for w in report.warnings[:REPORT_ITEMS]],
        "warning_total": len(report.warnings),
        "created": report.created[:REPORT_ITEMS], "created_total": len(report.created),
        "skipped": report.skipped[:REPORT_ITEMS], "skipped_total": len(report.skipped),
    }, ensure_ascii=False)
    job.rows, job.rows_checked, job.skipped = report.rows, report.rows, len(report.skipped)
    if job.status != DONE:  # nothing saved: row errors, or a dry run (_save marks a save)
        job.status, job.finished_at, job.data = DONE, utcnow(), None
        audit("import.checked", "Import", job.id,
              f"{job.filename}: {report.rows} rows checked, {len(report.errors)} errors, "
              f"nothing imported{' (dry run)' if job.dry_run else ''}",
              {"file": job.filename, "rows": report.rows, "errors": len(report.errors),
               "dry_run": job.dry_run})


@transactional
def _fail(job_id: int, message: str) -> None:
    job = db.session.get(ImportJob, job_id)
    assert job is not None
    job.status, job.message, job.finished_at, job.data = FAILED, message, utcnow(), None
    audit("import.fail", "Import", job.id, f"{job.filename}: not imported ({message[:200]})",
          {"file": job.filename, "message": message})


def run_pending(holder: str, limit: int = 1) -> int:
    """Run up to `limit` waiting jobs; the scheduler's import job and `imports run`."""
    done = 0
    while done < limit and (job := claim(holder)) is not None:
        run(job)
        done += 1
    return done


def report_of(job: ImportJob) -> ImportReport | None:
    """The stored report as the import page shows one (None while the job runs)."""
    if not job.report:
        return None
    stored = json.loads(job.report)
    return ImportReport(
        kind=job.kind, filename=job.filename, dry_run=job.dry_run, rows=stored["rows"],
        created=stored["created"], skipped=stored["skipped"],
        errors=[RowError(*error) for error in stored["errors"]],
        warnings=[RowError(*warning) for warning in stored.get("warnings", [])],
        error_total=stored["error_total"], warning_total=stored.get("warning_total"),
        created_total=stored["created_total"],
        skipped_total=stored["skipped_total"])


def expected_rows(job: ImportJob) -> int:
    """About how many rows the file has (CSV: its lines but the header; XLSX: unknown, 0)."""
    if not job.data or job.data.startswith(b"PK"):
        return 0
    return max(0, job.data.count(b"\n") - 1)


def visible_to(job: ImportJob, user: User) -> bool:
    return job.user_id == user.id or user.role == "admin"


def progress_text(job: ImportJob) -> str:
    if job.status == QUEUED:
        return str(_l("Waiting to start …"))
    if job.status == CHECKING:
        return str(_l("%(rows)s rows checked …", rows=format_number(job.rows_checked)))
    if job.status == SAVING:
        return str(_l("All %(rows)s rows checked; saving …",
                      rows=format_number(job.rows_checked)))
    if job.status == FAILED:
        return str(_l("Not imported."))
    return str(_l("Finished."))
