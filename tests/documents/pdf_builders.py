"""PDFs with exact layouts (reportlab), signed PDFs (pyHanko) and hostile PDFs for the tests."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from asn1crypto import keys, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfWriter
from pypdf.annotations import FreeText
from pypdf.generic import NameObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

FONT, SIZE, LEADING = "Helvetica", 10, 13


def _wrap(words: list[str], width: float, hyphenate: bool) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if stringWidth(candidate, FONT, SIZE) <= width:
            line = candidate
            continue
        if hyphenate and len(word) >= 8 and word.isalpha():
            # Break the long word the way a word processor's hyphenation would.
            for cut in range(len(word) - 3, 2, -1):
                head = f"{line} {word[:cut]}-".strip()
                if stringWidth(head, FONT, SIZE) <= width:
                    lines.append(head)
                    line = word[cut:]
                    break
            else:
                lines.append(line)
                line = word
            continue
        lines.append(line)
        line = word
    if line:
        lines.append(line)
    return lines


def layout_pdf(paragraphs: list[str], *, columns: int = 1, header: str | None = None,
               page_numbers: bool = False, hyphenate: bool = False) -> bytes:
    """The paragraphs on A4 pages, in one or two columns, with a running header and
    "Seite N von M" footers if asked; long words hyphenated at line ends if asked."""
    width, height = A4
    margin, gutter = 56.0, 24.0
    column_width = (width - 2 * margin - (columns - 1) * gutter) / columns
    lines: list[str | None] = []
    for paragraph in paragraphs:
        lines.extend(_wrap(paragraph.split(), column_width, hyphenate))
        lines.append(None)  # paragraph gap
    per_column = int((height - 2 * margin - 40) // LEADING)
    per_page = per_column * columns
    pages = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for number, page in enumerate(pages, 1):
        pdf.setFont(FONT, SIZE)
        if header:
            pdf.drawString(margin, height - margin + 10, header)
        for index, line in enumerate(page):
            column, row = divmod(index, per_column)
            if line:
                pdf.drawString(margin + column * (column_width + gutter),
                               height - margin - 20 - row * LEADING, line)
        if page_numbers:
            pdf.drawCentredString(width / 2, margin - 20, f"Seite {number} von {len(pages)}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def clause_paragraphs(clause) -> list[str]:
    return [block.text for block in clause.blocks]


# --- signatures ---------------------------------------------------------------------------

def make_ca_and_signer(folder: Path) -> tuple[object, Path]:
    """A test CA (its certificate written to `folder`) and a pyHanko signer it issued."""
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> cx509.Name:
        return cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, cn),
                           cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test")])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        cx509.CertificateBuilder().subject_name(name("Test CA Jena")).issuer_name(
            name("Test CA Jena")).public_key(ca_key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(cx509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                      content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False,
                                      encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        cx509.CertificateBuilder().subject_name(name("Erika Mustermann")).issuer_name(
            ca_cert.subject).public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(cx509.KeyUsage(digital_signature=True, content_commitment=True,
                                      key_cert_sign=False, crl_sign=False,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, encipher_only=False,
                                      decipher_only=False), critical=True)
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_path = folder / "test-ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    der = serialization.Encoding.DER
    signer = signers.SimpleSigner(
        signing_cert=x509.Certificate.load(cert.public_bytes(der)),
        signing_key=keys.PrivateKeyInfo.load(key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs(
            [x509.Certificate.load(ca_cert.public_bytes(der))]),
    )
    return signer, ca_path


def sign(pdf: bytes, signer: object, field: str = "Unterschrift") -> bytes:
    """The PDF signed by `signer`. pyHanko's sync API calls asyncio.run(), which refuses to
    run where an event loop already runs in the thread (Playwright's, when the browser tests
    share the worker): so it signs in a thread of its own."""
    def run() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(field_name=field)
        return signers.sign_pdf(writer, meta, signer=signer).getvalue()  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def add_note_after_signing(pdf: bytes) -> bytes:
    """An incremental update after the signature: a text annotation on the first page."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_annotation(0, FreeText(text="nachträglich ergänzt", rect=(50, 50, 250, 90)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- hostile files ---------------------------------------------------------------------------

def with_catalog_entries(pdf: bytes, **entries: object) -> bytes:
    """The PDF with pypdf objects added to its catalog (actions, name trees)."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    for key, value in entries.items():
        writer._root_object[NameObject(f"/{key}")] = value
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def deflate_bomb_pdf(size: int) -> bytes:
    """A one-page PDF whose content stream inflates to `size` bytes of spaces."""
    packer = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    body = b"".join(packer.compress(chunk) for _ in range(size >> 20)) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def png_header_bomb(width: int, height: int) -> bytes:
    """A PNG that declares width × height pixels; its data is a few bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b""))


def invisible_text_pdf(hidden: list[str], *, image: Path | None = None,
                       visible: list[str] | None = None) -> bytes:
    """One A4 page: `hidden` lines in render mode 3 (invisible, as a scanner's OCR layer),
    over a full-page `image` and/or below `visible` lines."""
    width, height = A4
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    if image is not None:
        pdf.drawImage(str(image), 0, 0, width, height)
    pdf.setFont(FONT, SIZE)
    y = height - 60
    for line in visible or []:
        pdf.drawString(56, y, line)
        y -= LEADING
    text = pdf.beginText(56, y)
    text.setFont(FONT, SIZE)
    text.setTextRenderMode(3)
    for line in hidden:
        text.textLine(line)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
