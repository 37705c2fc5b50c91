"""Evidence files are recognised by content, limited in size and stored under their hash."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import docx
import pytest

from clause_tracker.declarations import evidence
from clause_tracker.storage import LocalStorage, StorageKeyError, safe_filename, storage
from tests.helpers import PDF

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


def _docx() -> bytes:
    out = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Eigenerklärung")
    document.save(out)
    return out.getvalue()


def _stored(app) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()]


@pytest.mark.parametrize(("data", "mimetype"), [
    (PDF, evidence.PDF), (PNG, evidence.PNG), (JPEG, evidence.JPEG), (None, evidence.DOCX),
])
def test_accepted_types(app, data: bytes | None, mimetype: str) -> None:
    data = data or _docx()
    found = evidence.accept(data, "scan.bin")
    assert found.mimetype == mimetype
    assert found.sha256 == hashlib.sha256(data).hexdigest() == found.key
    assert storage().get(found.key) == data


def test_name_does_not_make_a_type(app) -> None:
    with pytest.raises(evidence.EvidenceError, match="PDF, DOCX, PNG or JPEG"):
        evidence.accept(b"MZ\x90\x00 a windows program", "erklaerung.pdf")
    assert _stored(app) == []


def test_macro_document_is_refused(app) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, zipfile.ZipFile(io.BytesIO(_docx())) as src:
        for item in src.infolist():
            z.writestr(item, src.read(item.filename))
        z.writestr("word/vbaProject.bin", b"\0" * 32)
    with pytest.raises(evidence.EvidenceError, match=r"contains macros \(VBA\)"):
        evidence.accept(out.getvalue(), "erklaerung.docx")
    assert _stored(app) == []


def test_size_limit_and_empty(app) -> None:
    with pytest.raises(evidence.EvidenceError, match="larger"):
        evidence.accept(PDF + b"\0" * 2048, "big.pdf", max_bytes=1024)
    with pytest.raises(evidence.EvidenceError, match="empty"):
        evidence.accept(b"", "empty.pdf")
    assert _stored(app) == []


def test_storage_never_overwrites_and_refuses_odd_keys(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    key = store.put(b"one")
    path = next(p for p in tmp_path.rglob("*") if p.is_file())
    before = path.stat().st_mtime_ns
    assert store.put(b"one") == key
    assert path.stat().st_mtime_ns == before
    for bad in ("../../etc/passwd", "A" * 64, key[:-1]):
        with pytest.raises(StorageKeyError, match=re.escape(repr(bad))):
            store.get(bad)


def test_safe_filename() -> None:
    assert safe_filename("C:\\Users\\x\\Erklärung ä.pdf") == "Erklärung ä.pdf"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("..", "evidence") == "evidence"
    assert safe_filename('a"b\r\nc.pdf') == "a_b_c.pdf"
