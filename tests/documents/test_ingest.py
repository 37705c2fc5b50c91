"""Every file is hostile until checked: one test per way a file gets refused."""

from __future__ import annotations

import io
import random
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from clause_tracker.documents import DocumentRejected, Limits, insert_clause, verify
from clause_tracker.documents.errors import REJECTION_CODES
from clause_tracker.documents.ingest import parse_xml
from tests.documents.docx_builders import simple_document, zero_bomb

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
DOCUMENT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>Hallo</w:t></w:r></w:p></w:body></w:document>"
)


def package(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def minimal(**extra: bytes) -> dict[str, bytes]:
    entries = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "word/document.xml": DOCUMENT,
    }
    entries.update(extra)
    return entries


def rejected(data: bytes, limits: Limits | None = None) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as info:
        insert_clause_for_test(data, limits)
    assert info.value.code in REJECTION_CODES
    assert str(info.value)  # a readable message, never empty
    return info.value


def insert_clause_for_test(data: bytes, limits: Limits | None) -> None:
    from clause_tracker.clauses.texts import current, default_library_dir, load_library

    clause = current(load_library(default_library_dir()), "procurement", "de")
    insert_clause(data, clause, limits=limits or Limits())


def test_minimal_package_is_accepted(clause_texts: list) -> None:
    result = verify(package(minimal()), clause_texts)
    assert result.status == "missing"


def test_not_a_zip() -> None:
    assert rejected(b"Hello, I am a text file").code == "not_zip"


def test_truncated_zip() -> None:
    data = simple_document("x")
    assert rejected(data[: len(data) // 2]).code in {"not_zip", "corrupt_zip"}


def test_zip_without_content_types() -> None:
    entries = minimal()
    del entries["[Content_Types].xml"]
    assert rejected(package(entries)).code == "not_ooxml"


def test_zip_without_main_document() -> None:
    entries = minimal()
    del entries["word/document.xml"]
    assert rejected(package(entries)).code == "not_ooxml"


def test_spreadsheet_is_not_a_word_document() -> None:
    types = CONTENT_TYPES.replace(
        b"wordprocessingml.document.main+xml", b"spreadsheetml.sheet.main+xml"
    )
    assert rejected(package(minimal(**{"[Content_Types].xml": types}))).code == "not_word"


def test_encrypted_ole_container() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000
    error = rejected(data)
    assert error.code == "encrypted"
    assert "encrypted" in str(error)


def test_macro_part_under_any_name() -> None:
    entries = minimal(**{"word/innocent.bin": b"\0" * 100})
    entries["[Content_Types].xml"] = CONTENT_TYPES.replace(
        b"</Types>",
        b'<Override PartName="/word/innocent.bin" ContentType="application/vnd.ms-office.'
        b'vbaProject"/></Types>',
    )
    assert rejected(package(entries)).code == "macro_enabled"


def test_macro_enabled_main_content_type() -> None:
    types = CONTENT_TYPES.replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
    )
    assert rejected(package(minimal(**{"[Content_Types].xml": types}))).code == "macro_enabled"


def test_vba_project_part() -> None:
    entries = minimal(**{"word/vbaProject.bin": b"\0" * 100})
    assert rejected(package(entries)).code == "macro_enabled"


def test_vba_data_part_by_its_content_type() -> None:
    entries = minimal(**{"word/data.xml": b"<x/>"})
    entries["[Content_Types].xml"] = CONTENT_TYPES.replace(
        b"</Types>",
        b'<Override PartName="/word/data.xml" ContentType="application/vnd.ms-word.'
        b'vbaData+xml"/></Types>',
    )
    assert rejected(package(entries)).code == "macro_enabled"


def test_chart_workbook_is_not_a_macro(clause_texts: list) -> None:
    """An embedded .xlsb (a chart's data) has a macro-enabled type of its own; Word never
    runs it (Open-XML-SDK's object-chart.docx was refused for it)."""
    entries = minimal(**{"word/embeddings/Sheet1.xlsb": b"PK\x03\x04 workbook"})
    entries["[Content_Types].xml"] = CONTENT_TYPES.replace(
        b"</Types>",
        b'<Default Extension="xlsb" ContentType="application/vnd.ms-excel.sheet.binary.'
        b'macroEnabled.12"/></Types>',
    )
    assert verify(package(entries), clause_texts).status == "missing"


def sparse_bytes(size: int) -> bytes:
    """Mostly zeros with a little noise every 4 KiB: compresses about 120:1, as the EMF
    preview of an embedded PDF page does (tika's testWORD_embedded_pdf.docx: 130:1)."""
    noise = random.Random(12)
    return b"".join(noise.randbytes(24) + b"\0" * 4072 for _ in range(size // 4096))


def with_typed_part(name: str, data: bytes, extension: str, content_type: bytes) -> bytes:
    entries = minimal(**{name: data})
    entries["[Content_Types].xml"] = CONTENT_TYPES.replace(
        b"</Types>",
        b'<Default Extension="' + extension.encode() + b'" ContentType="' + content_type
        + b'"/></Types>',
    )
    return package(entries)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("word/media/image1.emf", b"image/x-emf"),
     ("word/embeddings/oleObject1.bin",
      b"application/vnd.openxmlformats-officedocument.oleObject")],
)
def test_metafiles_and_ole_objects_may_compress_past_the_ratio(
    name: str, content_type: bytes, clause_texts: list
) -> None:
    data = with_typed_part(name, sparse_bytes(2 << 20), name.rsplit(".", 1)[1], content_type)
    assert verify(data, clause_texts).status == "missing"  # accepted, and has no clause


def test_the_same_bytes_untyped_are_refused() -> None:
    data = package(minimal(**{"word/media/blob.dat": sparse_bytes(2 << 20)}))
    assert rejected(data).code == "compression_ratio"


def test_zeros_typed_as_a_metafile_are_still_refused() -> None:
    data = with_typed_part("word/media/image1.emf", b"\0" * (8 << 20), "emf", b"image/x-emf")
    assert rejected(data).code == "compression_ratio"


def test_doctype_in_any_part() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>'
    )
    error = rejected(package(minimal(**{"customXml/item1.xml": evil})))
    assert error.code == "doctype"
    assert "customXml/item1.xml" in str(error)


