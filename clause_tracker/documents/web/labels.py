"""Labels of the documents desk's codes."""

import re

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



# The engine's warnings are stored as written (English, also in `verify --json`); the pages
# show them in the reader's language. Patterns for those that carry a value.
WARNING_LABELS = {
    "the content control holds only part of the clause":
        _l("The content control holds only part of the clause."),
    "the clause is not in a locked content control":
        _l("The clause is not in a locked content control."),
    "hidden text inside the clause was ignored": _l("Hidden text inside the clause was ignored."),
    "read by OCR: a person must confirm the match":
        _l("Read by OCR: a person must confirm the match."),
    "a signature is broken: the signed content was changed":
        _l("A signature is broken: the signed content was changed."),
    "MODIFIED AFTER SIGNING: the document was modified after it was signed":
        _l("MODIFIED AFTER SIGNING: the document was modified after it was signed."),
    "invisible text in the PDF was ignored (a scanner's text layer, or words hidden on purpose)":
        _l("Invisible text in the PDF was ignored (a scanner's text layer, or words hidden on "
           "purpose)."),
    "the PDF contains JavaScript (not run)": _l("The PDF contains JavaScript (not run)."),
    "the PDF contains a launch action that would start a program (not run)":
        _l("The PDF contains a launch action that would start a program (not run)."),
    "the PDF contains an import-data action (not run)":
        _l("The PDF contains an import-data action (not run)."),
    "the PDF contains an action that opens an embedded document (not run)":
        _l("The PDF contains an action that opens an embedded document (not run)."),
    "the PDF contains embedded files (not opened)":
        _l("The PDF contains embedded files (not opened)."),
}
WARNING_PATTERNS = [
    (re.compile(r"^(?P<count>\d+) clause content controls; the first is checked$"),
     _l("%(count)s content controls hold the clause; the first is checked.")),
    (re.compile(r"^(?P<count>\d+) copies of the clause were in the document; one is left$"),
     _l("%(count)s copies of the clause were in the document; one is left.")),
    (re.compile(r"^removed external (?P<kind>\S+) reference to (?P<target>.*)$", re.S),
     _l("An external reference (%(kind)s) to %(target)s was removed.")),
    (re.compile(r"^the document's provenance names version (?P<named>\S+) \((?P<named_hash>\w+)\), "
                r"the text found is (?P<found>\S+) \((?P<found_hash>\w+)\)$"),
     _l("The document's provenance names version %(named)s (%(named_hash)s); the text found "
        "is version %(found)s (%(found_hash)s).")),
]


def warning_text(warning: str) -> str:
    """A stored warning in the reader's language (as stored where it is not known)."""
    known = WARNING_LABELS.get(warning)
    if known is not None:
        return str(known)
    for pattern, label in WARNING_PATTERNS:
        found = pattern.match(warning)
        if found:
            return str(label) % found.groupdict()
    return warning
