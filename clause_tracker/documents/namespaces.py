"""OOXML namespaces and relationship types, for both Transitional and Strict packages."""

from __future__ import annotations

from dataclasses import dataclass

W_TRANSITIONAL = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
R_TRANSITIONAL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
R_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
XML = "http://www.w3.org/XML/1998/namespace"

CUSTOM_PROPS_PART = "docProps/custom.xml"
CUSTOM_PROPS_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
# The format id Office uses for user-defined custom properties.
CUSTOM_PROPS_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"

WORD_MAIN_CONTENT_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    }
)


@dataclass(frozen=True)
class Names:
    """The namespaces of one package: Strict documents use purl.oclc.org URIs throughout."""

    strict: bool

    @property
    def w(self) -> str:
        return W_STRICT if self.strict else W_TRANSITIONAL

    @property
    def r(self) -> str:
        return R_STRICT if self.strict else R_TRANSITIONAL

    @property
    def custom_props(self) -> str:
        if self.strict:
            return "http://purl.oclc.org/ooxml/officeDocument/customProperties"
        return "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"

    @property
    def vt(self) -> str:
        if self.strict:
            return "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes"
        return "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"

    def rel_type(self, name: str) -> str:
        """Relationship type URI, e.g. rel_type('styles')."""
        if self.strict:
            strict_names = {"custom-properties": "customProperties"}
            return f"{R_STRICT}/{strict_names.get(name, name)}"
        return f"{R_TRANSITIONAL}/{name}"

    def q(self, local: str) -> str:
        """Clark name of a WordprocessingML element or attribute."""
        return f"{{{self.w}}}{local}"

TRANSITIONAL = Names(strict=False)
STRICT = Names(strict=True)


def rel_type_is(rel_type: str, name: str) -> bool:
    """True when a relationship type names `name` in either flavour (compared by last segment)."""
    return rel_type.rsplit("/", 1)[-1].lower() == name.lower()
