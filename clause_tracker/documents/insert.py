"""Putting the clause into a document: a locked content control in the document's own styles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from clause_tracker.clauses.texts import ClauseText, current
from clause_tracker.documents import externals, provenance
from clause_tracker.documents.errors import ClauseUnavailable
from clause_tracker.documents.ingest import Limits
from clause_tracker.documents.locate import ALIAS, TAG, Location, find_location
from clause_tracker.documents.namespaces import MC, Names
from clause_tracker.documents.package import Package
from clause_tracker.documents.provenance import Provenance, clause_sha256
from clause_tracker.documents.readable import (
    Neutralised,
    neutralise,
    paragraph_properties,
    roles,
    run_properties,
)
from clause_tracker.documents.styles import ClauseStyles, choose_styles
from clause_tracker.documents.wordml import (
    MARKERS,
    empty_paragraph,
    isolate_span,
    local,
    make_t,
    markers_of,
    parent,
    remove_text,
    split_at,
)

_MARKER = "{urn:clause-tracker:marker}split"
_NO_LIST = ("numPr",)  # an empty paragraph in a numbered Normal style would show its number
# Containers whose last child must be a paragraph for Word to open the file.
_NEEDS_TRAILING_P = frozenset({"tc", "txbxContent"})


@dataclass
class InsertResult:
    """The new document and what the web layer stores about it."""

    data: bytes
    location: Location
    provenance: Provenance
    styles: ClauseStyles
    warnings: list[str] = field(default_factory=list)


def open_package(data: bytes, limits: Limits | None) -> Package:
    return Package.open(data, limits if limits is not None else Limits.current())


def preview_location(
    data: bytes,
    *,
    limits: Limits | None = None,
    known: Sequence[ClauseText] = (),
    variant: str | None = None,
    language: str | None = None,
) -> Location:
    """Where `insert_clause` would put the clause of `variant` and `language`, with the
    paragraphs around it. `known`: the published texts, to find that clause already there.
    """
    package = open_package(data, limits)
    same = same_clause(known, variant, language)
    return find_location(package.tree(package.main_part), package.names, context=True,
                         known=same)


def insert_clause(
    data: bytes,
    clause: ClauseText,
    *,
    limits: Limits | None = None,
    now: datetime | None = None,
    context: bool = False,
    known: Sequence[ClauseText] = (),
) -> InsertResult:
    """Insert `clause` into the DOCX `data`; raise DocumentRejected for hostile or broken files.

    The same clause already in the document (`clause` or another version of it among the
    `known` published texts, recognised by its text as verification does) is replaced in
    place, so a document never carries it twice; pass every published text, as verification
    gets them. Other variants and languages stay (a contract may carry the subcontractor
    text as an annex, or the clause in two languages).
    """
    package = open_package(data, limits)
    names = package.names
    root = package.tree(package.main_part)
    same = [clause, *same_clause(known, clause.variant, clause.language)]
    location = find_location(root, names, context=context, known=same)
    styles_parts = package.related_parts(package.main_part, "styles")
    styles_xml = package.xml_bytes(styles_parts[0]) if styles_parts else None
    styles = choose_styles(root, styles_xml, names, exclude=_old_clause(location, names))
    neutral = neutralise(styles_xml, styles, names, root)
    control = build_control(clause, styles, names, neutral)
    apply_location(location, control, names)
    package.mark_dirty(package.main_part)
    warnings = list(location.warnings)
    warnings += externals.remove_external(package)
    stamp = Provenance.for_clause(clause, now)
    provenance.write(package, stamp)
    return InsertResult(
        data=package.to_bytes(),
        location=location,
        provenance=stamp,
        styles=styles,
        warnings=warnings,
    )


def same_clause(
    known: Sequence[ClauseText], variant: str | None, language: str | None
) -> list[ClauseText]:
    """The texts of one clause (every version), for `variant` and `language` (None: any)."""
    return [
        t for t in known
        if variant in (None, t.variant) and language in (None, t.language)
    ]


def _old_clause(location: Location, names: Names) -> frozenset[etree._Element]:
    """The paragraphs of the clause being replaced: they do not count as the document's own
    headings and text (verification leaves out the clause likewise)."""
    if location.mode not in ("existing", "content_control") or location.element is None:
        return frozenset()
    blocks = [location.element, *location.replaced]
    return frozenset(p for block in blocks for p in block.iter(names.q("p")))


def select_clause(
    library: list[ClauseText], variant: str, language: str, version: str | None = None
) -> ClauseText:
    """The requested version, or the current one; ClauseUnavailable when there is none."""
    if version:
        for text in library:
            if (text.variant, text.language, text.version) == (variant, language, version):
                return text
        raise ClauseUnavailable(variant, language, version)
    newest = current(library, variant, language)
    if newest is None:
        raise ClauseUnavailable(variant, language)
    return newest


# --- the content control -------------------------------------------------------


def _paragraph(
    text: str, style: str | None, names: Names, neutral: Neutralised | None = None
) -> etree._Element:
    """One clause paragraph in `style`, with what `neutral` says to switch off set directly."""
    neutral = neutral or Neutralised()
    p = etree.Element(names.q("p"))
    paragraph_props = paragraph_properties(neutral, names)
    if neutral.run:
        # The paragraph mark too: a hidden mark makes Word and LibreOffice join or drop the
        # paragraph, even when its text is visible.
        mark = etree.Element(names.q("rPr"))
        mark.extend(run_properties(neutral, names))
        paragraph_props.append(mark)
    if style or paragraph_props:
        props = etree.SubElement(p, names.q("pPr"))
        if style:
            etree.SubElement(props, names.q("pStyle")).set(names.q("val"), style)
        props.extend(paragraph_props)
    if not text:
        return p
    run = etree.SubElement(p, names.q("r"))
    if neutral.run:
        etree.SubElement(run, names.q("rPr")).extend(run_properties(neutral, names))
    run.append(make_t(names, text))
    return p


def build_control(
    clause: ClauseText,
    styles: ClauseStyles,
    names: Names,
    neutral: dict[str, Neutralised] | None = None,
) -> etree._Element:
    """A block-level content control, tagged and locked, holding the clause paragraphs.

    `neutral`: per role (readable.roles), what the borrowed style does that is switched off.
    """
    val = names.q("val")
    sdt = etree.Element(names.q("sdt"))
    props = etree.SubElement(sdt, names.q("sdtPr"))
    etree.SubElement(props, names.q("alias")).set(val, ALIAS)
    etree.SubElement(props, names.q("tag")).set(val, TAG)
    etree.SubElement(props, names.q("id")).set(val, str(int(clause_sha256(clause)[:7], 16)))
    etree.SubElement(props, names.q("lock")).set(val, "sdtContentLocked")
    content = etree.SubElement(sdt, names.q("sdtContent"))
    role_style = roles(styles)
    neutral = neutral or {}
    first = clause.blocks[0].kind if clause.blocks else ""
    if first in neutral and neutral[first].run:
        # LibreOffice (7.4) reads the first paragraph of a block content control into an
        # input field that drops its runs' properties: the switched-off hiding, striking or
        # colour would come back on the title. An empty first paragraph takes that place.
        content.append(_paragraph("", None, names, Neutralised(paragraph=_NO_LIST)))
    for block in clause.blocks:
        content.append(
            _paragraph(block.text, role_style.get(block.kind), names, neutral.get(block.kind))
        )
    return sdt


# --- applying a location ---------------------------------------------------------


def apply_location(location: Location, control: etree._Element, names: Names) -> None:
    """Put `control` at `location`, consuming the placeholder, old control or nothing."""
    element = location.element
    assert element is not None
    if location.mode == "existing":
        element.addprevious(control)
        _remove_old(element, control, names, first=True)
    elif location.mode == "content_control":
        up = parent(element)
        if local(up) in ("p", "r", "hyperlink", "fldSimple", "smartTag", "ins", "del"):
            marker = etree.Element(_MARKER)
            up.replace(element, marker)
            _split_paragraph_and_insert(_paragraph_of(marker, names), marker, control, names)
        else:
            up.replace(element, control)
    elif location.mode == "bookmark":
        if local(element.getparent()) in ("body", "tc", "txbxContent", "sdtContent", "customXml"):
            element.addnext(control)
        else:
            marker = etree.Element(_MARKER)
            element.addnext(marker)
            _split_paragraph_and_insert(_paragraph_of(marker, names), marker, control, names)
    elif location.mode == "placeholder":
        assert location.span is not None
        marker = _cut_placeholder(element, location.span, names)
        _split_paragraph_and_insert(element, marker, control, names)
    elif location.mode == "signature":
        element.addprevious(control)
    else:  # end: before the final section properties
        sect = element.find(names.q("sectPr"))
        if sect is not None:
            sect.addprevious(control)
        else:
            element.append(control)
    for old in location.replaced:
        _remove_old(old, control, names)
    _keep_valid(control, names)


def _paragraph_of(el: etree._Element, names: Names) -> etree._Element:
    for ancestor in el.iterancestors(names.q("p")):
        return ancestor
    raise ValueError("marker outside a paragraph")


def _cut_placeholder(p: etree._Element, span: tuple[int, int], names: Names) -> etree._Element:
    """Remove the placeholder characters (across runs) and leave a marker where they began."""
    covered = isolate_span(p, span[0], span[1], names)
    marker = etree.Element(_MARKER)
    parent(covered[0]).addprevious(marker)
    for t in covered:
        remove_text(t)
    return marker


def _split_paragraph_and_insert(
    p: etree._Element, marker: etree._Element, control: etree._Element, names: Names
) -> None:
    right = split_at(p, marker, names)
    p.addnext(control)
    content = control.find(names.q("sdtContent"))
    assert content is not None  # build_control made it
    first, last = content[0], content[-1]
    if empty_paragraph(p, names):
        _move_markers(p, first, names, at_start=True)
        parent(p).remove(p)
    if empty_paragraph(right, names):
        _move_markers(right, last, names, at_start=False)
        parent(right).remove(right)


def _move_markers(
    source: etree._Element, target: etree._Element, names: Names, *, at_start: bool
) -> None:
    """Keep bookmarks and comment ranges of a paragraph that is about to disappear."""
    marks = [m for m in markers_of(source, names) if local(m) in MARKERS]
    if not marks:
        return
    if at_start:
        props = target.find(names.q("pPr"))
        anchor_index = 1 if props is not None else 0
        for offset, mark in enumerate(marks):
            target.insert(anchor_index + offset, mark)
    else:
        for mark in marks:
            target.append(mark)


def _remove_old(
    block: etree._Element, control: etree._Element, names: Names, *, first: bool = False
) -> None:
    """Remove a block of an old clause. Its bookmarks and comment ranges move into the new
    clause (to its start for the `first` block, else to its end); a section break it ended
    stays, on an empty paragraph in its place."""
    content = control.find(names.q("sdtContent"))
    assert content is not None  # build_control made it
    target = content[0] if first else content[-1]
    marks = [el for el in block.iter() if local(el) in MARKERS and local(el) != "proofErr"]
    props = target.find(names.q("pPr"))
    for offset, mark in enumerate(marks):
        if first:
            target.insert((1 if props is not None else 0) + offset, mark)
        else:
            target.append(mark)
    for sect in list(block.iter(names.q("sectPr"))):
        section_props = sect.getparent()
        if section_props is not None and local(section_props) == "pPr":
            keeper = etree.Element(names.q("p"))
            keeper.append(section_props)
            block.addprevious(keeper)
    parent(block).remove(block)


def _keep_valid(control: etree._Element, names: Names) -> None:
    if local(control.getparent()) in _NEEDS_TRAILING_P and control.getnext() is None:
        control.addnext(etree.Element(names.q("p")))
    # A text box exists twice (DrawingML choice, VML fallback): drop the stale fallback.
    for choice in control.iterancestors(f"{{{MC}}}Choice"):
        alternate = parent(choice)
        for fallback in alternate.findall(f"{{{MC}}}Fallback"):
            alternate.remove(fallback)
