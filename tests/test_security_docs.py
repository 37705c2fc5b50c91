"""Issue 13, from the security side: documents, evidence, generated contracts, complaints and
four-eyes decisions. Each test reproduces a finding of the review and asserts the behaviour."""

from __future__ import annotations

import hashlib
import io
import re

import docx
from sqlalchemy import func, select

from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from tests.helpers import german


def _docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _upload(client, csrf, path: str, data: bytes, name: str = "vertrag.docx", **fields):
    form = {"csrf_token": csrf(client, "/documents/"), "document": (io.BytesIO(data), name)}
    form.update(fields)
    return client.post(path, data=form, content_type="multipart/form-data")


def _confirm_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(upload|filename|variant|language)"[^>]*value="([^"]*)"',
                           page))


def _records() -> int:
    return db.session.scalar(select(func.count()).select_from(DocumentRecord))


def _logout(client, csrf) -> None:
    client.post("/logout", data={"csrf_token": csrf(client, "/")})


# --- 10. the insert confirmation reads only the user's own pending upload --------------------

def test_insert_confirm_refuses_another_units_file_by_its_hash(client, make_user, login,
                                                               published_clauses, csrf) -> None:
    jk = make_user("procurement_officer", "JK")
    kij = make_user("procurement_officer", "KIJ")
    secret = _docx("Vertrag JenaKultur: Honorar 48.000 € an Frau Beispiel",
                   "{{ antirassismusklausel }}", "Unterschriften")
    login(client, jk.username)
    preview = _upload(client, csrf, "/documents/insert", secret, variant="procurement",
                      language="de")
    assert preview.status_code == 200
    jk_fields = _confirm_fields(preview.get_data(as_text=True))
    _logout(client, csrf)

    sha = hashlib.sha256(secret).hexdigest()
    login(client, kij.username)
    german(client)
    before = _records()
    # The SHA-256 of JenaKultur's upload (a hash is no secret: it is shown on every record) …
    forged = {"csrf_token": csrf(client, "/documents/"), "upload": sha,
              "filename": "kij.docx", "variant": "procurement", "language": "de"}
    done = client.post("/documents/insert/confirm", data=forged, follow_redirects=True)
    assert "Der Upload ist abgelaufen" in done.get_data(as_text=True)
    # … and JenaKultur's own confirmation token, copied: neither is KIJ's upload.
    copied = jk_fields | {"csrf_token": csrf(client, "/documents/")}
    done = client.post("/documents/insert/confirm", data=copied, follow_redirects=True)
    assert "Der Upload ist abgelaufen" in done.get_data(as_text=True)
    assert _records() == before
    assert not db.session.scalars(select(DocumentRecord).where(
        DocumentRecord.input_sha256 == sha)).all()
    _logout(client, csrf)

    # The uploader's own token still confirms.
    login(client, jk.username)
    own = jk_fields | {"csrf_token": csrf(client, "/documents/")}
    assert client.post("/documents/insert/confirm", data=own).status_code == 302
    record = db.session.scalar(select(DocumentRecord).where(DocumentRecord.input_sha256 == sha))
    assert record is not None and record.created_by_id == jk.id
