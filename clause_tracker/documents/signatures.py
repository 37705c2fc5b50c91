"""Electronic signatures in a returned PDF (PAdES and plain PDF signatures), with pyHanko.

For each signature: is it intact, who signed (the certificate's CN), when (the time the
signer's software claims), does it cover the whole file or was content added after it
(incremental updates), and does the signer chain to a configured trust list. Without a
trust list `trusted` is None: intact says nothing about who the signer really is.
Runs inside the sandbox's child (see analyse.py); nothing is fetched from the network.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

UNCHECKED = "signature intact, signer not checked against a trust list"
_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


def load_trust_roots(folder: str | None) -> list[x509.Certificate] | None:
    """The CA certificates (PEM or DER) in `folder`, or None when no folder is configured."""
    if not folder:
        return None
    roots: list[x509.Certificate] = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in _CERT_SUFFIXES or not path.is_file():
            continue
        raw = path.read_bytes()
        blobs = [der for _, _, der in pem.unarmor(raw, multiple=True)] if pem.detect(raw) \
            else [raw]
        roots.extend(x509.Certificate.load(der) for der in blobs)
    return roots


def check_signatures(data: bytes, trust_dir: str | None) -> list[dict[str, Any]]:
    """One dict per embedded signature, in the order they appear in the file."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return []
    # pyHanko logs every failed path and suspicious diff with a traceback; the result says it.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    roots = load_trust_roots(trust_dir)
    results = []
    for number, embedded in enumerate(signatures):
        context = ValidationContext(trust_roots=roots or [], allow_fetching=False,
                                    revocation_mode="soft-fail")
        later = number < len(signatures) - 1
        results.append(_describe(embedded, context, roots is not None, later))
    return results


def _coverage(status: Any, later_signatures: bool) -> str:
    """entire_document, signed_again (only later signatures and form fields were added; the
    pages are unchanged) or modified_after_signing."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "entire_document"
    level = status.modification_level
    if status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and status.docmdp_ok:
        if level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES):
            return "entire_document"  # validation data (DSS, timestamps) only
        if level == ModificationLevel.FORM_FILLING and later_signatures:
            return "signed_again"  # countersigned: the other party's signature came after
    return "modified_after_signing"


def _describe(embedded: Any, context: ValidationContext, have_roots: bool,
              later_signatures: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"field": embedded.field_name}
    try:
        status = validate_pdf_signature(embedded, signer_validation_context=context)
    except Exception as exc:  # a malformed signature is a failed one, not a crash
        return entry | {"intact": False, "signer": None, "signing_time": None,
                        "coverage": "unknown", "trusted": False if have_roots else None,
                        "trust": f"signature could not be validated: {str(exc)[:200]}"}
    cert = status.signing_cert
    subject = cert.subject.native if cert is not None else {}
    modification = status.modification_level
    entry |= {
        "intact": bool(status.intact and status.valid),
        "signer": subject.get("common_name"),
        "signing_time": status.signer_reported_dt.isoformat()
        if status.signer_reported_dt else None,
        "coverage": _coverage(status, later_signatures),
        "modification": modification.name.lower() if modification is not None else None,
        "trusted": bool(status.trusted) if have_roots else None,
    }
    if not entry["intact"]:
        entry["trust"] = "signature broken: the signed content was changed"
    elif not have_roots:
        entry["trust"] = UNCHECKED
    else:
        entry["trust"] = "signer chains to the trust list" if entry["trusted"] else \
            "signer does not chain to the trust list"
    return entry
