"""Hostile-file checks: everything here runs on the raw bytes and the ZIP central directory
before any XML is parsed, and the one safe XML parser every part goes through.

Order matters: cheap checks on declared facts first (size, magic, entry count,
names, declared sizes), then a capped streaming read of every part that
re-checks the real sizes (declared sizes lie), and only then parsing.
"""

from __future__ import annotations

import io
import itertools
import re
import struct
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from lxml import etree

from clause_tracker.documents.errors import DocumentRejected

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_CENTRAL_ENTRY = b"PK\x01\x02"
_CHUNK = 64 * 1024
# Parts smaller than this cannot expand into anything dangerous, so the
# per-part ratio is not applied to them (small XML parts legitimately reach 30:1).
_RATIO_FLOOR = 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*doctype", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
# VBA lives in vbaProject.bin (and vbaData.xml, its Word-side data); a package is macro-enabled
# when a part is one of those or its main part has a macro-enabled type. Embedded objects have
# types of their own that may say "macroEnabled" (an .xlsb chart workbook always does): Word
# never runs them, so only the VBA parts and Word's main-part types count.
_VBA_NAMES = ("vbaproject", "vbadata")
_VBA_TYPES = ("application/vnd.ms-office.vbaproject", "application/vnd.ms-word.vbadata")
# A relationship of one of these types makes Word load the target as VBA, whatever the part
# is called and whatever content type it declares (…/relationships/vbaProject, wordVbaData,
# and the project's signatures).
_VBA_RELATIONSHIPS = ("vbaproject", "wordvbadata")
# Metafiles, bitmaps and OLE compound files (an embedded PDF, a chart's workbook) are mostly
# zero padding and legitimately compress past 100:1 (a PDF page as EMF: 130:1). Their parts
# get this many times the ratio; the part and total size caps still bound what they unpack to.
_SPARSE_TYPES = frozenset(
    {
        "image/x-emf",
        "image/emf",
        "image/x-wmf",
        "image/wmf",
        "image/bmp",
        "image/x-ms-bmp",
        "image/tiff",
        "application/vnd.openxmlformats-officedocument.oleobject",
    }
)
SPARSE_RATIO_FACTOR = 5  # 500:1; plain zeros deflate to about 1030:1
CONTENT_TYPES_PART = "[Content_Types].xml"
XML_EXTENSIONS = (".xml", ".rels", ".vml")


