"""Benchmark: OCR of a scanned contract, per A4 page at 300 dpi.

    python bench/bench_ocr.py [--rounds 2]

The clause is laid out on A4 pages (reportlab), rasterised at 300 dpi (pdftoppm) and
rebuilt as an image-only PDF, as a scanner would send it. Prints per page
  tesseract        the bare `tesseract page.png stdout -l deu` on each page image
  verify_returned  the whole check: the limited child, pdftoppm, Tesseract, comparing
Goal: verify_returned <= 4 s per page.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import wrap  # bench/ is on sys.path when run as a script

from clause_tracker.clauses.texts import current, default_library_dir, load_library
from clause_tracker.documents.returned import verify_returned


def clause_pdf(paragraphs: list[str]) -> bytes:
    # Imported here: the sandbox's forkserver preloads __main__, and reportlab there made
    # every child slower to start (see bench_pdf_verify.py).
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    width, height = A4
    margin, size, leading = 56.0, 11, 15
    lines = wrap(paragraphs, size, width - 2 * margin)
    per_page = int((height - 2 * margin) // leading)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for start in range(0, len(lines), per_page):
        pdf.setFont("Helvetica", size)
        for row, line in enumerate(lines[start : start + per_page]):
            pdf.drawString(margin, height - margin - row * leading, line)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def scan(pdf: bytes, folder: Path) -> tuple[bytes, list[Path]]:
    from PIL import Image

    (folder / "clean.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(folder / "clean.pdf"),
                    str(folder / "page")], check=True)
    pages = sorted(folder.glob("page*.png"))
    images = [Image.open(p) for p in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=300)
    return out.getvalue(), pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for tool in ("pdftoppm", "tesseract"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install poppler-utils tesseract-ocr "
                     "tesseract-ocr-deu)")
    library = load_library(default_library_dir())
    clause = current(library, "procurement", "de")
    assert clause is not None
    with tempfile.TemporaryDirectory() as folder:
        data, pages = scan(clause_pdf([b.text for b in clause.blocks]), Path(folder))
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        bare, whole = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for page in pages:
                subprocess.run(["tesseract", str(page), "stdout", "-l", "deu"], check=True,
                               capture_output=True, env=env)
            bare.append((time.perf_counter() - start) / len(pages))
            start = time.perf_counter()
            result = verify_returned(data, library)
            whole.append((time.perf_counter() - start) / len(pages))
    print(f"scan: {len(pages)} A4 pages at 300 dpi, {len(data) / 1024:.0f} KiB; result "
          f"{result.status} ({result.method}, similarity {result.similarity:.4f})")
    tesseract, verified = statistics.median(bare), statistics.median(whole)
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"median of {args.rounds} runs, per page")
    print(f"  tesseract (bare)         {tesseract:6.2f} s   1.00x")
    print(f"  verify_returned          {verified:6.2f} s   {verified / tesseract:4.2f}x")
    print(f"\ngoal <= 4 s per page: {'met' if verified <= 4 else 'NOT met'} ({verified:.2f} s)")


if __name__ == "__main__":
    main()
