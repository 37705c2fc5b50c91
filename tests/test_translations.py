"""The German catalog: complete, faithful to its placeholders, up to date with the sources, used.

When a test here fails after new UI strings were added, update the catalog (see UPDATE_COMMANDS)
and translate the new entries in clause_tracker/translations/de/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[1]
TRANSLATIONS = REPO / "clause_tracker" / "translations"
GERMAN_PO = TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po"
BABEL_CFG = REPO / "babel.cfg"
# The same keywords as `pybabel extract -k _l -k lazy_gettext` (babel's defaults plus these).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
UPDATE_COMMANDS = (
    "pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-output "
    "--project clause_tracker --copyright-holder 'Stadt Jena' "
    "-o clause_tracker/translations/messages.pot . && "
    "pybabel update -i clause_tracker/translations/messages.pot "
    "-d clause_tracker/translations -l de --ignore-obsolete"
)
# %(name)s, %(num)d, %s, %% … and Jinja-style {{ name }} placeholders kept in the text.
PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]|\{\{.*?\}\}"
)
SOURCE_DIRS = {"clause_tracker", "templates"}  # where babel.cfg looks; the rest is not walked


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with GERMAN_PO.open("rb") as handle:
        return read_po(handle, locale="de")


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    return _forms(message_id)[0]


def _label(message: Message) -> str:
    return repr(_key(message.id))


def test_catalog_is_german_with_two_plural_forms(catalog: Catalog) -> None:
    assert str(catalog.locale) == "de"
    assert catalog.num_plurals == 2
    assert catalog.plural_expr.replace(" ", "") in {"(n!=1)", "n!=1"}


def test_every_message_is_translated_and_none_is_fuzzy(catalog: Catalog) -> None:
    fuzzy = [_label(m) for m in _messages(catalog) if m.fuzzy]
    untranslated = [_label(m) for m in _messages(catalog)
                    if not all(form.strip() for form in _forms(m.string or ""))]
    assert not fuzzy, "fuzzy entries (check, then remove '#, fuzzy'):\n" + "\n".join(fuzzy)
    assert not untranslated, "untranslated entries in {}:\n{}".format(
        GERMAN_PO.relative_to(REPO), "\n".join(untranslated))
    for message in _messages(catalog):
        if message.pluralizable:
            assert len(_forms(message.string)) == catalog.num_plurals, _label(message)


def test_placeholders_are_kept(catalog: Catalog) -> None:
    problems = []
    for message in _messages(catalog):
        ids = _forms(message.id)
        strings = _forms(message.string)
        for index, string in enumerate(strings):
            source = ids[min(index, len(ids) - 1)]  # German: [0] singular, [1] plural
            expected, found = set(PLACEHOLDER.findall(source)), set(PLACEHOLDER.findall(string))
            if expected != found:
                problems.append(f"{source!r} → {string!r}: expected {sorted(expected)}, "
                                f"found {sorted(found)}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_quotes_are_german(catalog: Catalog) -> None:
    """Where the English text quotes with “…”, the German one quotes with „…“."""
    problems = [
        f"{_key(m.id)!r} → {string!r}"
        for m in _messages(catalog)
        if "“" in _key(m.id)
        for string in _forms(m.string)
        if "„" not in string or '"' in string
    ]
    assert not problems, "use „…“ in German:\n" + "\n".join(problems)


def _extracted_msgids() -> dict[str, str]:
    """Every translatable string in the sources, as `pybabel extract -F babel.cfg` sees it."""
    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, filename=str(BABEL_CFG))

    def descend(path: str) -> bool:
        parts = Path(path).resolve().relative_to(REPO).parts
        # babel's own rule (no hidden or private folders), and only the source folders.
        return parts[0] in SOURCE_DIRS and not any(p.startswith((".", "_")) for p in parts)

    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=KEYWORDS, directory_filter=descend,
    ):
        msgid = _key(message)
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_catalog_is_up_to_date_with_the_sources(catalog: Catalog) -> None:
    extracted = _extracted_msgids()
    assert len(extracted) > 100, "extraction found almost nothing; is babel.cfg right?"
    known = {_key(m.id) for m in _messages(catalog)}
    missing = sorted(msgid for msgid in extracted if msgid not in known)
    assert not missing, (
        f"{len(missing)} UI string(s) are not in the German catalog:\n"
        + "\n".join(f"  {extracted[msgid]}: {msgid!r}" for msgid in missing)
        + f"\n\nUpdate the catalog from the repository root:\n  {UPDATE_COMMANDS}\n"
        f"then translate the new entries in {GERMAN_PO.relative_to(REPO)}."
    )


def test_pages_are_german_by_default_and_english_on_request(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Anmelden" in page and "Benutzername" in page and "Passwort" in page
    assert "Sign in" not in page

    client.set_cookie("lang", "en")
    english = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in english and "Sign in" in english
