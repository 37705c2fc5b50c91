"""Provenance of an inserted clause, kept in the document's custom properties.

Custom properties (docProps/custom.xml) show up in Word under File >
Properties, survive editing and saving in Word and LibreOffice, and need no
extra part types.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata

from lxml import etree

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents.namespaces import (
    CUSTOM_PROPS_CONTENT_TYPE,
    CUSTOM_PROPS_FMTID,
    CUSTOM_PROPS_PART,
    Names,
    rel_type_is,
)
from clause_tracker.documents.package import Package, resolve

PREFIX = "Antirassismusklausel."
FIELDS = {
    "clause_id": "ClauseId",
    "variant": "Variant",
    "version": "Version",
    "language": "Language",
    "sha256": "SHA256",
    "app_version": "AppVersion",
    "inserted_at": "InsertedAt",
}


@lru_cache(maxsize=256)
def clause_sha256(clause: ClauseText) -> str:
    """The clause's fingerprint, computed once per loaded text (normalising is not free)."""
    return clause.sha256


@lru_cache(maxsize=1)
def app_version() -> str:
    try:
        return metadata.version("clause-tracker")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Provenance:
    """What was inserted, by which version of this application, when (UTC)."""

    clause_id: str
    variant: str
    version: str
    language: str
    sha256: str  # of the clause's canonical text
    app_version: str
    inserted_at: datetime

    @classmethod
    def for_clause(cls, clause: ClauseText, now: datetime | None = None) -> Provenance:
        return cls(
            clause_id=clause.clause_id,
            variant=clause.variant,
            version=clause.version,
            language=clause.language,
            sha256=clause_sha256(clause),
            app_version=app_version(),
            inserted_at=(now or datetime.now(UTC)).replace(microsecond=0),
        )

    def as_dict(self) -> dict[str, str]:
        values = asdict(self)
        values["inserted_at"] = self.inserted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return values


def _custom_part(package: Package) -> str | None:
    for rel in package.relationships(""):
        if not rel.external and (
            rel_type_is(rel.type, "custom-properties") or rel_type_is(rel.type, "customProperties")
        ):
            name = resolve("", rel.target)
            if package.xml_bytes(name) is not None:
                return name
    return None


def write(package: Package, provenance: Provenance) -> None:
    """Set our properties in docProps/custom.xml, replacing earlier ones, keeping all others."""
    names = package.names
    part = _custom_part(package)
    if part is None:
        part = CUSTOM_PROPS_PART
        root = etree.Element(
            f"{{{names.custom_props}}}Properties",
            nsmap={None: names.custom_props, "vt": names.vt},
        )
        package.add_part(part, root, CUSTOM_PROPS_CONTENT_TYPE)
        package.add_relationship("", names.rel_type("custom-properties"), part)
    root = package.tree(part)
    namespace = etree.QName(root).namespace or names.custom_props
    vt = names.vt if namespace == names.custom_props else _vt_of(root)
    for prop in list(root):
        if (prop.get("name") or "").startswith(PREFIX):
            root.remove(prop)
    pids = [int(p.get("pid", "1")) for p in root if (p.get("pid") or "").isdigit()]
    pid = max([1, *pids]) + 1
    for key, value in provenance.as_dict().items():
        prop = etree.SubElement(
            root,
            f"{{{namespace}}}property",
            fmtid=CUSTOM_PROPS_FMTID,
            pid=str(pid),
            name=PREFIX + FIELDS[key],
        )
        etree.SubElement(prop, f"{{{vt}}}lpwstr").text = value
        pid += 1
    package.mark_dirty(part)


def _vt_of(root: etree._Element) -> str:
    for el in root.iter():
        namespace = etree.QName(el).namespace
        if namespace and namespace.endswith(("docPropsVTypes",)):
            return namespace
    return Names(strict=False).vt


def read(package: Package) -> Provenance | None:
    """Our provenance properties, or None when absent or incomplete."""
    part = _custom_part(package)
    if part is None:
        return None
    values: dict[str, str] = {}
    reverse = {v: k for k, v in FIELDS.items()}
    for prop in package.tree(part):
        name = prop.get("name") or ""
        if name.startswith(PREFIX) and name[len(PREFIX) :] in reverse:
            values[reverse[name[len(PREFIX) :]]] = "".join(prop.itertext()).strip()
    if set(values) != set(FIELDS):
        return None
    try:
        inserted = datetime.strptime(values["inserted_at"], "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    values_typed: dict[str, object] = {**values, "inserted_at": inserted.replace(tzinfo=UTC)}
    return Provenance(**values_typed)  # type: ignore[arg-type]
