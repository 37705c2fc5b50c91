"""The job the sandbox's child runs on a returned PDF or image: everything that parses
the hostile bytes (pypdf, pyHanko, Pillow, pdftoppm, Tesseract) happens here.

It returns plain data (analysis.Analysis: pages of lines, warnings, signatures); locating
and comparing the clause happen in the caller (returned.py), which never imports this
module: the parsers stay out of the web workers, loaded only in the sandbox's forkserver.
"""

from __future__ import annotations

import io
import logging

import pypdfium2 as pdfium
from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PdfReadError, PyPdfError

from clause_tracker.documents import ocr
from clause_tracker.documents.analysis import Analysis
from clause_tracker.documents.pdf_safety import active_content
from clause_tracker.documents.pdf_text import PageText, page_lines, quick_page_lines
from clause_tracker.documents.sandbox import Refused, ReturnedLimits
from clause_tracker.documents.signatures import check_signatures

# A page with fewer visible characters than this in its text layer counts as an image.
MIN_TEXT_PER_PAGE = 25


def analyse(kind: str, data: bytes, limits: ReturnedLimits, trust_dir: str | None) -> Analysis:
    # pypdf logs each oddity of a broken file; the result (or the refusal) says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if kind == "image":
        texts = ocr.ocr_image(data, limits)
        return Analysis("ocr", [t.splitlines() for t in texts], len(texts))
    try:
        return _analyse_pdf(data, limits, trust_dir)
    except LimitReachedError as exc:
        raise Refused("resource_limit", what="decompressed size") from exc
    except (PdfReadError, PyPdfError) as exc:
        raise Refused("corrupt_file", detail=str(exc)[:200]) from exc


def _analyse_pdf(data: bytes, limits: ReturnedLimits, trust_dir: str | None) -> Analysis:
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise Refused("pdf_encrypted")
    count = len(reader.pages)
    if count == 0:
        raise Refused("corrupt_file", detail="no pages")
    if count > limits.max_pages:
        raise Refused("too_many_pages", pages=count, limit=limits.max_pages)
    warnings = active_content(reader)
    texts = _page_texts(data, reader)
    pages = [text.lines for text in texts]
    visible = sum(len("".join(line.split())) for page in pages for line in page)
    if any(text.hidden for text in texts):
        warnings.append("invisible text in the PDF was ignored (a scanner's text layer, "
                        "or words hidden on purpose)")
    # Signature dictionaries are never in object streams (their /ByteRange is patched in
    # place), so a file without the word has none and skips pyHanko's parse.
    signatures = check_signatures(data, trust_dir) if b"/ByteRange" in data else []
    if visible >= MIN_TEXT_PER_PAGE * max(1, count):
        return Analysis("pdf_text", pages, count, warnings, signatures)
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    ocr.check_page_sizes(sizes, limits)
    scanned = ocr.ocr_pdf(data, limits)
    return Analysis("ocr", [t.splitlines() for t in scanned], count, warnings, signatures)


def _page_texts(data: bytes, reader: PdfReader) -> list[PageText]:
    """Each page by PDFium where it can read it alone, else by pypdf (pdf_text.py)."""
    document = pdfium.PdfDocument(data)
    try:
        texts = []
        for index, page in enumerate(reader.pages):
            # pypdf caps the decompressed size (LimitReachedError); PDFium would not stop
            # before the memory limit. So the content is inflated here first.
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()
            quick = document[index]
            try:
                lines = quick_page_lines(quick)
            finally:
                quick.close()
            texts.append(PageText(lines, 0) if lines is not None else page_lines(page))
        return texts
    finally:
        document.close()
