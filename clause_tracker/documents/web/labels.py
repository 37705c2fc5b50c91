"""Labels of the documents desk's codes."""

from flask_babel import lazy_gettext as _l

METHOD_LABELS = {
    "docx": _l("Word document (DOCX)"),
    "pdf_text": _l("text of the PDF"),
    "ocr": _l("text recognition (OCR) of a scan"),
}

COVERAGE_LABELS = {
    "entire_document": _l("covers the entire document"),
    "signed_again": _l("covers the document; only later signatures were added"),
    "modified_after_signing": _l("the document was modified after signing"),
    "unknown": _l("unknown"),
}


STATUS_LABELS = {
    "verbatim": _l("Clause present, word for word"),
    "formatting_only": _l("Clause present, word for word; only the formatting differs"),
    "ocr_match": _l("Scan matches the clause as far as OCR can tell; a person must confirm"),
    "deviation": _l("The clause text was changed"),
    "tracked_changes": _l("Tracked changes in the clause are not yet accepted or rejected"),
    "missing": _l("No clause found"),
    "manual": _l("Checked by hand (paper copy)"),
}

