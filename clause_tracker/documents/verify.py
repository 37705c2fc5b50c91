"""Checking a returned document: is the clause still there, word for word?

The text is read the way a reader sees it: tracked insertions and deletions
are told apart, hidden runs (w:vanish) do not count, text boxes, tables,
headers, footers and notes are read too. The clause is found by its content
control, or, when someone pasted it as plain paragraphs, by its title.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from clause_tracker.clauses.texts import ClauseText, canonical_text, normalize_line
from clause_tracker.documents import provenance as provenance_part
from clause_tracker.documents.ingest import Limits
from clause_tracker.documents.locate import clause_controls
from clause_tracker.documents.namespaces import Names
from clause_tracker.documents.package import Package
from clause_tracker.documents.provenance import Provenance
from clause_tracker.documents.readable import is_neutralising
from clause_tracker.documents.styles import ClauseStyles, choose_styles
from clause_tracker.documents.wordml import local, owned, paragraphs

STATUSES = ("verbatim", "formatting_only", "deviation", "tracked_changes", "missing",
            "ocr_match")  # ocr_match: a scan close enough to a published text; needs a person
METHODS = ("docx", "pdf_text", "ocr")
PASSING = frozenset({"verbatim", "formatting_only"})
_REVISIONS = frozenset({"ins", "del", "moveFrom", "moveTo"})
_INSERTED = frozenset({"ins", "moveTo"})
_DELETED = frozenset({"del", "moveFrom"})
# Run and paragraph properties Word and LibreOffice add on their own; not formatting.
_NEUTRAL_RUN = frozenset({"lang", "noProof", "rFonts", "webHidden"})
_NEUTRAL_PARA = frozenset({"pStyle", "rPr", "sectPr", "bidi"})
_STORIES = ("header", "footer", "footnotes", "endnotes")


@dataclass(frozen=True)
class DiffOp:
    """One word-level difference between the published text and the document."""

    op: str  # "replace" | "delete" (missing in the document) | "insert" (added in the document)
    expected: str
    actual: str
    context: str  # the words just before, to find the spot

    def as_dict(self) -> dict[str, str]:
        return {"op": self.op, "expected": self.expected, "actual": self.actual,
                "context": self.context}

    def __str__(self) -> str:
        parts = [f"…{self.context}" if self.context else ""]
        if self.expected:
            parts.append(f"[-{self.expected}-]")
        if self.actual:
            parts.append(f"{{+{self.actual}+}}")
        return " ".join(p for p in parts if p)


@dataclass
class VerifyResult:
    status: str  # one of STATUSES
    sha256: str  # of the file's bytes
    clause_id: str | None = None
    variant: str | None = None
    version: str | None = None
    language: str | None = None
    found_in: str | None = None  # "content_control" | "paragraphs"
    diff: list[DiffOp] = field(default_factory=list)
    provenance: Provenance | None = None
    warnings: list[str] = field(default_factory=list)
    method: str = "docx"  # one of METHODS
    similarity: float = 0.0  # word-level, against the best published text (1.0: identical)
    signatures: list[dict[str, Any]] = field(default_factory=list)  # PDF signatures

    @property
    def passed(self) -> bool:
        return self.status in PASSING

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "clause_id": self.clause_id,
            "variant": self.variant,
            "version": self.version,
            "language": self.language,
            "sha256": self.sha256,
            "found_in": self.found_in,
            "diff": [op.as_dict() for op in self.diff],
            "provenance": self.provenance.as_dict() if self.provenance else None,
            "warnings": list(self.warnings),
            "method": self.method,
            "similarity": round(self.similarity, 4),
            "signatures": [dict(s) for s in self.signatures],
        }


@dataclass
class _Para:
    element: etree._Element
    accepted: str  # the text once pending changes are accepted
    original: str  # the text if they were rejected
    revised: bool
    formatted: bool
    style: str | None
    hidden: bool  # some text was hidden (w:vanish) and left out


def verify(
    data: bytes, library: list[ClauseText], *, limits: Limits | None = None
) -> VerifyResult:
    """Classify the clause in the DOCX `data` against every published text in `library`."""
    sha = hashlib.sha256(data).hexdigest()
    package = Package.open(data, limits if limits is not None else Limits.current())
    names = package.names
    result = VerifyResult(status="missing", sha256=sha)
    result.provenance = provenance_part.read(package)
    roots = _story_roots(package)
    region = _region_in_controls(roots, names, result)
    result.found_in = "content_control" if region is not None else None
    if region is None or not _exact(region, library):
        # Pasted without the control, or the control lost paragraphs: LibreOffice, for
        # one, saves a block-level control around the first paragraph only.
        pasted = _region_by_title(roots, names, library)
        if pasted is not None and (region is None or _exact(pasted, library)):
            if region is not None:
                result.warnings.append("the content control holds only part of the clause")
            region, result.found_in = pasted, "paragraphs"
            result.warnings.append("the clause is not in a locked content control")
    if region is None:
        return result
    _classify(region, library, package, result)
    return result


def _story_roots(package: Package) -> list[etree._Element]:
    main = package.main_part
    roots = [package.tree(main)]
    for kind in _STORIES:
        for part in package.related_parts(main, kind):
            if package.xml_bytes(part) is not None:
                roots.append(package.tree(part))
    return roots


def _region_in_controls(
    roots: list[etree._Element], names: Names, result: VerifyResult
) -> list[_Para] | None:
    controls = [sdt for root in roots for sdt in clause_controls(root, names)]
    if len(controls) > 1:
        result.warnings.append(f"{len(controls)} clause content controls; the first is checked")
    if not controls:
        return None
    return [_read_paragraph(p, names) for p in paragraphs(controls[0], names)]


def _region_by_title(
    roots: list[etree._Element], names: Names, library: list[ClauseText]
) -> list[_Para] | None:
    titles = {normalize_line(text.title) for text in library}
    flat = [
        para
        for root in roots
        for para in map(lambda p: _read_paragraph(p, names), paragraphs(root, names))
        if normalize_line(para.accepted) or normalize_line(para.original)
    ]
    best: tuple[float, list[_Para]] | None = None
    for index, para in enumerate(flat):
        seen = {normalize_line(para.accepted), normalize_line(para.original)}
        if not seen & titles:
            continue
        for text in library:
            if normalize_line(text.title) not in seen:
                continue
            size = len(text.blocks)
            for extra in (0, -1, 1, -2, 2):
                window = flat[index : index + size + extra]
                score = _similarity(text.canonical, _canonical(window))
                if best is None or score > best[0]:
                    best = (score, window)
                if score == 1.0:
                    return window
    return best[1] if best else None


def _exact(region: list[_Para], library: list[ClauseText]) -> bool:
    text = _canonical(region)
    return any(t.canonical == text for t in library)


def _canonical(region: list[_Para], view: str = "accepted") -> str:
    return canonical_text([getattr(p, view) for p in region])


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def _classify(
    region: list[_Para], library: list[ClauseText], package: Package, result: VerifyResult
) -> None:
    text = _canonical(region)
    if any(p.hidden for p in region):
        result.warnings.append("hidden text inside the clause was ignored")
    exact = [t for t in library if t.canonical == text]
    if exact and not any(p.revised for p in region):
        match = exact[0]
        _describe(result, match)
        result.similarity = 1.0
        styles = _expected_styles(package, frozenset(p.element for p in region))
        result.status = "formatting_only" if _formatted(region, match, styles) else "verbatim"
    else:
        if not library:
            result.status = "deviation"
            return
        match = exact[0] if exact else max(library, key=lambda t: _similarity(t.canonical, text))
        _describe(result, match)
        result.similarity = _similarity(match.canonical, text)
        result.diff = word_diff(match.canonical, text)
        result.status = "tracked_changes" if any(p.revised for p in region) else "deviation"
    stamp = result.provenance
    if stamp and (stamp.sha256 != match.sha256 or stamp.version != match.version):
        result.warnings.append(
            f"the document's provenance names version {stamp.version} "
            f"({stamp.sha256[:12]}), the text found is {match.version} ({match.sha256[:12]})"
        )


def _describe(result: VerifyResult, text: ClauseText) -> None:
    result.clause_id = text.clause_id
    result.variant = text.variant
    result.version = text.version
    result.language = text.language


def _expected_styles(package: Package, exclude: frozenset[etree._Element]) -> ClauseStyles:
    styles = package.related_parts(package.main_part, "styles")
    styles_xml = package.xml_bytes(styles[0]) if styles else None
    return choose_styles(package.tree(package.main_part), styles_xml, package.names, exclude)


def _formatted(region: list[_Para], text: ClauseText, styles: ClauseStyles) -> bool:
    """True when the paragraphs carry other formatting than `insert` gives them."""
    if any(p.formatted for p in region):
        return True
    role = {"title": styles.title, "heading": styles.heading, "paragraph": styles.body}
    visible = [p for p in region if normalize_line(p.accepted)]
    if len(visible) != len(text.blocks):
        return True  # paragraphs split or merged differently
    return any(p.style != role[b.kind] for p, b in zip(visible, text.blocks, strict=True))


def word_diff(expected: str, actual: str) -> list[DiffOp]:
    """Word-level differences (difflib on whitespace-separated words)."""
    old, new = expected.split(), actual.split()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    ops = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        ops.append(
            DiffOp(
                op=tag,
                expected=" ".join(old[i1:i2]),
                actual=" ".join(new[j1:j2]),
                context=" ".join(old[max(0, i1 - 4) : i1]),
            )
        )
    return ops


# --- reading one paragraph ------------------------------------------------------


def _is_on(el: etree._Element | None, names: Names) -> bool:
    if el is None:
        return False
    return (el.get(names.q("val")) or "true").lower() not in ("0", "false", "off")


def _read_paragraph(p: etree._Element, names: Names) -> _Para:
    accepted: list[str] = []
    original: list[str] = []
    revised = hidden = formatted = False
    props = p.find(names.q("pPr"))
    style = None
    if props is not None:
        ref = props.find(names.q("pStyle"))
        style = ref.get(names.q("val")) if ref is not None else None
        formatted = any(
            local(child) not in _NEUTRAL_PARA and not is_neutralising(child, names)
            for child in props
            if isinstance(child.tag, str)
        )
        mark = props.find(names.q("rPr"))
        if mark is not None and any(local(c) in _REVISIONS for c in mark):
            revised = True
    for el in owned(p, names):
        name = local(el)
        if name in _REVISIONS:
            revised = True
            continue
        if name == "rPr" and local(el.getparent()) == "r":
            if _is_on(el.find(names.q("vanish")), names):
                continue
            if any(
                (local(c) not in _NEUTRAL_RUN or (local(c) == "rFonts" and _fonts_set(c, names)))
                and not is_neutralising(c, names)
                for c in el
                if isinstance(c.tag, str) and not local(c).endswith("Change")
            ):
                formatted = True
            continue
        piece = _piece(el, name)
        if piece is None:
            continue
        run = el.getparent()
        run_props = run.find(names.q("rPr")) if run is not None else None
        if run_props is not None and _is_on(run_props.find(names.q("vanish")), names):
            hidden = True
            continue
        state = _revision_state(el, p)
        if state != "deleted":
            accepted.append(piece)
        if state != "inserted":
            original.append(piece)
    return _Para(
        element=p,
        accepted="".join(accepted),
        original="".join(original),
        revised=revised,
        formatted=formatted,
        style=style,
        hidden=hidden,
    )


def _fonts_set(fonts: etree._Element, names: Names) -> bool:
    return any(etree.QName(attr).localname != "hint" for attr in fonts.attrib)


def _piece(el: etree._Element, name: str) -> str | None:
    """The visible text an element contributes, or None when it contributes nothing."""
    parent = el.getparent()
    if parent is None or local(parent) != "r":
        return None
    if name in ("t", "delText"):
        return el.text or ""
    if name in ("tab", "ptab", "br", "cr"):
        return " "
    if name == "noBreakHyphen":
        return "-"
    return None


def _revision_state(el: etree._Element, p: etree._Element) -> str:
    for ancestor in el.iterancestors():
        if ancestor is p:
            break
        name = local(ancestor)
        if name in _INSERTED:
            return "inserted"
        if name in _DELETED:
            return "deleted"
    return "current"
