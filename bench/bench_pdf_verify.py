"""Benchmark: verifying a 10-page text PDF against pdftotext of the same file.

    python bench/bench_pdf_verify.py [--rounds 10] [--pdf FILE]

Without --pdf it builds a 10-page contract with reportlab (the clause on its last pages);
--pdf measures any PDF instead, e.g. one exported by LibreOffice.

Prints median times per file for
  pdftotext        Poppler's pdftotext FILE - (a process per run, as a script would use it)
  extraction       the sandbox child's job in this process: structure and active-content
                   scan (pypdf), the text of each page (PDFium), no limits, no process
  verify_returned  the whole check: sniff, the job handed to the limited child that waits
                   ready (the spare), extraction, layout clean-up, locating and comparing
                   the clause; files 50 ms apart, so the next spare is forked in between
                   (uploads are seconds apart)
  ... cold         the same with no spare: the child forked from the forkserver per file
Goal: verify_returned <= 3x pdftotext.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import median_ms, wrap  # bench/ is on sys.path when run as a script

from clause_tracker.clauses.texts import current, default_library_dir, load_library
from clause_tracker.documents import sandbox
from clause_tracker.documents.analyse import analyse
from clause_tracker.documents.returned import verify_returned
from clause_tracker.documents.sandbox import ReturnedLimits

LOREM = (
    "Der Auftragnehmer erbringt die Leistung nach den anerkannten Regeln der Technik, "
    "unter Beachtung der geltenden Vorschriften und in enger Abstimmung mit dem Auftraggeber."
)


def ten_page_pdf(paragraphs: list[str], pages: int = 10) -> bytes:
    """Contract text on the first pages, the clause on the last ones: `pages` A4 pages,
    with a running header and page numbers."""
    # Imported here, not at the top: the sandbox's forkserver preloads __main__, and with
    # reportlab loaded every child took some 40 ms longer to start (measured).
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    width, height = A4
    margin, size, leading = 56.0, 10, 13
    lines = wrap(paragraphs, size, width - 2 * margin)
    per_page = int((height - 2 * margin - 40) // leading)
    clause_pages = -(-len(lines) // per_page)
    filler = [f"({n}) {LOREM}" for n in range((pages - clause_pages) * per_page // 4)]
    filled: list[str] = []
    for paragraph in filler:
        text = paragraph
        while text:
            cut = len(text)
            while stringWidth(text[:cut], "Helvetica", size) > width - 2 * margin:
                cut = text.rfind(" ", 0, cut)
            filled.append(text[:cut])
            text = text[cut:].strip()
        filled.append("")
    filled = filled[: (pages - clause_pages) * per_page]
    everything = filled + [""] * ((pages - clause_pages) * per_page - len(filled)) + lines
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    chunks = [everything[i : i + per_page] for i in range(0, len(everything), per_page)]
    for number, chunk in enumerate(chunks, 1):
        pdf.setFont("Helvetica", size)
        pdf.drawString(margin, height - margin + 10, "Stadt Jena – Dienstleistungsvertrag")
        for row, line in enumerate(chunk):
            if line:
                pdf.drawString(margin, height - margin - 20 - row * leading, line)
        pdf.drawCentredString(width / 2, margin - 20, f"Seite {number} von {len(chunks)}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pdf", type=Path, default=None, help="measure this PDF instead")
    args = parser.parse_args()
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        sys.exit("pdftotext is not installed (apt-get install poppler-utils)")
    library = load_library(default_library_dir())
    clause = current(library, "procurement", "de")
    assert clause is not None
    data = args.pdf.read_bytes() if args.pdf else ten_page_pdf(
        [block.text for block in clause.blocks])
    limits = ReturnedLimits()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contract.pdf"
        path.write_bytes(data)
        result = verify_returned(data, library)
        print(f"document: {analyse('pdf', data, limits, None).page_count} pages, "
              f"{len(data) / 1024:.0f} KiB; result {result.status} ({result.method}, "
              f"similarity {result.similarity:.4f})")
        results = {
            "pdftotext": median_ms(lambda: subprocess.run(
                [pdftotext, "-enc", "UTF-8", str(path), "-"], check=True,
                capture_output=True), args.rounds),
            "extraction (in process)": median_ms(
                lambda: analyse("pdf", data, limits, None), args.rounds),
            "verify_returned": median_ms(lambda: verify_returned(data, library), args.rounds,
                                         pause=0.05),
        }
        sandbox.SPARE_CHILD = False
        results["verify_returned cold"] = median_ms(lambda: verify_returned(data, library),
                                                    args.rounds)
    base = results["pdftotext"]
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"median of {args.rounds} runs per file")
    for name, ms in results.items():
        print(f"  {name:26} {ms:8.1f} ms   {ms / base:6.2f}x pdftotext")
    ratio = results["verify_returned"] / base
    print(f"\ngoal verify_returned <= 3x pdftotext: {'met' if ratio <= 3 else 'NOT met'} "
          f"({ratio:.2f}x)")


if __name__ == "__main__":
    main()