def test_doctype_hidden_in_utf16() -> None:
    evil = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x SYSTEM "http://x/"><x/>'
    data = package(minimal(**{"word/settings.xml": evil.encode("utf-16")}))
    assert rejected(data).code == "doctype"


def test_doctype_found_by_the_parser_as_well() -> None:
    with pytest.raises(DocumentRejected) as info:
        parse_xml(b'<!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>', "x.xml")
    assert info.value.code == "doctype"


def test_part_over_the_limit() -> None:
    data = package(minimal(**{"word/media/big.bin": b"\x01\x02" * 600_000}))
    assert rejected(data, Limits(max_part_bytes=1_000_000)).code == "part_too_large"


def test_total_over_the_limit() -> None:
    parts = {f"word/media/p{i}.bin": bytes(range(256)) * 1000 for i in range(5)}
    data = package(minimal(**parts))
    assert rejected(data, Limits(max_uncompressed_bytes=1_000_000)).code == "total_too_large"


def test_compression_ratio_over_the_limit() -> None:
    data = package(minimal(**{"word/media/zeros.bin": b"\0" * 5_000_000}))
    assert rejected(data).code == "compression_ratio"


def test_too_many_parts() -> None:
    parts = {f"word/media/{i}.bin": b"x" for i in range(30)}
    assert rejected(package(minimal(**parts)), Limits(max_parts=20)).code == "too_many_parts"


@pytest.mark.parametrize(
    "name",
    ["../evil.xml", "word/../../evil.xml", "/etc/passwd", "word\\evil.xml", "C:/evil.xml"],
)
def test_unsafe_entry_names(name: str) -> None:
    assert rejected(package(minimal(**{name: b"<x/>"}))).code == "unsafe_name"


