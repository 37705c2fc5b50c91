"""The clause texts as files: loading, canonical normalisation and fingerprints.

This module needs neither Flask nor a database, so the document tools can use
it on a fresh checkout. A file in ``clause_texts/<variant>/<version>.<lang>.md``
holds TOML metadata between ``+++`` lines and then the text: blocks separated
by blank lines; a block starting with ``# `` is the title, ``## `` a section
heading, anything else a paragraph (its lines are joined with spaces).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

VARIANTS = ("procurement", "grant", "subcontract", "self_commitment")
LANGUAGES = ("de", "en")
MASTER_LANGUAGE = "de"

# Characters that differ between a typed, pasted or Word-formatted copy of the
# same words. Mapping them makes a returned document compare equal as long as
# the words are the same.
_TRANSLATE = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u200a": " ",  # hair space
        "\u2002": " ",
        "\u2003": " ",
        "\t": " ",
        "\u00ad": None,  # soft hyphen
        "\u200b": None,  # zero-width space
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,  # word joiner
        "\ufeff": None,
        "\u2011": "-",  # non-breaking hyphen
        "\u201e": '"',  # „
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201f": '"',
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u2033": '"',
        "\u201a": "'",  # ‚
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201b": "'",
        "\u2039": "'",  # ‹
        "\u203a": "'",  # ›
        "\u2032": "'",
    }
)
_SPACES = re.compile(r"[ \f\v]+")
_FRONT_MATTER = re.compile(r"\A\+\+\+\n(.*?)\n\+\+\+\n", re.DOTALL)


def normalize_line(text: str) -> str:
    """One paragraph in canonical form: NFC, plain spaces and quotes, no soft hyphens."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return _SPACES.sub(" ", text).strip()


def canonical_text(paragraphs: list[str] | tuple[str, ...]) -> str:
    """The canonical form of a sequence of paragraphs: one normalised line each, no empty ones."""
    lines = (normalize_line(p) for p in paragraphs)
    return "\n".join(line for line in lines if line)


def canonicalize(text: str) -> str:
    """Canonical form of free text, one paragraph per line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return canonical_text(text.split("\n"))


def fingerprint(canonical: str) -> str:
    """SHA-256 of the canonical text: what identifies a version's wording."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Block:
    kind: str  # "title" | "heading" | "paragraph"
    text: str


@dataclass(frozen=True)
class ClauseText:
    """One published version of one variant in one language, as read from its file."""

    clause_id: str
    variant: str
    version: str
    language: str
    title: str
    valid_from: date
    legal_basis: str
    council_decision: str
    change_note: str
    master_version: str | None  # for translations: the German version they translate
    blocks: tuple[Block, ...]
    path: Path
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(block.text for block in self.blocks)

    @property
    def canonical(self) -> str:
        return canonical_text(self.paragraphs)

    @property
    def sha256(self) -> str:
        return fingerprint(self.canonical)

    @property
    def version_key(self) -> tuple[int, ...]:
        return version_key(self.version)


class ClauseFileError(ValueError):
    """A clause file that cannot be read; the message names the file and the problem."""


def version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError as exc:
        raise ClauseFileError(f"version {version!r} is not of the form 1 or 1.2") from exc


def parse_blocks(body: str) -> tuple[Block, ...]:
    blocks = []
    for chunk in re.split(r"\n\s*\n", body.replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        text = " ".join(lines)
        if text.startswith("## "):
            blocks.append(Block("heading", text[3:].strip()))
        elif text.startswith("# "):
            blocks.append(Block("title", text[2:].strip()))
        else:
            blocks.append(Block("paragraph", text))
    return tuple(blocks)


REQUIRED = ("id", "variant", "version", "language", "valid_from", "legal_basis", "change_note")


def load_file(path: Path) -> ClauseText:
    raw = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(raw.replace("\r\n", "\n"))
    if not match:
        raise ClauseFileError(f"{path}: no metadata block between '+++' lines at the top")
    try:
        meta = tomllib.loads(match.group(1))
    except tomllib.TOMLDecodeError as exc:
        raise ClauseFileError(f"{path}: metadata is not valid TOML: {exc}") from exc
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ClauseFileError(f"{path}: metadata lacks {', '.join(missing)}")
    if meta["variant"] not in VARIANTS:
        raise ClauseFileError(f"{path}: unknown variant {meta['variant']!r}")
    if meta["language"] not in LANGUAGES:
        raise ClauseFileError(f"{path}: unknown language {meta['language']!r}")
    version = str(meta["version"])
    version_key(version)
    if meta["language"] != MASTER_LANGUAGE and "master_version" not in meta:
        raise ClauseFileError(f"{path}: a translation names the German master_version it follows")
    valid_from = meta["valid_from"]
    if not isinstance(valid_from, date):
        raise ClauseFileError(f"{path}: valid_from must be a date like 2026-01-01")
    blocks = parse_blocks(raw[match.end():])
    if not blocks or blocks[0].kind != "title":
        raise ClauseFileError(f"{path}: the text must start with a '# ' title")
    known = set(REQUIRED) | {"council_decision", "master_version"}
    return ClauseText(
        clause_id=str(meta["id"]),
        variant=meta["variant"],
        version=version,
        language=meta["language"],
        title=blocks[0].text,
        valid_from=valid_from,
        legal_basis=str(meta["legal_basis"]),
        council_decision=str(meta.get("council_decision", "")),
        change_note=str(meta["change_note"]),
        master_version=str(meta["master_version"]) if "master_version" in meta else None,
        blocks=blocks,
        path=path,
        extra={k: v for k, v in meta.items() if k not in known},
    )


def load_library(directory: Path | str) -> list[ClauseText]:
    """Every clause file below `directory`, sorted by variant, language and version."""
    directory = Path(directory)
    texts = [load_file(path) for path in sorted(directory.glob("*/*.md"))]
    seen: dict[tuple[str, str, str], Path] = {}
    for text in texts:
        key = (text.variant, text.language, text.version)
        if key in seen:
            raise ClauseFileError(f"{text.path}: version {text.version} also in {seen[key]}")
        seen[key] = text.path
    return sorted(texts, key=lambda t: (t.variant, t.language, t.version_key))


def current(
    texts: list[ClauseText], variant: str, language: str, on: date | None = None
) -> ClauseText | None:
    """The newest version of a variant and language valid on `on` (default: today)."""
    on = on or date.today()
    candidates = [
        t for t in texts if t.variant == variant and t.language == language and t.valid_from <= on
    ]
    return max(candidates, key=lambda t: t.version_key, default=None)


def default_library_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "clause_texts"
