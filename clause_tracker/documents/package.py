"""An OOXML package opened for editing: only the parts we change are parsed and rewritten.

Every other part is copied through as its original compressed bytes, so the
output is byte-identical outside the changed parts and writing costs little
more than a copy.
"""

from __future__ import annotations

import posixpath
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from lxml import etree

from clause_tracker.documents.errors import DocumentRejected
from clause_tracker.documents.ingest import CheckedZip, Limits, check_bytes, parse_xml
from clause_tracker.documents.namespaces import (
    CONTENT_TYPES,
    PKG_RELS,
    W_STRICT,
    W_TRANSITIONAL,
    WORD_MAIN_CONTENT_TYPES,
    Names,
    rel_type_is,
)


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str
    external: bool


def rels_name(part: str) -> str:
    """The relationships part of `part` ('' is the package itself)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{base}.rels")


def resolve(source_part: str, target: str) -> str:
    """Part name of an internal relationship target, relative to its source part."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


@dataclass
class Package:
    checked: CheckedZip
    main_part: str
    names: Names
    warnings: list[str] = field(default_factory=list)
    _trees: dict[str, etree._Element] = field(default_factory=dict)
    _dirty: set[str] = field(default_factory=set)
    _new: dict[str, bytes] = field(default_factory=dict)
    _removed: set[str] = field(default_factory=set)

    # --- opening -------------------------------------------------------------

    @classmethod
    def open(cls, data: bytes, limits: Limits | None = None) -> Package:
        checked = check_bytes(data, limits or Limits())
        package = cls(checked=checked, main_part="", names=Names(strict=False))
        package._find_main_part()
        return package

    def _find_main_part(self) -> None:
        main = None
        for rel in self.relationships(""):
            if rel_type_is(rel.type, "officeDocument") and not rel.external:
                main = resolve("", rel.target)
                break
        if main is None or main not in self.checked.xml:
            raise DocumentRejected(
                "not_ooxml",
                _l("The package has no main document part; it is not a Word document."),
            )
        if self.content_type(main) not in WORD_MAIN_CONTENT_TYPES:
            raise DocumentRejected(
                "not_word",
                _l("The file is an Office package but not a Word document."),
            )
        self.main_part = main
        namespace = etree.QName(self.tree(main)).namespace
        if namespace not in (W_STRICT, W_TRANSITIONAL):
            raise DocumentRejected(
                "not_word", _l("The main part is not a WordprocessingML document.")
            )
        self.names = Names(strict=namespace == W_STRICT)

    # --- reading -------------------------------------------------------------

    def part_names(self) -> list[str]:
        names = [i.filename for i in self.checked.infos if i.filename not in self._removed]
        return names + [n for n in self._new if n not in names]

    def xml_bytes(self, name: str) -> bytes | None:
        if name in self._new:
            return self._new[name]
        return self.checked.xml.get(name)

    def tree(self, name: str) -> etree._Element:
        """The parsed root of an XML part (parsed once, safely)."""
        if name not in self._trees:
            data = self.xml_bytes(name)
            if data is None:
                raise KeyError(name)
            self._trees[name] = parse_xml(data, name)
        return self._trees[name]

    def content_type(self, part: str) -> str | None:
        root = self.tree("[Content_Types].xml")
        for override in root.iterfind(f"{{{CONTENT_TYPES}}}Override"):
            if override.get("PartName", "").lstrip("/").lower() == part.lower():
                return override.get("ContentType")
        extension = part.rsplit(".", 1)[-1].lower()
        for default in root.iterfind(f"{{{CONTENT_TYPES}}}Default"):
            if default.get("Extension", "").lower() == extension:
                return default.get("ContentType")
        return None

    def relationships(self, part: str) -> list[Relationship]:
        name = rels_name(part)
        if self.xml_bytes(name) is None:
            return []
        return [
            Relationship(
                id=el.get("Id", ""),
                type=el.get("Type", ""),
                target=el.get("Target", ""),
                external=(el.get("TargetMode") or "").lower() == "external",
            )
            for el in self.tree(name).iterfind(f"{{{PKG_RELS}}}Relationship")
        ]

    def related_parts(self, part: str, rel_name: str) -> list[str]:
        """Internal targets of `part`'s relationships of one kind (e.g. 'header')."""
        return [
            resolve(part, rel.target)
            for rel in self.relationships(part)
            if not rel.external and rel_type_is(rel.type, rel_name)
        ]

    # --- changing ------------------------------------------------------------

    def mark_dirty(self, name: str) -> None:
        """Declare that the parsed tree of `name` was changed and must be written."""
        self._dirty.add(name)

    def add_part(self, name: str, root: etree._Element, content_type: str) -> None:
        self._trees[name] = root
        self._new[name] = b""
        self._dirty.add(name)
        if self.content_type(name) == content_type:
            return
        types = self.tree("[Content_Types].xml")
        etree.SubElement(
            types, f"{{{CONTENT_TYPES}}}Override", PartName=f"/{name}", ContentType=content_type
        )
        self.mark_dirty("[Content_Types].xml")

    def add_relationship(self, part: str, rel_type: str, target: str) -> str:
        name = rels_name(part)
        if self.xml_bytes(name) is None:
            self.add_part(
                name,
                etree.Element(f"{{{PKG_RELS}}}Relationships", nsmap={None: PKG_RELS}),
                "application/vnd.openxmlformats-package.relationships+xml",
            )
        root = self.tree(name)
        used = {el.get("Id") for el in root}
        number = 1
        while f"rId{number}" in used:
            number += 1
        rel_id = f"rId{number}"
        etree.SubElement(
            root, f"{{{PKG_RELS}}}Relationship", Id=rel_id, Type=rel_type, Target=target
        )
        self.mark_dirty(name)
        return rel_id

    # --- writing -------------------------------------------------------------

    def serialize(self, name: str) -> bytes:
        return etree.tostring(
            self.tree(name), xml_declaration=True, encoding="UTF-8", standalone=True
        )

    def to_bytes(self) -> bytes:
        """The package with changed parts re-serialised and all others copied raw."""
        writer = _ZipWriter()
        raw = self.checked.data
        for info in self.checked.infos:
            name = info.filename
            if name in self._removed:
                continue
            if name in self._dirty:
                writer.add(name, self.serialize(name), info.date_time)
            else:
                writer.copy(info, raw)
        for name in self._new:
            if name not in self._removed:
                writer.add(name, self.serialize(name), time.localtime()[:6])
        return writer.finish()