def test_duplicate_entry_names() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in minimal().items():
            archive.writestr(name, data)
        with pytest.warns(UserWarning):
            archive.writestr("word/document.xml", DOCUMENT)
    assert rejected(out.getvalue()).code == "unsafe_name"


def test_nesting_deeper_than_the_parser_default() -> None:
    deep = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        + b"<w:body>" + b"<w:x>" * 400 + b"</w:x>" * 400 + b"</w:body></w:document>"
    )
    assert rejected(package(minimal(**{"word/document.xml": deep}))).code == "xml_too_deep"


def test_corrupt_xml() -> None:
    broken = DOCUMENT.replace(b"</w:body>", b"")
    assert rejected(package(minimal(**{"word/document.xml": broken}))).code == "corrupt_xml"


def test_damaged_entry_crc() -> None:
    data = bytearray(package(minimal()))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    offset = data.find(b"PK\x01\x02" , 0)
    # Flip the CRC recorded in the central directory for word/document.xml.
    central = bytes(data).find(b"word/document.xml", offset) - 46
    struct.pack_into("<I", data, central + 16, info.CRC ^ 0xFFFF)
    assert rejected(bytes(data)).code == "corrupt_zip"


def test_file_over_the_size_limit() -> None:
    data = simple_document("x" * 1000)
    assert rejected(data, Limits(max_file_bytes=1000)).code == "file_too_large"


def test_limits_from_flask_config() -> None:
    limits = Limits.from_config(
        {"DOCX_MAX_FILE_BYTES": 1, "DOCX_MAX_PARTS": 7, "DOCX_MAX_COMPRESSION_RATIO": "50"}
    )
    assert (limits.max_file_bytes, limits.max_parts, limits.max_compression_ratio) == (1, 7, 50)
    assert limits.max_part_bytes == Limits().max_part_bytes


def test_rejection_message_is_translatable_and_english_outside_an_app() -> None:
    error = rejected(b"not a zip")
    assert type(error.message).__name__ == "LazyString"
    assert str(error).startswith("The file is not")


# --- zip bombs --------------------------------------------------------------------

GIB = 1 << 30


@pytest.fixture(scope="session")
def gigabyte_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DOCX-shaped ZIP whose document.xml unpacks to 1 GiB of zeros (about 1 MiB on disk),
    built once per run, in half a second (see zero_bomb)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.docx"
    path.write_bytes(zero_bomb({"[Content_Types].xml": CONTENT_TYPES,
                                "_rels/.rels": ROOT_RELS}, "word/document.xml", GIB))
    info = zipfile.ZipFile(path).getinfo("word/document.xml")
    assert (info.file_size, info.compress_type) == (GIB, zipfile.ZIP_DEFLATED)
    return path


def _measure(data: bytes) -> tuple[DocumentRejected, float, int]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DocumentRejected) as info:
            insert_clause_for_test(data, None)
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return info.value, elapsed, peak


def test_gigabyte_zip_bomb_is_refused_fast_and_small(gigabyte_bomb: Path) -> None:
    data = gigabyte_bomb.read_bytes()
    assert len(data) < 5 * (1 << 20)
    error, elapsed, peak = _measure(data)
    assert error.code in {"part_too_large", "total_too_large", "compression_ratio"}
    # Generous bounds; the benchmark note has the real figures (milliseconds, a few MiB).
    assert elapsed < 5
    assert peak < 100 * (1 << 20)


def test_bomb_with_lying_sizes_is_stopped_while_decompressing() -> None:
    """Declared sizes say 1 KiB; the stream holds 64 MiB of zeros. Decompression is capped."""
    chunk = b"\0" * (1 << 20)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        with archive.open("word/document.xml", "w") as stream:
            for _ in range(64):
                stream.write(chunk)
    data = bytearray(out.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    # Patch the uncompressed size in the local header and the central directory.
    struct.pack_into("<I", data, info.header_offset + 22, 1024)
    central = bytes(data).rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1024)
    error, elapsed, peak = _measure(bytes(data))
    assert error.code in {"corrupt_zip", "part_too_large", "compression_ratio"}
    assert elapsed < 5
    assert peak < 100 * (1 << 20)
