"""`clause-tracker verify` (and its alias `docx verify`) for PDFs, scans and signed PDFs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from clause_tracker.clauses.texts import load_library
from clause_tracker.documents.cli import docx_cli, verify_cli
from tests.documents.pdf_builders import (
    add_note_after_signing,
    clause_paragraphs,
    invisible_text_pdf,
    layout_pdf,
    make_ca_and_signer,
    sign,
)


def run(*args: str, alias: bool = False) -> tuple[int, str, str]:
    command = docx_cli if alias else verify_cli
    argv = ["verify", *args] if alias else list(args)
    result = CliRunner().invoke(command, argv)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def tiny_pdf(tiny_library_dir: Path, tmp_path: Path) -> Path:
    text = next(t for t in load_library(tiny_library_dir) if t.version == "1.0"
                and t.language == "de")
    path = tmp_path / "vertrag.pdf"
    path.write_bytes(layout_pdf(["Vertrag", *clause_paragraphs(text), "Unterschrift"]))
    return path


def test_verify_pdf_json_and_alias(tiny_pdf: Path, tiny_library_dir: Path) -> None:
    for alias in (False, True):
        code, out, err = run(str(tiny_pdf), "--json", "--texts", str(tiny_library_dir),
                             alias=alias)
        assert code == 0, err
        payload = json.loads(out)
        assert (payload["status"], payload["method"], payload["similarity"]) == (
            "verbatim", "pdf_text", 1.0)
        assert {"clause_id", "version", "language", "sha256", "diff", "signatures",
                "warnings"} <= set(payload)


def test_modified_signed_pdf_warns(tiny_pdf: Path, tiny_library_dir: Path,
                                   tmp_path: Path) -> None:
    signer, _ = make_ca_and_signer(tmp_path / "ca")
    modified = tmp_path / "signed.pdf"
    modified.write_bytes(add_note_after_signing(sign(tiny_pdf.read_bytes(), signer)))
    code, out, err = run(str(modified), "--texts", str(tiny_library_dir))
    assert code == 0 and out.startswith("verbatim")
    assert "signer Erika Mustermann" in out and "modified_after_signing" in out
    assert "warning: MODIFIED AFTER SIGNING" in err


@pytest.mark.skipif(not shutil.which("tesseract") or not shutil.which("pdftoppm"),
                    reason="apt-get install tesseract-ocr tesseract-ocr-deu poppler-utils")
def test_ocr_match_does_not_pass(tiny_pdf: Path, tiny_library_dir: Path,
                                 tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", str(tiny_pdf),
                    str(tmp_path / "scan")], check=True, timeout=60)
    code, out, _ = run(str(tmp_path / "scan.png"), "--texts", str(tiny_library_dir))
    assert code == 1 and out.startswith("ocr_match")
    assert "a person must compare" in out and "similarity" in out


def test_unsupported_file_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "bild.gif"
    path.write_bytes(b"GIF89a" + b"\0" * 100)
    code, _, err = run(str(path))
    assert code == 1 and err.startswith(f"error: {path}: ") and err.count("\n") == 1


def test_verify_is_a_top_level_command(runner) -> None:
    result = runner.invoke(args=["verify", "--help"])
    assert result.exit_code == 0 and "ocr_match" in result.output


@pytest.mark.skipif(not shutil.which("tesseract") or not shutil.which("pdftoppm"),
                    reason="apt-get install tesseract-ocr tesseract-ocr-deu poppler-utils")
def test_tiff_with_two_pages_and_jpeg(tiny_pdf: Path, tiny_library_dir: Path,
                                      tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", str(tiny_pdf),
                    str(tmp_path / "scan")], check=True, timeout=60)
    page = Image.open(tmp_path / "scan.png")
    blank = Image.new("L", page.size, 255)
    page.save(tmp_path / "scan.tif", save_all=True, append_images=[blank],
              compression="tiff_deflate")
    page.convert("RGB").save(tmp_path / "scan.jpg", quality=90)
    for name in ("scan.tif", "scan.jpg"):
        code, out, _ = run(str(tmp_path / name), "--json", "--texts", str(tiny_library_dir))
        payload = json.loads(out)
        assert (code, payload["method"], payload["status"]) == (1, "ocr", "ocr_match"), name
        assert payload["similarity"] >= 0.97


@pytest.mark.skipif(not shutil.which("tesseract") or not shutil.which("pdftoppm"),
                    reason="apt-get install tesseract-ocr tesseract-ocr-deu poppler-utils")
def test_searchable_scan_is_read_by_our_ocr(tiny_pdf: Path, tiny_library_dir: Path,
                                            tmp_path: Path) -> None:
    # A scanner's invisible OCR layer is no proof of the words: the page image is read.
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", str(tiny_pdf),
                    str(tmp_path / "scan")], check=True, timeout=60)
    text = next(t for t in load_library(tiny_library_dir) if t.version == "1.0"
                and t.language == "de")
    searchable = tmp_path / "searchable.pdf"
    searchable.write_bytes(invisible_text_pdf(clause_paragraphs(text),
                                              image=tmp_path / "scan.png"))
    code, out, _ = run(str(searchable), "--json", "--texts", str(tiny_library_dir))
    payload = json.loads(out)
    assert (code, payload["method"], payload["status"]) == (1, "ocr", "ocr_match")
    assert any("invisible text" in w for w in payload["warnings"])


def test_hidden_words_in_a_text_pdf_are_left_out(tiny_library_dir: Path,
                                                 tmp_path: Path) -> None:
    text = next(t for t in load_library(tiny_library_dir) if t.version == "1.0"
                and t.language == "de")
    path = tmp_path / "hidden.pdf"
    path.write_bytes(invisible_text_pdf(["nicht", "ausgenommen"],
                                        visible=clause_paragraphs(text)))
    code, out, _ = run(str(path), "--json", "--texts", str(tiny_library_dir))
    payload = json.loads(out)
    assert (code, payload["method"], payload["status"]) == (0, "pdf_text", "verbatim")
    assert any("invisible text" in w for w in payload["warnings"])
