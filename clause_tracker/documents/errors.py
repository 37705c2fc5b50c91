"""The errors the DOCX engine raises; each carries a stable code and a translatable message.

Messages are flask_babel lazy strings: outside an application context they
render in English, inside one in the user's language.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from clause_tracker.versioning import RefusedChange

# Every code DocumentRejected may carry; the corpus test and the UI rely on this set.
REJECTION_CODES = frozenset(
    {
        "file_too_large",
        "not_zip",
        "corrupt_zip",
        "not_ooxml",
        "not_word",
        "encrypted",
        "macro_enabled",
        "doctype",
        "part_too_large",
        "total_too_large",
        "compression_ratio",
        "too_many_parts",
        "unsafe_name",
        "unsupported_compression",
        "xml_too_deep",
        "corrupt_xml",
        "no_insertion_point",
        # returned PDFs and images (returned.py)
        "unsupported_type",
        "pdf_encrypted",
        "too_many_pages",
        "image_too_large",
        "resource_limit",
        "corrupt_file",
        "ocr_unavailable",
    }
)


class DocumentError(RefusedChange):
    """Base of the engine's errors: a machine code plus a human message."""

    code: str = "document_error"

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message  # a LazyString; str() renders it

    def __str__(self) -> str:
        return str(self.message)


class DocumentRejected(DocumentError):
    """An uploaded file refused by the ingest checks or unusable for insertion."""

    def __init__(self, code: str, message: Any) -> None:
        if code not in REJECTION_CODES:
            raise ValueError(f"unknown rejection code {code!r}")
        super().__init__(code, message)


class ClauseUnavailable(DocumentError):
    """No published clause text for the requested variant, language or version."""

    def __init__(self, variant: str, language: str, version: str | None = None) -> None:
        if version:
            message = _l(
                "No published clause text %(variant)s/%(language)s in version %(version)s.",
                variant=variant,
                language=language,
                version=version,
            )
        else:
            message = _l(
                "No published clause text %(variant)s/%(language)s is valid today.",
                variant=variant,
                language=language,
            )
        super().__init__("clause_unavailable", message)


class TemplateFieldMissing(DocumentError):
    """A template field without a value in the record."""

    def __init__(self, field: str) -> None:
        super().__init__(
            "field_missing",
            _l("The template field %(field)s has no value in the record.", field=field),
        )
        self.field = field


class UnknownTemplate(DocumentError):
    def __init__(self, kind: str) -> None:
        super().__init__("unknown_template", _l("There is no template %(kind)s.", kind=kind))
        self.kind = kind
