"""Hostile PDFs and images: refused with a clear reason, or their active content named;
the parsing runs in a child with CPU and memory limits."""

from __future__ import annotations

import io
import os
import resource
import signal
import time

import pytest
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents import DocumentRejected, sandbox
from clause_tracker.documents.returned import verify_returned
from clause_tracker.documents.sandbox import Refused, ReturnedLimits, run_limited
from tests.documents.pdf_builders import (
    clause_paragraphs,
    deflate_bomb_pdf,
    layout_pdf,
    png_header_bomb,
    with_catalog_entries,
)


@pytest.fixture(scope="module")
def contract(clause: ClauseText) -> bytes:
    return layout_pdf(["Vertrag", *clause_paragraphs(clause), "Unterschrift"])


def _refusal(data: bytes, library: list, **kwargs: object) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        verify_returned(data, library, **kwargs)  # type: ignore[arg-type]
    return caught.value


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _action(kind: str, **entries: str) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    return action


def test_encrypted_pdf_is_refused(contract: bytes, clause_texts: list) -> None:
    writer = PdfWriter(clone_from=io.BytesIO(contract))
    writer.encrypt("geheim", algorithm="AES-128")
    error = _refusal(_write(writer), clause_texts)
    assert error.code == "pdf_encrypted" and "encrypted" in str(error)


def test_javascript_is_reported_never_run(contract: bytes, clause_texts: list) -> None:
    data = with_catalog_entries(contract, OpenAction=_action("/JavaScript", JS="app.alert(1)"))
    result = verify_returned(data, clause_texts)
    assert result.status == "verbatim"
    assert "the PDF contains JavaScript (not run)" in result.warnings


def test_launch_action_is_reported(contract: bytes, clause_texts: list) -> None:
    data = with_catalog_entries(contract, OpenAction=_action("/Launch", F="calc.exe"))
    warnings = verify_returned(data, clause_texts).warnings
    assert any("launch action" in w for w in warnings)


def test_embedded_file_is_reported(contract: bytes, clause_texts: list) -> None:
    writer = PdfWriter(clone_from=io.BytesIO(contract))
    writer.add_attachment("rechnung.exe", b"MZ\x90\x00 not a program")
    warnings = verify_returned(_write(writer), clause_texts).warnings
    assert "the PDF contains embedded files (not opened)" in warnings


def test_too_many_pages(clause_texts: list) -> None:
    writer = PdfWriter()
    for _ in range(501):
        writer.add_blank_page(595, 842)
    error = _refusal(_write(writer), clause_texts)
    assert error.code == "too_many_pages" and "501" in str(error)


def test_image_bomb_is_refused_unread(clause_texts: list) -> None:
    error = _refusal(png_header_bomb(100_000, 100_000), clause_texts)
    assert error.code == "image_too_large" and "100000" in str(error)


def test_huge_scanned_page_is_refused_before_rasterising(clause_texts: list) -> None:
    writer = PdfWriter()
    writer.add_blank_page(14_400, 14_400)  # 200 inches square: 3.6 gigapixels at 300 dpi
    assert _refusal(_write(writer), clause_texts).code == "image_too_large"


def test_deflate_bomb_is_a_clear_refusal(clause_texts: list) -> None:
    error = _refusal(deflate_bomb_pdf(200 * 1024 * 1024), clause_texts)
    assert error.code == "resource_limit"


def test_neither_docx_pdf_nor_image(clause_texts: list) -> None:
    assert _refusal(b"GIF89a" + b"\0" * 100, clause_texts).code == "unsupported_type"
    assert _refusal(b"%PDF-1.7\nnothing here", clause_texts).code == "corrupt_file"


def _spin() -> None:
    while True:
        pass


def _hog() -> bytes:
    return b"x" * (2 * 1024 * 1024 * 1024)


def test_the_child_stops_at_the_cpu_limit() -> None:
    with pytest.raises(Refused) as caught:
        run_limited(_spin, limits=ReturnedLimits(cpu_seconds=1, wall_seconds=20))
    assert caught.value.code == "resource_limit"


def test_the_child_stops_at_the_memory_limit() -> None:
    with pytest.raises(Refused) as caught:
        run_limited(_hog, limits=ReturnedLimits(memory_bytes=512 * 1024 * 1024))
    assert caught.value.params["what"] == "memory"


def test_the_child_stops_at_the_wall_clock_limit() -> None:
    with pytest.raises(Refused) as caught:
        run_limited(_spin, limits=ReturnedLimits(cpu_seconds=60, wall_seconds=1))
    assert caught.value.params["what"] == "time"


def _whoami() -> tuple[int, int]:
    return os.getpid(), resource.getrlimit(resource.RLIMIT_AS)[0]


def _wait_for_spare(deadline: float = 20.0) -> sandbox._Child:
    end = time.monotonic() + deadline
    while sandbox._spare is None:
        assert time.monotonic() < end, "no spare child was forked"
        time.sleep(0.01)
    return sandbox._spare


def test_each_file_has_a_child_of_its_own_even_with_a_spare_waiting() -> None:
    limits = ReturnedLimits(memory_bytes=700 * 1024 * 1024)
    first, _ = run_limited(_whoami, limits=limits)
    spare = _wait_for_spare()
    assert spare.process.pid != first
    # The spare takes the next file: a new process, with this call's limits, not its own.
    second, memory = run_limited(_whoami, limits=limits)
    assert (second, memory) == (spare.process.pid, 700 * 1024 * 1024)
    third, _ = run_limited(_whoami, limits=limits)
    assert len({first, second, third}) == 3


def test_a_spare_that_died_waiting_is_replaced() -> None:
    run_limited(_whoami, limits=ReturnedLimits())
    spare = _wait_for_spare()
    os.kill(spare.process.pid, signal.SIGKILL)
    spare.process.join(5)
    pid, _ = run_limited(_whoami, limits=ReturnedLimits())
    assert pid != spare.process.pid
