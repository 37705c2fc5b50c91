"""Builders for the DOCX engine tests: real documents made with python-docx,
edited at the XML level where a test needs something python-docx cannot write."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import docx
from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
NSDECL = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
)
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "docx"

CLAUSE_FILE = """+++
id = "test-{variant}"
variant = "{variant}"
version = "{version}"
language = "{language}"
valid_from = {valid_from}
legal_basis = "§ 1 Test"
change_note = "test"
{master}
+++

# {title}

## § 1 Pflichten

(1) Der Auftragnehmer unterlässt jede Diskriminierung bei der Ausführung des Auftrags.

(2) {second}
"""


def write_clause(
    folder: Path,
    *,
    variant: str = "procurement",
    version: str = "1.0",
    language: str = "de",
    valid_from: str = "2025-01-01",
    title: str = "Testklausel gegen Diskriminierung",
    second: str = "Verstöße werden nach Anhörung geahndet.",
) -> Path:
    path = folder / variant / f"{version}.{language}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    master = 'master_version = "1.0"' if language != "de" else ""
    path.write_text(
        CLAUSE_FILE.format(
            variant=variant, version=version, language=language, valid_from=valid_from,
            title=title, second=second, master=master,
        ),
        encoding="utf-8",
    )
    return path


def save(document: docx.document.Document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def simple_document(*paragraphs: str) -> bytes:
    document = docx.Document()
    document.add_heading("§ 1 Gegenstand", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    return save(document)


def docx_with_body(body_xml: str) -> bytes:
    """A python-docx default document whose body is `body_xml` (WordprocessingML, w: prefix)."""
    document = docx.Document()
    body = document.element.body
    fragment = etree.fromstring(f"<w:body {NSDECL}>{body_xml}</w:body>")
    sect = body.find(f"{{{W}}}sectPr")
    for child in list(body):
        if child is not sect:
            body.remove(child)
    for child in fragment:
        sect.addprevious(child)
    return save(document)


def read_part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def document_root(data: bytes) -> etree._Element:
    return etree.fromstring(read_part(data, "word/document.xml"))


def rewrite(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """A copy of the ZIP with some entries replaced (bytes), removed (None) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            if info.filename in changes:
                continue
            target.writestr(info, source.read(info))
        for name, content in changes.items():
            if content is not None:
                target.writestr(name, content)
    return out.getvalue()


def edit_document(data: bytes, edit: Callable[[etree._Element], None]) -> bytes:
    root = document_root(data)
    edit(root)
    return rewrite(data, {"word/document.xml": etree.tostring(root, xml_declaration=True,
                                                                encoding="UTF-8",
                                                                standalone=True)})


def text_of(el: etree._Element) -> str:
    return "".join(el.itertext())


def clause_control(root: etree._Element) -> etree._Element:
    found = root.xpath("//w:sdt[w:sdtPr/w:tag/@w:val='antirassismusklausel']", namespaces=NS)
    assert len(found) == 1, f"{len(found)} clause controls"
    return found[0]


def control_paragraph_texts(data: bytes) -> list[str]:
    control = clause_control(document_root(data))
    return ["".join(p.itertext()) for p in control.iter(f"{{{W}}}p")]


def body_texts(data: bytes) -> list[str]:
    """Top-level body paragraph texts, a content control shown as [CLAUSE]."""
    root = document_root(data)
    out = []
    for child in root.find(f"{{{W}}}body"):
        tag = etree.QName(child).localname
        if tag == "p":
            out.append(text_of(child))
        elif tag == "sdt":
            out.append("[CLAUSE]")
        elif tag == "tbl":
            out.append("[TABLE]")
    return out


