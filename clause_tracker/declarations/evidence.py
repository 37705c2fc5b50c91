"""Evidence files (signed declarations and the like): PDF, DOCX, PNG or JPEG, by content.

The name a user gives a file says nothing about what it is; the first bytes do.
DOCX evidence goes through the document engine's hostile-file checks as well.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from clause_tracker.documents import DocumentError
from clause_tracker.documents.ingest import Limits, check_bytes
from clause_tracker.storage import safe_filename, storage, with_extension
from clause_tracker.versioning import RefusedChange

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", DOCX: "docx"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class EvidenceError(RefusedChange):
    """A file refused as evidence; the message says why, in the user's language."""


@dataclass(frozen=True)
class Evidence:
    key: str  # storage key (= SHA-256)
    sha256: str
    mimetype: str
    size: int
    filename: str  # the user's name for it, for display and download only


def sniff(data: bytes) -> str | None:
    """The evidence type the content shows, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return DOCX  # confirmed by the document engine's checks below
    return None


def accept(data: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Evidence:
    """Validate and store an evidence file; nothing is stored when it is refused."""
    if not data:
        raise EvidenceError(_l("The evidence file is empty."))
    if len(data) > max_bytes:
        raise EvidenceError(_l("The evidence file is larger than %(size)d MiB.",
                               size=max_bytes // 2**20))
    mimetype = sniff(data)
    if mimetype is None:
        raise EvidenceError(_l("Evidence must be a PDF, DOCX, PNG or JPEG file; this file "
                               "is none of them, whatever its name says."))
    if mimetype == DOCX:
        try:
            check_bytes(data, Limits.current())
        except DocumentError as exc:
            raise EvidenceError(str(exc)) from exc
    key = storage().put(data)
    return Evidence(key=key, sha256=hashlib.sha256(data).hexdigest(), mimetype=mimetype,
                    size=len(data), filename=download_name(filename, mimetype))


def download_name(filename: str | None, mimetype: str | None) -> str:
    """The evidence's name with the extension of the type its content showed ("x.html"
    holding a PDF is "x.pdf"); a type not among the evidence types gets ".bin"."""
    return with_extension(filename or "evidence", EXTENSIONS.get(mimetype or "", "bin"))


def download_type(mimetype: str | None) -> str:
    """The Content-Type of a download: the detected evidence type, else plain bytes."""
    return mimetype if mimetype in EXTENSIONS else "application/octet-stream"


def accept_upload(file: FileStorage, max_bytes: int = DEFAULT_MAX_BYTES) -> Evidence:
    data = file.stream.read(max_bytes + 1)
    return accept(data, safe_filename(file.filename or "", "evidence"), max_bytes)
