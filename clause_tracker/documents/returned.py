"""One entry point for every returned file: DOCX, PDF (text, scanned, signed), PNG, JPEG, TIFF.

The type comes from the file's first bytes, never from its name. A DOCX goes to
verify.py; PDFs and images are parsed in the sandbox's limited child (analyse.py) and
the clause is then found and compared word by word here (match.py).

Statuses: a PDF's text layer gives `verbatim`, `deviation` or `missing` (never
`formatting_only` or `tracked_changes`: a PDF keeps neither styles nor revisions).
OCR is never proof of the exact words: a scan close enough to a published text
(similarity ≥ the threshold) is `ocr_match`, for a person to confirm; below it
`deviation`. The differing words are in `diff` either way.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents.analysis import Analysis
from clause_tracker.documents.errors import DocumentRejected
from clause_tracker.documents.ingest import Limits, check_size
from clause_tracker.documents.layout import join_lines, strip_running_lines, vocabulary
from clause_tracker.documents.match import find_clause
from clause_tracker.documents.sandbox import Refused, ReturnedLimits, run_limited
from clause_tracker.documents.verify import VerifyResult, verify

DEFAULT_OCR_THRESHOLD = 0.97
KINDS = ("docx", "pdf", "image")
# By name: the child has the parsers (pypdf, pyHanko, Pillow) loaded; this process need not.
_ANALYSE = "clause_tracker.documents.analyse:analyse"
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


def sniff(data: bytes) -> str | None:
    """ "docx", "pdf", "image" or None, from the magic bytes."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # OLE: an encrypted DOCX
        return "docx"
    if b"%PDF-" in data[:1024]:  # readers accept junk before the header, so do we
        return "pdf"
    if data.startswith(_IMAGE_MAGIC):
        return "image"
    return None


def settings() -> tuple[float, str | None]:
    """OCR_MATCH_THRESHOLD and SIGNATURE_TRUST_DIR of the active app (or the defaults)."""
    if not has_app_context():
        return DEFAULT_OCR_THRESHOLD, None
    config = current_app.config
    return (float(config.get("OCR_MATCH_THRESHOLD", DEFAULT_OCR_THRESHOLD)),
            config.get("SIGNATURE_TRUST_DIR") or None)


def verify_returned(
    data: bytes,
    library: list[ClauseText],
    *,
    limits: Limits | None = None,
    returned_limits: ReturnedLimits | None = None,
    ocr_threshold: float = DEFAULT_OCR_THRESHOLD,
    trust_dir: str | None = None,
) -> VerifyResult:
    """Check a returned file of any supported kind; raises DocumentRejected when refused."""
    limits = limits if limits is not None else Limits.current()
    check_size(len(data), limits)
    kind = sniff(data)
    if kind == "docx":
        return verify(data, library, limits=limits)
    if kind is None:
        raise _rejection(Refused("unsupported_type"))
    sandbox_limits = returned_limits if returned_limits is not None else ReturnedLimits.current()
    try:
        found: Analysis = run_limited(_ANALYSE, kind, data, sandbox_limits, trust_dir,
                                      limits=sandbox_limits)
    except Refused as exc:
        raise _rejection(exc) from None
    return _result(data, found, library, ocr_threshold)


def _result(data: bytes, found: Analysis, library: list[ClauseText],
            threshold: float) -> VerifyResult:
    result = VerifyResult(status="missing", sha256=hashlib.sha256(data).hexdigest(),
                          method=found.method, signatures=found.signatures,
                          warnings=list(found.warnings))
    if any(s.get("coverage") not in ("entire_document", "signed_again")
           for s in found.signatures):
        result.warnings.insert(
            0, "MODIFIED AFTER SIGNING: the document was modified after it was signed")
    if any(not s.get("intact") for s in found.signatures):
        result.warnings.insert(0, "a signature is broken: the signed content was changed")
    lines = strip_running_lines(found.pages)
    text = join_lines(lines, _vocabulary(tuple(library)))
    match = find_clause(text, library)
    result.similarity = match.similarity
    if match.text is None:
        return result
    clause = match.text
    result.clause_id, result.variant = clause.clause_id, clause.variant
    result.version, result.language = clause.version, clause.language
    result.found_in = "text"
    if found.method == "ocr":
        result.diff = match.diff
        result.status = "ocr_match" if match.similarity >= threshold else "deviation"
        result.warnings.append("read by OCR: a person must confirm the match")
    else:
        result.status = "verbatim" if match.exact else "deviation"
        result.diff = [] if match.exact else match.diff
    return result


@functools.lru_cache(maxsize=8)
def _vocabulary(library: tuple[ClauseText, ...]) -> frozenset[str]:
    return vocabulary(text.canonical for text in library)


def _message(code: str, p: dict[str, Any]) -> Any:
    # One literal per message, so that pybabel finds them.
    if code == "unsupported_type":
        return _l("The file is neither a Word document (DOCX), a PDF nor an image "
                  "(PNG, JPEG, TIFF).")
    if code == "pdf_encrypted":
        return _l("The PDF is encrypted or password-protected. Remove the protection "
                  "(or print it to a new PDF) and upload it again.")
    if code == "too_many_pages":
        return _l("The file has %(pages)s pages; at most %(limit)s are read.",
                  pages=p.get("pages", "?"), limit=p.get("limit", "?"))
    if code == "image_too_large":
        return _l("An image or page is too large to read (%(width)s × %(height)s pixels; "
                  "at most %(limit)s pixels).", width=p.get("width", "?"),
                  height=p.get("height", "?"), limit=p.get("limit", "?"))
    if code == "resource_limit":
        return _l("Reading the file took more than the allowed time or memory (%(what)s); "
                  "it may be damaged or built to overload the system.",
                  what=p.get("what", "?"))
    if code == "ocr_unavailable":
        return _l("Scans cannot be read: %(tool)s is not installed on the server.",
                  tool=p.get("tool", "?"))
    return _l("The file is damaged and cannot be read.")


def _rejection(exc: Refused) -> DocumentRejected:
    code = exc.code if exc.code in _CODES else "corrupt_file"
    return DocumentRejected(code, _message(code, exc.params))


_CODES = frozenset({"unsupported_type", "pdf_encrypted", "too_many_pages", "image_too_large",
                    "resource_limit", "corrupt_file", "ocr_unavailable"})
