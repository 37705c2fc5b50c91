from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clause_tracker.documents import DocumentError, TemplateFieldMissing
from clause_tracker.documents.pdf_export import PDF_MIMETYPE, PdfUnavailable, to_pdfa
from clause_tracker.documents.web import bp, services
from clause_tracker.documents.web.forms import (
    ConfirmInsertForm,
    GenerateForm,
    InsertForm,
    VerifyForm,
)
from clause_tracker.documents.web.labels import COVERAGE_LABELS, METHOD_LABELS, STATUS_LABELS
from clause_tracker.orgunits.models import CITY_ADDRESS
from clause_tracker.permissions import Permission, requires
from clause_tracker.storage import StorageKeyError, send_stored, storage, with_extension

LOCATION_LABELS = {
    "existing": _l("in place of the clause already in the document"),
    "content_control": _l("in the content control “antirassismusklausel” of the document"),
    "bookmark": _l("at the bookmark “Antirassismusklausel”"),
    "placeholder": _l("in place of the placeholder {{ antirassismusklausel }}"),
    "signature": _l("before the signature block"),
    "end": _l("at the end of the document, as a section of its own"),
}
def _render_index(insert_form=None, verify_form=None, status: int = 200):
    return render_template(
        "documents/index.html",
        insert_form=insert_form or InsertForm(formdata=None),
        verify_form=verify_form or VerifyForm(formdata=None),
        records=services.recent(current_user),
        location_labels=LOCATION_LABELS, status_labels=STATUS_LABELS,
    ), status


def _refuse(message: object) -> None:
    flash(_("The document was not accepted: %(reason)s", reason=str(message)), "error")


@bp.route("/")
@requires(Permission.DOCUMENTS_READ)
def index():
    return _render_index()


@bp.route("/insert", methods=["POST"])
@requires(Permission.DOCUMENTS_PREPARE)
def insert():
    form = InsertForm()
    if not form.validate_on_submit():
        return _render_index(insert_form=form, status=400)
    try:
        data, filename = services.read_upload(form.document.data)
        key, location = services.prepare_insert(data, form.variant.data, form.language.data)
    except (services.UploadError, DocumentError) as exc:
        _refuse(exc)
        return _render_index(insert_form=form, status=422)
    confirm = ConfirmInsertForm(formdata=None, upload=services.upload_token(key, current_user),
                                filename=filename,
                                variant=form.variant.data, language=form.language.data)
    return render_template("documents/preview.html", form=confirm, location=location,
                           filename=filename, location_labels=LOCATION_LABELS)


@bp.route("/insert/confirm", methods=["POST"])
@requires(Permission.DOCUMENTS_PREPARE)
def insert_confirm():
    form = ConfirmInsertForm()
    # Only the signed-in user's own pending upload: never any stored file by its hash.
    key = services.pending_upload(form.upload.data or "", current_user) \
        if form.validate_on_submit() else None
    if key is None:
        flash(_("The upload has expired. Please upload the document again."), "error")
        return redirect(url_for("documents.index"))
    try:
        # No file name sent (it is optional) is the default name, not a crash.
        record = services.insert(key,
                                 services.display_name(form.filename.data or ""),
                                 form.variant.data or "", form.language.data or "",
                                 current_user)
    except (DocumentError, StorageKeyError) as exc:
        _refuse(exc)
        return redirect(url_for("documents.index"))
    flash(_("The clause was inserted. Download the document below."), "success")
    return redirect(url_for("documents.show", record_id=record.id))


@bp.route("/verify", methods=["POST"])
@requires(Permission.DOCUMENTS_VERIFY)
def verify():
    form = VerifyForm()
    if not form.validate_on_submit():
        return _render_index(verify_form=form, status=400)
    try:
        data, filename = services.read_upload(form.document.data)
        record, _result = services.check(data, filename, current_user)
    except (services.UploadError, DocumentError) as exc:
        _refuse(exc)
        return _render_index(verify_form=form, status=422)
    return redirect(url_for("documents.show", record_id=record.id))


@bp.route("/generate", methods=["GET", "POST"])
@requires(Permission.DOCUMENTS_PREPARE)
def generate():
    unit = current_user.org_unit
    form = GenerateForm(authority=unit.letterhead_name if unit else "Stadt Jena",
                        authority_address=unit.postal_address if unit else CITY_ADDRESS)
    if form.validate_on_submit():
        try:
            record = services.generate(form.template.data, form.language.data, form.record(),
                                       current_user)
        except TemplateFieldMissing as exc:
            flash(_("The template needs a value for %(field)s.", field=exc.field), "error")
        except DocumentError as exc:
            _refuse(exc)
        else:
            flash(_("The document was generated with the clause."), "success")
            return redirect(url_for("documents.show", record_id=record.id))
    return render_template("documents/generate.html", form=form)


@bp.route("/<int:record_id>")
@requires(Permission.DOCUMENTS_READ)
def show(record_id: int):
    record = services.get_visible(record_id, current_user) or abort(404)
    file_kept = bool(record.output_sha256 and storage().exists(record.output_sha256))
    # "Erased" only where the audit trail says so (the agreement's retention purge: the
    # hash stays, the file is gone); any other absence is shown as a missing file.
    file_erased = not file_kept and services.files_erased(record)
    return render_template("documents/show.html", record=record, file_kept=file_kept,
                           file_erased=file_erased,
                           location_labels=LOCATION_LABELS, status_labels=STATUS_LABELS,
                           method_labels=METHOD_LABELS, coverage_labels=COVERAGE_LABELS)


@bp.route("/<int:record_id>/download")
@requires(Permission.DOCUMENTS_READ)
def download(record_id: int):
    record = services.get_visible(record_id, current_user) or abort(404)
    if not record.output_sha256:
        abort(404)
    # Always a DOCX the city issued, whatever name the upload had.
    return send_stored(record.output_sha256, services.DOCX_MIMETYPE,
                       with_extension(record.filename, "docx"))


@bp.route("/<int:record_id>/download.pdf")
@requires(Permission.DOCUMENTS_READ)
def download_pdf(record_id: int):
    """The issued DOCX rendered as PDF/A-2b for the e-file (made on request, not stored)."""
    record = services.get_visible(record_id, current_user) or abort(404)
    if not record.output_sha256:
        abort(404)
    try:
        data = storage().get(record.output_sha256)
    except StorageKeyError:
        abort(404)
    try:
        pdf = to_pdfa(data)
    except PdfUnavailable as exc:
        flash(str(exc), "error")
        return redirect(url_for("documents.show", record_id=record.id))
    response = send_file(io.BytesIO(pdf), mimetype=PDF_MIMETYPE, as_attachment=True,
                         download_name=with_extension(record.filename, "pdf"), max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
