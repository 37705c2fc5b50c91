"""DOCX engine: hostile-file ingest, clause insertion, verification and template generation;
verify_returned checks returned PDFs and scans too.

Needs neither a database nor an application context; the web layer and the
``clause-tracker docx`` command both call the functions re-exported here.
"""

from clause_tracker.documents.errors import (
    ClauseUnavailable,
    DocumentError,
    DocumentRejected,
    TemplateFieldMissing,
)
from clause_tracker.documents.generate import TEMPLATE_KINDS, generate
from clause_tracker.documents.ingest import Limits
from clause_tracker.documents.insert import (
    InsertResult,
    insert_clause,
    preview_location,
    select_clause,
)
from clause_tracker.documents.locate import Location
from clause_tracker.documents.provenance import Provenance
from clause_tracker.documents.returned import settings as returned_settings
from clause_tracker.documents.returned import verify_returned
from clause_tracker.documents.sandbox import ReturnedLimits
from clause_tracker.documents.verify import VerifyResult, verify

__all__ = [
    "TEMPLATE_KINDS",
    "ClauseUnavailable",
    "DocumentError",
    "DocumentRejected",
    "InsertResult",
    "Limits",
    "Location",
    "Provenance",
    "ReturnedLimits",
    "TemplateFieldMissing",
    "VerifyResult",
    "generate",
    "insert_clause",
    "preview_location",
    "returned_settings",
    "select_clause",
    "verify",
    "verify_returned",
]
