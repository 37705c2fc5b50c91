"""Removing external relationships: remote templates, linked images, frames, OLE links.

A document that references a remote resource makes Word fetch it when the
file is opened (NTLM leaks, tracking, template injection). Hyperlinks are
only followed on a click and are kept.
"""

from __future__ import annotations

from lxml import etree

from clause_tracker.documents.namespaces import PKG_RELS, R_STRICT, R_TRANSITIONAL
from clause_tracker.documents.package import Package, rels_name
from clause_tracker.documents.wordml import local

KEEP = frozenset({"hyperlink"})
# Elements that exist only to point at the relationship: removed with it.
_REMOVE_ELEMENT = frozenset(
    {
        "attachedTemplate",
        "subDoc",
        "altChunk",
        "sourceFileName",
        "OLEObject",
        "dataSource",
        "headerSource",
        "src",
        "recipientData",
        "frame",
    }
)
_R_NAMESPACES = (R_TRANSITIONAL, R_STRICT)


def remove_external(package: Package) -> list[str]:
    """Drop external non-hyperlink relationships and what refers to them; return warnings."""
    warnings: list[str] = []
    for name in package.part_names():
        if not name.endswith(".rels"):
            continue
        data = package.xml_bytes(name)
        if data is None or b"xternal" not in data:  # cheap filter before parsing
            continue
        root = package.tree(name)
        removed: list[str] = []
        for rel in list(root.iterfind(f"{{{PKG_RELS}}}Relationship")):
            if (rel.get("TargetMode") or "").lower() != "external":
                continue
            kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
            if kind in KEEP:
                continue
            root.remove(rel)
            removed.append(rel.get("Id") or "")
            warnings.append(
                f"removed external {kind} reference to {(rel.get('Target') or '')[:200]}"
            )
        if removed:
            package.mark_dirty(name)
            source = _source_of(name)
            if source and package.xml_bytes(source) is not None:
                _drop_references(package, source, set(removed))
    return warnings


def _source_of(rels: str) -> str | None:
    folder, base = rels.rsplit("/", 1) if "/" in rels else ("", rels)
    if not folder.endswith("_rels"):
        return None
    parent = folder[: -len("_rels")].rstrip("/")
    source = f"{parent}/{base[: -len('.rels')]}" if parent else base[: -len(".rels")]
    return source if rels_name(source) == rels else None


def _drop_references(package: Package, part: str, ids: set[str]) -> None:
    root = package.tree(part)
    changed = False
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        for attr, value in list(el.attrib.items()):
            if value in ids and etree.QName(attr).namespace in _R_NAMESPACES:
                changed = True
                parent = el.getparent()
                if local(el) in _REMOVE_ELEMENT and parent is not None:
                    parent.remove(el)
                    break
                del el.attrib[attr]
    if changed:
        package.mark_dirty(part)