def zero_bomb(parts: dict[str, bytes], name: str, size: int) -> bytes:
    """A ZIP with `parts` stored as they are and `name` deflated from `size` zero bytes
    (ZIP64 sizes), built without compressing `size` bytes.

    Deflate forgets all history at a full flush, so every MiB of zeros compressed and
    flushed that way is the same block of about a kilobyte: the stream is that block
    repeated, and a final empty block. Only the CRC-32 runs over all the zeros (half a
    second for 1 GiB; deflating them took eight)."""
    chunk = b"\0" * (1 << 20)
    assert size % len(chunk) == 0, "a whole number of MiB"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    stream = block * (size // len(chunk)) + compressor.flush()
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)

    out = io.BytesIO()
    central = []
    for part_name, data in [*parts.items(), (name, None)]:
        encoded = part_name.encode()
        offset = out.tell()
        if data is not None:  # stored, small
            fields = (20, 0, 0, 0, 0x21, zlib.crc32(data), len(data), len(data))
            extra, payload = b"", data
        else:  # deflated, ZIP64: the 32-bit sizes say "see the extra field"
            fields = (45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF)
            extra, payload = struct.pack("<HHQQ", 1, 16, size, len(stream)), stream
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, len(encoded), len(extra)))
        out.write(encoded + extra + payload)
        central.append(struct.pack("<IH", 0x02014B50, 45) + struct.pack("<HHHHHIII", *fields)
                       + struct.pack("<HHHHHII", len(encoded), len(extra), 0, 0, 0, 0, offset)
                       + encoded + extra)
    start = out.tell()
    out.write(b"".join(central))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    return out.getvalue()


# --- documents whose styles do more than look ---------------------------------------

# A decimal outline list, "1." and "1.1", as numbering 1 (headings numbered by their style).
NUMBERING = (
    f"<w:numbering {NSDECL}>"
    '<w:abstractNum w:abstractNumId="0"><w:multiLevelType w:val="multilevel"/>'
    '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/>'
    '<w:lvlJc w:val="left"/></w:lvl>'
    '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
    '<w:lvlText w:val="%1.%2"/><w:lvlJc w:val="left"/></w:lvl>'
    '</w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>'
)
BODY_STYLE = "Vertragstext"


def styled_document(
    styles: dict[str, tuple[str, str]], *, page_colour: str | None = None
) -> bytes:
    """A contract ("§ N" headings in Heading 1 and 2, text in the style Vertragstext) whose
    styles carry extra properties: {style id: (pPr children, rPr children)} as WordprocessingML
    with the w: prefix. Numbering 1 is a decimal outline list ("1.", "1.1")."""
    document = docx.Document()
    body = document.styles.add_style(BODY_STYLE, 1)  # 1: paragraph style
    body.base_style = document.styles["Normal"]
    for number in (1, 2):
        document.add_heading(f"§ {number} Lieferung", level=1)
        document.add_heading(f"({number}) Umfang", level=2)
        document.add_paragraph("Der Auftragnehmer liefert Büromöbel.", style=BODY_STYLE)
    data = save(document)
    changes: dict[str, bytes | None] = {
        "word/styles.xml": _with_style_properties(read_part(data, "word/styles.xml"), styles),
        "word/numbering.xml": NUMBERING.encode(),
    }
    if page_colour:
        root = document_root(data)
        background = etree.Element(f"{{{W}}}background")
        background.set(f"{{{W}}}color", page_colour)
        root.insert(0, background)
        changes["word/document.xml"] = etree.tostring(root, xml_declaration=True,
                                                      encoding="UTF-8", standalone=True)
    return rewrite(data, changes)


def _with_style_properties(styles_xml: bytes, styles: dict[str, tuple[str, str]]) -> bytes:
    root = etree.fromstring(styles_xml)
    for style_id, (ppr, rpr) in styles.items():
        found = root.xpath("w:style[@w:styleId=$id]", namespaces=NS, id=style_id)
        assert found, f"no style {style_id}"
        style = found[0]
        for name, children in (("pPr", ppr), ("rPr", rpr)):
            if not children:
                continue
            props = style.find(f"{{{W}}}{name}")
            if props is None:
                props = etree.SubElement(style, f"{{{W}}}{name}")
            for child in etree.fromstring(f"<w:x {NSDECL}>{children}</w:x>"):
                old = props.find(child.tag)
                if old is not None:
                    props.remove(old)
                props.append(child)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