@dataclass(frozen=True)
class Limits:
    """Ingest limits; defaults match config.Config's DOCX_* settings."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_part_bytes: int = 50 * 1024 * 1024
    max_compression_ratio: int = 100
    max_parts: int = 1000

    @classmethod
    def from_config(cls, config: Mapping[str, Any], prefix: str = "DOCX_",
                    defaults: Limits | None = None) -> Limits:
        """Limits from a Flask config (or any mapping), its keys named PREFIX + MAX_…;
        missing keys keep the defaults (the imports' XLSX checks use IMPORT_)."""
        keys = {
            "max_file_bytes": "MAX_FILE_BYTES",
            "max_uncompressed_bytes": "MAX_UNCOMPRESSED_BYTES",
            "max_part_bytes": "MAX_PART_BYTES",
            "max_compression_ratio": "MAX_COMPRESSION_RATIO",
            "max_parts": "MAX_PARTS",
        }
        values = {field: int(config[prefix + key]) for field, key in keys.items()
                  if prefix + key in config}
        return replace(defaults or cls(), **values)

    @classmethod
    def current(cls) -> Limits:
        """Limits of the active Flask app, or the defaults outside an application context."""
        return cls.from_config(current_app.config) if has_app_context() else cls()


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def reject(code: str, message: Any) -> DocumentRejected:
    return DocumentRejected(code, message)


@dataclass
class CheckedZip:
    """A ZIP that passed every check; `xml` holds the decompressed XML parts."""

    data: bytes
    infos: list[zipfile.ZipInfo]
    xml: dict[str, bytes]
    content_types: bytes


def check_bytes(data: bytes, limits: Limits) -> CheckedZip:
    """Run every pre-parse check; raise DocumentRejected (specific code) on the first failure."""
    check_size(len(data), limits)
    if data[:8] == OLE_MAGIC:
        raise reject(
            "encrypted",
            _l(
                "The file is encrypted or password-protected (or an old binary Word file). "
                "Remove the password and save it as .docx."
            ),
        )
    if not data.startswith(b"PK\x03\x04"):
        raise reject(
            "not_zip", _l("The file is not a Word document (.docx); it is not a ZIP package.")
        )
    _check_entry_count(data, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise reject("not_zip", _l("The file is not a readable ZIP package.")) from exc
    infos = archive.infolist()
    if len(infos) > limits.max_parts:
        raise _too_many(limits)
    _check_entries(data, infos, limits)
    types = _read_content_types(archive, infos, limits)
    factors = {info.filename: _ratio_factor(info.filename, types) for info in infos}
    _check_ratios(data, infos, limits, factors)
    xml = _read_all(archive, infos, limits, factors)
    content_types = xml.get(CONTENT_TYPES_PART)
    if content_types is None:
        raise reject(
            "not_ooxml",
            _l("The file is a ZIP archive but not an Office document (no [Content_Types].xml)."),
        )
    _check_macros(infos, types)
    _check_macro_relationships(xml)
    return CheckedZip(data=data, infos=infos, xml=xml, content_types=content_types)


def check_size(size: int, limits: Limits) -> None:
    """Refuse a file by its size alone (callers can check before reading it)."""
    if size > limits.max_file_bytes:
        raise reject(
            "file_too_large",
            _l("The file is larger than %(limit)s.", limit=_mib(limits.max_file_bytes)),
        )


def _too_many(limits: Limits) -> DocumentRejected:
    return reject(
        "too_many_parts",
        _l("The document consists of more than %(limit)s parts.", limit=limits.max_parts),
    )


def _check_entry_count(data: bytes, limits: Limits) -> None:
    """Count central-directory records before zipfile builds an object for each one."""
    tail_start = max(0, len(data) - 65557)
    eocd = data.rfind(_EOCD, tail_start)
    if eocd < 0 or eocd + 22 > len(data):
        raise reject("not_zip", _l("The file is not a readable ZIP package."))
    cd_size, cd_offset = struct.unpack_from("<II", data, eocd + 12)
    if data.rfind(_EOCD64_LOCATOR, max(0, eocd - 20), eocd) >= 0:
        # A ZIP64 archive; its real directory location is in the ZIP64 record.
        cd_offset, cd_size = 0, len(data)
    directory = data[cd_offset : cd_offset + cd_size] if cd_size else data
    # The signature may also occur inside names; that only over-counts, never under-counts.
    if directory.count(_CENTRAL_ENTRY) > limits.max_parts:
        raise _too_many(limits)


def _unsafe_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or _DRIVE.match(name):
        return True
    return any(segment in ("..", ".") for segment in name.split("/"))


def _check_entries(data: bytes, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    seen: set[str] = set()
    total = 0
    spans: list[tuple[int, int]] = []
    for info in infos:
        name = info.orig_filename
        if _unsafe_name(name):
            raise reject(
                "unsafe_name",
                _l("The package contains an unsafe entry name: %(name)s", name=name[:200]),
            )
        if name.lower() in seen:
            raise reject(
                "unsafe_name",
                _l("The package contains the entry %(name)s twice.", name=name[:200]),
            )
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise reject("encrypted", _l("The package contains encrypted entries."))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise reject(
                "unsupported_compression",
                _l("The entry %(name)s uses an unsupported compression method.", name=name[:200]),
            )
        _check_part_size(name, info.file_size, limits)
        total += info.file_size
        if total > limits.max_uncompressed_bytes:
            raise _total_too_large(limits)
        spans.append((info.header_offset, info.header_offset + 30 + info.compress_size))
    # Overlapping entries are the trick behind non-recursive zip bombs.
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise reject("corrupt_zip", _l("The package has overlapping entries."))


def _check_ratios(
    data: bytes, infos: list[zipfile.ZipInfo], limits: Limits, factors: dict[str, int]
) -> None:
    """Declared ratios, per part and for the whole file; sparse parts count by their allowance."""
    weighted = 0
    for info in infos:
        factor = factors[info.filename]
        _check_ratio(info.file_size, info.compress_size, limits, factor)
        weighted += info.file_size // factor
    if weighted > _RATIO_FLOOR and weighted > limits.max_compression_ratio * max(len(data), 1):
        raise _ratio(limits)


def _check_part_size(name: str, size: int, limits: Limits) -> None:
    if size > limits.max_part_bytes:
        raise reject(
            "part_too_large",
            _l(
                "The part %(name)s unpacks to more than %(limit)s.",
                name=name[:200],
                limit=_mib(limits.max_part_bytes),
            ),
        )


def _check_ratio(size: int, compressed: int, limits: Limits, factor: int = 1) -> None:
    if size > _RATIO_FLOOR and size > factor * limits.max_compression_ratio * max(compressed, 1):
        raise _ratio(limits)


def _total_too_large(limits: Limits) -> DocumentRejected:
    return reject(
        "total_too_large",
        _l(
            "The document unpacks to more than %(limit)s.",
            limit=_mib(limits.max_uncompressed_bytes),
        ),
    )


def _ratio(limits: Limits) -> DocumentRejected:
    return reject(
        "compression_ratio",
        _l(
            "The document is compressed more than %(ratio)s:1, as zip bombs are.",
            ratio=limits.max_compression_ratio,
        ),
    )


def is_xml_part(name: str) -> bool:
    return name.lower().endswith(XML_EXTENSIONS)


def _read_content_types(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits
) -> dict[str, str]:
    """The declared content types, by part name ("/word/x.emf") and by extension ("emf").

    Read before the other parts, with the strict ratio, because the ratio allowed for a
    part depends on its type. No [Content_Types].xml: no types (refused after the read).
    """
    info = next((i for i in infos if i.filename == CONTENT_TYPES_PART), None)
    if info is None:
        return {}
    _check_ratio(info.file_size, info.compress_size, limits)
    data = _read_all(archive, [info], limits, {})[CONTENT_TYPES_PART]
    root = parse_xml(data, CONTENT_TYPES_PART)
    types: dict[str, str] = {}
    for el in root:
        if not isinstance(el.tag, str):
            continue
        kind = etree.QName(el).localname
        key = el.get("PartName") if kind == "Override" else el.get("Extension")
        if key is not None and kind in ("Override", "Default"):
            types[key.lower()] = (el.get("ContentType") or "").strip().lower()
    return types


def _content_type(name: str, types: dict[str, str]) -> str:
    override = types.get("/" + name.lower())
    if override is not None:
        return override
    return types.get(name.rsplit(".", 1)[-1].lower(), "") if "." in name else ""


def _ratio_factor(name: str, types: dict[str, str]) -> int:
    return SPARSE_RATIO_FACTOR if _content_type(name, types) in _SPARSE_TYPES else 1


def _read_all(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    limits: Limits,
    factors: dict[str, int],
) -> dict[str, bytes]:
    """Decompress every part with caps (declared sizes may lie); keep the XML parts.

    Binary parts are read too, so that a lying size or a bad CRC is caught
    here and not by the next program that opens our output.
    """
    xml: dict[str, bytes] = {}
    total = 0
    for info in infos:
        keep = is_xml_part(info.filename)
        chunks: list[bytes] = []
        size = 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if size > limits.max_part_bytes or size > info.file_size:
                        _check_part_size(info.filename, size, limits)
                        _check_ratio(size, info.compress_size, limits,
                                     factors.get(info.filename, 1))
                        raise reject(
                            "corrupt_zip",
                            _l("The entry %(name)s is larger than declared.", name=info.filename),
                        )
                    if total > limits.max_uncompressed_bytes:
                        raise _total_too_large(limits)
                    if keep:
                        chunks.append(chunk)
        except DocumentRejected:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise reject(
                "corrupt_zip",
                _l("The entry %(name)s is damaged.", name=info.filename[:200]),
            ) from exc
        if keep:
            data = b"".join(chunks)
            if _has_doctype(data):
                raise _doctype(info.filename)
            xml[info.filename] = data
    return xml


def _has_doctype(data: bytes) -> bool:
    if b"<!" in data and _DOCTYPE.search(data):
        return True
    # UTF-16 encoded XML would hide the marker from a byte search.
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00<" in data[:4] or b"<\x00" in data[:4]:
        for encoding in ("utf-16-le", "utf-16-be"):
            text = data.decode(encoding, errors="ignore").lower()
            if "<!doctype" in text.replace(" ", ""):
                return True
    return False


def _doctype(name: str) -> DocumentRejected:
    return reject(
        "doctype",
        _l("The part %(name)s contains a DOCTYPE declaration, which Word never writes.", name=name),
    )


def _is_vba_type(content_type: str) -> bool:
    if content_type.startswith(_VBA_TYPES):
        return True
    # …ms-word.document.macroEnabled.main+xml, …ms-word.template.macroEnabledTemplate.main+xml
    return "macroenabled" in content_type and "word" in content_type and "main+xml" in content_type


def _check_macros(infos: list[zipfile.ZipInfo], types: dict[str, str]) -> None:
    named = any(marker in info.filename.lower() for info in infos for marker in _VBA_NAMES)
    if named or any(_is_vba_type(t) for t in types.values()):
        raise reject(
            "macro_enabled",
            _l("The document contains macros (VBA). Save it as a macro-free .docx."),
        )


def _check_macro_relationships(xml: dict[str, bytes]) -> None:
    """Refuse a relationship that points a VBA type at any part, however it is named."""
    for name, data in xml.items():
        if not name.lower().endswith(".rels") or b"vba" not in data.lower():
            continue
        for el in parse_xml(data, name).iter():
            kind = (el.get("Type") or "").rsplit("/", 1)[-1].strip().lower() \
                if isinstance(el.tag, str) else ""
            if kind.startswith(_VBA_RELATIONSHIPS):
                raise reject(
                    "macro_enabled",
                    _l("The document contains macros (VBA) under another name (a link "
                       "in %(name)s). Save it as a macro-free .docx.", name=name[:200]),
                )


# --- the safe XML parser ---------------------------------------------------

_local = threading.local()


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_blank_text=False,
        )
        _local.parser = parser
    return parser


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse one part safely; classify failures as xml_too_deep, doctype or corrupt_xml."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        resource_limit = exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT
        if resource_limit or "depth" in str(exc).lower():
            raise reject(
                "xml_too_deep",
                _l("The part %(name)s is nested too deeply.", name=name),
            ) from exc
        raise reject(
            "corrupt_xml",
            _l("The part %(name)s is not well-formed XML.", name=name),
        ) from exc
    if root.getroottree().docinfo.doctype:
        raise _doctype(name)
    return root