# --- a minimal ZIP writer that can copy entries without recompressing ---------


def _dos_time(date_time: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time[:6]
    year = max(1980, min(year, 2107))
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


class _ZipWriter:
    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._offset = 0
        self._central: list[bytes] = []

    def _entry(
        self,
        name: str,
        method: int,
        crc: int,
        compressed: bytes,
        size: int,
        date_time: tuple[int, ...],
    ) -> None:
        encoded = name.encode("utf-8")
        flags = 0x800 if not name.isascii() else 0
        mtime, mdate = _dos_time(date_time)
        fields = (20, flags, method, mtime, mdate, crc, len(compressed), size, len(encoded))
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0)
        central = struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, self._offset
        )
        self._chunks += [local, encoded, compressed]
        self._central.append(central + encoded)
        self._offset += len(local) + len(encoded) + len(compressed)

    def add(self, name: str, data: bytes, date_time: tuple[int, ...]) -> None:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        compressed = compressor.compress(data) + compressor.flush()
        self._entry(name, zipfile.ZIP_DEFLATED, zlib.crc32(data), compressed, len(data), date_time)

    def copy(self, info: zipfile.ZipInfo, raw: bytes) -> None:
        start = info.header_offset
        name_len, extra_len = struct.unpack_from("<HH", raw, start + 26)
        data_start = start + 30 + name_len + extra_len
        compressed = raw[data_start : data_start + info.compress_size]
        self._entry(
            info.filename, info.compress_type, info.CRC, compressed, info.file_size, info.date_time
        )

    def finish(self) -> bytes:
        directory = b"".join(self._central)
        count = len(self._central)
        end = struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), self._offset, 0
        )
        return b"".join([*self._chunks, directory, end])
