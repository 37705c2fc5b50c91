"""What a returned PDF carries besides its pages: JavaScript, launch actions, embedded files.

Nothing here is ever executed or extracted; it is only named in the result's warnings,
so an officer knows the file does more than show a contract.
"""

from __future__ import annotations

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

_ACTIONS = {
    "/JavaScript": "the PDF contains JavaScript (not run)",
    "/Launch": "the PDF contains a launch action that would start a program (not run)",
    "/ImportData": "the PDF contains an import-data action (not run)",
    "/GoToE": "the PDF contains an action that opens an embedded document (not run)",
}
_EMBEDDED = "the PDF contains embedded files (not opened)"
_MAX_OBJECTS = 200_000


def active_content(reader: PdfReader) -> list[str]:
    """A warning for each kind of active content found in any object of the file."""
    found: set[str] = set()
    for number, generation in _object_ids(reader):
        try:
            obj = reader.get_object(IndirectObject(number, generation, reader))
        except Exception:  # noqa: S112  # a broken object carries nothing we could name
            continue
        _inspect(obj, found)
    return sorted(found)


def _object_ids(reader: PdfReader) -> list[tuple[int, int]]:
    ids = [(num, gen) for gen, table in reader.xref.items() for num in table]
    ids += [(num, 0) for num in reader.xref_objStm]
    return ids[:_MAX_OBJECTS]


def _inspect(obj: object, found: set[str], depth: int = 2) -> None:
    if depth < 0:
        return
    if isinstance(obj, DictionaryObject):
        action = obj.get("/S")
        if isinstance(action, NameObject) and str(action) in _ACTIONS:
            found.add(_ACTIONS[str(action)])
        if "/JS" in obj:
            found.add(_ACTIONS["/JavaScript"])
        kind = obj.get("/Type")
        if kind in ("/EmbeddedFile", "/Filespec") and ("/EF" in obj or kind == "/EmbeddedFile"):
            found.add(_EMBEDDED)
        if obj.get("/Subtype") == "/FileAttachment" or "/EmbeddedFiles" in obj:
            found.add(_EMBEDDED)
        if "/JavaScript" in obj:  # the document's JavaScript name tree
            found.add(_ACTIONS["/JavaScript"])
        for key, value in obj.items():
            if key in ("/Parent", "/P"):
                continue
            if not isinstance(value, IndirectObject):  # indirect ones are visited on their own
                _inspect(value, found, depth - 1)
    elif isinstance(obj, ArrayObject):
        for item in obj:
            if not isinstance(item, IndirectObject):
                _inspect(item, found, depth - 1)
