"""Imported only into the sandbox's forkserver: one analysis of a small PDF of our own.

pypdf and PDFium load modules and fill caches on first use (text extraction, fonts,
encodings). Done here once, that memory is the forkserver's and every child forked
from it starts with it, instead of loading it again for each file (measured: a child's
analysis of a 10-page PDF took half as long again without this). The sample has a page
for each reader: one of ordinary text (PDFium) and one with invisible text (pypdf).
"""

from __future__ import annotations

import logging

from clause_tracker.documents.analyse import analyse
from clause_tracker.documents.sandbox import ReturnedLimits

_PAGES = (
    b"BT /F1 10 Tf 56 780 Td (Vertrag \\374ber B\\374rom\\366bel) Tj 0 -13 Td "
    b"(Der Auftragnehmer erbringt die Leistung nach den Regeln der Technik.) Tj ET",
    b"BT /F1 10 Tf 56 780 Td (Unterschrift der Vertragsparteien) Tj 0 -13 Td "
    b"3 Tr (verborgene Worte einer Texterkennung) Tj ET",
)


def sample_pdf() -> bytes:
    """Two A4 pages in Helvetica, written object by object with their cross-references."""
    kids = " ".join(f"{3 + 2 * n} 0 R" for n in range(len(_PAGES)))
    objects = [b"<</Type/Catalog/Pages 2 0 R>>",
               f"<</Type/Pages/Kids[{kids}]/Count {len(_PAGES)}>>".encode()]
    font = 3 + 2 * len(_PAGES)
    for number, content in enumerate(_PAGES):
        objects.append(f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font"
                       f"<</F1 {font} 0 R>>>>/Contents {4 + 2 * number} 0 R>>".encode())
        objects.append(b"<</Length %d>>stream\n%s\nendstream" % (len(content) + 1, content))
    objects.append(b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica"
                   b"/Encoding/WinAnsiEncoding>>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def warm_up() -> None:
    try:
        analyse("pdf", sample_pdf(), ReturnedLimits(), None)
    except Exception:  # a cold start is slower, never wrong: the forkserver must come up
        logging.getLogger(__name__).exception("warming the PDF readers up failed")


warm_up()
