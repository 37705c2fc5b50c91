"""Small helpers the test modules share: paths, the test password, form fields of a page,
queries for assertions. Records are made in tests/factories.py."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from clause_tracker.checks.models import ComplianceCheck
from clause_tracker.extensions import db
from clause_tracker.i18n import LANGUAGE_COOKIE

if TYPE_CHECKING:
    from flask.testing import FlaskClient

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"  # every user made by the fixtures has it
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HIDDEN = re.compile(r'name="(csrf_token|once|version)"[^>]*value="([^"]*)"')


def hidden_fields(client: FlaskClient, path: str) -> dict[str, str]:
    """The CSRF token, one-time token and version of the (first) form on a page."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    found: dict[str, str] = {}
    for name, value in HIDDEN.findall(page.get_data(as_text=True)):
        found.setdefault(name, value)
    return found


def german(client: FlaskClient) -> FlaskClient:
    """Pin the client's interface language to German (the language cookie), so that a test
    asserts the German wording and nothing else."""
    client.set_cookie(LANGUAGE_COOKIE, "de")
    return client


def checks_of(agreement_id: int) -> list[ComplianceCheck]:
    return list(db.session.scalars(select(ComplianceCheck).where(
        ComplianceCheck.agreement_id == agreement_id).order_by(ComplianceCheck.id)))


def replace_in_docx(docx: bytes, old: str, new: str) -> bytes:
    """The DOCX with the first `old` of its main part replaced by `new` (as a counterparty
    might change a word of the clause before signing)."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text, f"{old!r} is not in the document"
                data = text.replace(old, new, 1).encode("utf-8")
            target.writestr(item, data)
    return out.getvalue()
