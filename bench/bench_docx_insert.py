"""Benchmark: clause insertion on a 40-section contract against a plain ZIP rewrite.

    python bench/bench_docx_insert.py [--rounds 50] [--batch 1000]

Prints median times per document for
  floor      zipfile: read every entry and write them all to a new archive
  insert     clause_tracker.documents.insert_clause (ingest checks + insert + provenance)
  python-docx   open, append the clause paragraphs, save (the naive way)
  docxtpl    rendering the same placeholder (if docxtpl is installed)
and a batch of N documents through insert_clause. Goal: insert <= 1.5x floor.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from pathlib import Path

import docx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import median_ms  # bench/ is on sys.path when run as a script

from clause_tracker.clauses.texts import current, default_library_dir, load_library
from clause_tracker.documents import insert_clause

LOREM = (
    "Der Auftragnehmer erbringt die Leistung nach den anerkannten Regeln der Technik, "
    "unter Beachtung der geltenden Vorschriften und in enger Abstimmung mit dem Auftraggeber. "
)


def contract(sections: int = 40) -> bytes:
    document = docx.Document()
    document.add_heading("Vertrag über Dienstleistungen", level=0)
    for number in range(1, sections + 1):
        document.add_heading(f"§ {number} Regelung Nummer {number}", level=1)
        for paragraph in range(4):
            p = document.add_paragraph(f"({paragraph + 1}) ")
            p.add_run(LOREM * 2)
            p.add_run("Frist: 30 Tage.").bold = True
        if number % 10 == 0:
            table = document.add_table(rows=3, cols=3)
            for row in table.rows:
                for cell in row.cells:
                    cell.text = "Position"
    document.add_paragraph("{{ antirassismusklausel }}")
    document.add_heading("Unterschriften", level=1)
    document.add_paragraph("Jena, den 05.03.2026")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def floor(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def naive_python_docx(data: bytes, paragraphs: tuple[str, ...]) -> bytes:
    document = docx.Document(io.BytesIO(data))
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb(size: int = 1 << 30) -> bytes:
    """A DOCX-shaped ZIP whose document.xml unpacks to `size` zeros (about 1 MiB per GiB)."""
    out = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as stream:
            for _ in range(size // len(chunk)):
                stream.write(chunk)
    return out.getvalue()


def measure_bomb(clause: object) -> None:
    import tracemalloc

    from clause_tracker.documents import DocumentRejected

    bomb = zip_bomb()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        insert_clause(bomb, clause)
    except DocumentRejected as rejection:
        code = rejection.code
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"\n1 GiB zip bomb ({len(bomb) / 1024:.0f} KiB file): refused as {code} in "
          f"{elapsed * 1000:.2f} ms, peak traced memory {peak / (1 << 20):.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    library = load_library(default_library_dir())
    clause = current(library, "procurement", "de")
    assert clause is not None, "clause_texts/procurement has no current German text"
    data = contract()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document_xml = len(archive.read("word/document.xml"))
    print(f"document: 40 sections, {len(data) / 1024:.0f} KiB file, "
          f"word/document.xml {document_xml / 1024:.0f} KiB")

    results = {
        "floor (zip read+rewrite)": median_ms(lambda: floor(data), args.rounds),
        "insert_clause": median_ms(lambda: insert_clause(data, clause), args.rounds),
        "python-docx open/add/save": median_ms(
            lambda: naive_python_docx(data, clause.paragraphs), args.rounds
        ),
    }
    try:
        from docxtpl import DocxTemplate
    except ImportError:
        print("docxtpl is not installed (pip install docxtpl): peer comparison skipped")
    else:
        text = "\n".join(clause.paragraphs)

        def render() -> bytes:
            template = DocxTemplate(io.BytesIO(data))
            template.render({"antirassismusklausel": text})
            out = io.BytesIO()
            template.save(out)
            return out.getvalue()

        results["docxtpl render"] = median_ms(render, args.rounds)

    base = results["floor (zip read+rewrite)"]
    print(f"\nmedian of {args.rounds} runs per document")
    for name, ms in results.items():
        print(f"  {name:28} {ms:8.2f} ms   {ms / base:5.2f}x floor")

    start = time.perf_counter()
    for _ in range(args.batch):
        insert_clause(data, clause)
    batch = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(args.batch):
        floor(data)
    floor_batch = time.perf_counter() - start
    print(f"\nbatch of {args.batch}: insert_clause {batch:.2f} s "
          f"({args.batch / batch:.0f} docs/s), floor {floor_batch:.2f} s, "
          f"ratio {batch / floor_batch:.2f}x")
    measure_bomb(clause)
    ratio = results["insert_clause"] / base
    print(f"\ngoal insert <= 1.5x floor: {'met' if ratio <= 1.5 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
