"""Loading clause files into the library, and reading it back."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from clause_tracker.audit.services import record
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.clauses.texts import (
    MASTER_LANGUAGE,
    VARIANTS,
    ClauseText,
    load_library,
    version_key,
)
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.transaction import transactional


class ClauseChangedError(RuntimeError):
    """A published version's file was edited: that needs a new version number."""


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    unchanged: int = 0
    orphaned: list[str] = field(default_factory=list)  # in the database, file gone


def texts_dir() -> Path:
    return Path(current_app.config["CLAUSE_TEXTS_DIR"])


def _label(variant: str, language: str, version: str) -> str:
    return f"{variant} {version} ({language})"


@transactional
def sync(directory: Path | None = None) -> SyncReport:
    """Publish new versions from the files. All or nothing: any changed version refuses all."""
    texts = load_library(directory or texts_dir())
    existing = {
        (v.variant, v.language, v.version): v for v in db.session.scalars(select(ClauseVersion))
    }
    changed = [
        t for t in texts
        if (key := (t.variant, t.language, t.version)) in existing
        and existing[key].sha256 != t.sha256
    ]
    if changed:
        names = "; ".join(f"{t.path.name} ({_label(t.variant, t.language, t.version)})"
                          for t in changed)
        raise ClauseChangedError(
            _l("Published clause versions are immutable, but these files differ from what was "
               "published: %(names)s. Restore them and save the new wording under a new version "
               "number.", names=names)
        )
    report = SyncReport()
    for text in texts:
        if (text.variant, text.language, text.version) in existing:
            report.unchanged += 1
            continue
        version = _from_text(text)
        db.session.add(version)
        db.session.flush()
        label = _label(text.variant, text.language, text.version)
        record("clause.publish", "ClauseVersion", version.id, f"Clause version published: {label}",
               {"clause_id": text.clause_id, "sha256": text.sha256, "file": version.source_path},
               params={"variant": text.variant, "version": text.version,
                       "language": text.language})
        report.added.append(label)
    on_disk = {(t.variant, t.language, t.version) for t in texts}
    report.orphaned = [_label(*key) for key in existing if key not in on_disk]
    return report


def _from_text(text: ClauseText) -> ClauseVersion:
    try:
        source = str(text.path.relative_to(texts_dir().parent))
    except ValueError:
        source = str(text.path)
    return ClauseVersion(
        clause_id=text.clause_id,
        variant=text.variant,
        version=text.version,
        language=text.language,
        title=text.title,
        valid_from=text.valid_from,
        legal_basis=text.legal_basis,
        council_decision=text.council_decision,
        change_note=text.change_note,
        master_version=text.master_version,
        blocks_json=json.dumps([[b.kind, b.text] for b in text.blocks], ensure_ascii=False),
        canonical_text=text.canonical,
        sha256=text.sha256,
        source_path=source,
        published_at=utcnow(),
    )


def as_clause_text(version: ClauseVersion) -> ClauseText:
    """The published version in the form the document engine works with."""
    return ClauseText(
        clause_id=version.clause_id,
        variant=version.variant,
        version=version.version,
        language=version.language,
        title=version.title,
        valid_from=version.valid_from,
        legal_basis=version.legal_basis,
        council_decision=version.council_decision,
        change_note=version.change_note,
        master_version=version.master_version,
        blocks=tuple(version.blocks),
        path=Path(version.source_path),
    )


def published_texts() -> list[ClauseText]:
    """Every published version: what a returned document is compared against."""
    return [as_clause_text(v) for v in versions()]


def versions(variant: str | None = None, language: str | None = None) -> list[ClauseVersion]:
    stmt = select(ClauseVersion)
    if variant:
        stmt = stmt.where(ClauseVersion.variant == variant)
    if language:
        stmt = stmt.where(ClauseVersion.language == language)
    found = list(db.session.scalars(stmt))
    return sorted(found, key=lambda v: (VARIANTS.index(v.variant) if v.variant in VARIANTS
                                        else 99, v.language, v.version_key))


def get_version(variant: str, language: str, version: str) -> ClauseVersion | None:
    return db.session.scalar(select(ClauseVersion).where(
        ClauseVersion.variant == variant, ClauseVersion.language == language,
        ClauseVersion.version == version,
    ))


def current_version(variant: str, language: str) -> ClauseVersion | None:
    today = utcnow().date()
    valid = [v for v in versions(variant, language) if v.valid_from <= today]
    return valid[-1] if valid else None


@dataclass(frozen=True)
class LibraryRow:
    variant: str
    language: str
    current: ClauseVersion | None
    history: list[ClauseVersion]
    stale_translation: bool  # translates an older German master than the current one
    master: ClauseVersion | None


def library_overview() -> list[LibraryRow]:
    rows = []
    for variant in VARIANTS:
        master = current_version(variant, MASTER_LANGUAGE)
        for language in current_app.config["LANGUAGES"]:
            history = versions(variant, language)
            if not history:
                continue
            cur = current_version(variant, language)
            stale = bool(
                language != MASTER_LANGUAGE and cur and master and cur.master_version
                and version_key(cur.master_version) < master.version_key
            )
            rows.append(LibraryRow(variant, language, cur, history, stale, master))
    return rows


@dataclass(frozen=True)
class DiffRow:
    kind: str  # "equal" | "replace" | "delete" | "insert"
    left: str
    right: str


def side_by_side(old: ClauseVersion, new: ClauseVersion) -> list[DiffRow]:
    """Paragraph-aligned comparison of two versions for display."""
    a, b = old.canonical_text.split("\n"), new.canonical_text.split("\n")
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            rows.append(DiffRow(tag, left[k] if k < len(left) else "",
                                right[k] if k < len(right) else ""))
    return rows


def unified_diff(old: ClauseVersion, new: ClauseVersion) -> str:
    return "\n".join(difflib.unified_diff(
        old.canonical_text.split("\n"), new.canonical_text.split("\n"),
        fromfile=_label(old.variant, old.language, old.version),
        tofile=_label(new.variant, new.language, new.version), lineterm="",
    ))
