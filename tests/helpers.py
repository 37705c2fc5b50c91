"""Small helpers the test modules share: paths, the test password, form fields of a page,
queries for assertions. Records are made in tests/factories.py."""

from __future__ import annotations

import re
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
