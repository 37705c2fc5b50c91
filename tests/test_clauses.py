"""The clause library: canonical text, publishing, immutability, history and diff."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from clause_tracker.clauses import services
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.clauses.texts import (
    ClauseFileError,
    canonicalize,
    fingerprint,
    load_file,
    load_library,
    normalize_line,
)
from clause_tracker.extensions import db
from tests.helpers import german

REPO_TEXTS = Path(__file__).resolve().parents[1] / "clause_texts"


def test_normalisation_ignores_typography_but_not_words() -> None:
    typed = "„Diskriminierung“\u00a0ist  unzu\u00adlässig – ‚so‘ \r\n"
    assert normalize_line(typed) == "\"Diskriminierung\" ist unzulässig – 'so'"
    assert canonicalize("a\r\n\r\n  b \n") == "a\nb"
    # NFC: a decomposed umlaut equals the composed one.
    assert normalize_line("Zuwendungsempfa\u0308nger") == "Zuwendungsempfänger"
    assert fingerprint(canonicalize("Eine Klausel")) != fingerprint(canonicalize("Keine Klausel"))


def test_every_variant_has_a_german_master_and_an_english_translation() -> None:
    texts = load_library(REPO_TEXTS)
    pairs = {(t.variant, t.language) for t in texts}
    for variant in ("procurement", "grant", "subcontract", "self_commitment"):
        assert {(variant, "de"), (variant, "en")} <= pairs
    for t in texts:
        assert t.title and t.legal_basis and t.change_note
        if t.language == "en":
            assert t.master_version


def test_clause_wording_respects_the_lessons() -> None:
    """DESIGN §3: conduct not conviction, hearing, graded consequences, art and science."""
    texts = {(t.variant, t.language): t.canonical for t in load_library(REPO_TEXTS)}
    for variant in ("procurement", "grant", "subcontract"):
        assert "Anhörung" in texts[(variant, "de")]
        assert "AGG" in texts[(variant, "de")]
    assert "Art. 5 Abs. 3 GG" in texts[("grant", "de")]
    assert "für höchstens drei Jahre führen (§ 126 Nr. 2 GWB)" in texts[("procurement", "de")]


def test_sync_publishes_once(app) -> None:
    report = services.sync()
    assert len(report.added) == 8
    again = services.sync()
    assert again.added == [] and again.unchanged == 8
    version = services.current_version("procurement", "de")
    assert version.sha256 == fingerprint(version.canonical_text)


def _copy_texts(tmp_path: Path) -> Path:
    target = tmp_path / "clause_texts"
    shutil.copytree(REPO_TEXTS, target)
    return target


def test_changed_published_file_is_refused(app, tmp_path: Path) -> None:
    texts = _copy_texts(tmp_path)
    services.sync(texts)
    path = texts / "procurement" / "1.0.de.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Jena", "Weimar", 1) + "\nNeu.\n",
                    encoding="utf-8")
    before = db.session.scalar(select(ClauseVersion.sha256).where(
        ClauseVersion.variant == "procurement", ClauseVersion.language == "de"))
    with pytest.raises(services.ClauseChangedError, match="new version number"):
        services.sync(texts)
    db.session.rollback()
    after = db.session.scalar(select(ClauseVersion.sha256).where(
        ClauseVersion.variant == "procurement", ClauseVersion.language == "de"))
    assert before == after


def test_cli_sync_refuses_with_clear_message(app, runner, tmp_path: Path) -> None:
    texts = _copy_texts(tmp_path)
    app.config["CLAUSE_TEXTS_DIR"] = str(texts)
    assert runner.invoke(args=["clauses", "sync"]).exit_code == 0
    path = texts / "grant" / "1.0.en.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nAn added sentence.\n", encoding="utf-8")
    out = runner.invoke(args=["clauses", "sync"])
    assert out.exit_code != 0
    assert "immutable" in out.output and "1.0.en.md" in out.output


def test_typographic_change_is_not_a_change(app, tmp_path: Path) -> None:
    texts = _copy_texts(tmp_path)
    services.sync(texts)
    path = texts / "subcontract" / "1.0.de.md"
    raw = path.read_text(encoding="utf-8")
    path.write_text(raw.replace("\n\n", "\n\n\n").replace(" ", "  "), encoding="utf-8")
    assert services.sync(texts).unchanged == 8


def _new_version(texts: Path, variant: str, lang: str, old: str, new: str, extra: str) -> None:
    source = (texts / variant / f"{old}.{lang}.md").read_text(encoding="utf-8")
    source = source.replace(f'version = "{old}"', f'version = "{new}"', 1)
    source = source.replace("valid_from = 2026-01-01", "valid_from = 2026-06-01", 1)
    (texts / variant / f"{new}.{lang}.md").write_text(source + f"\n{extra}\n", encoding="utf-8")


def test_new_version_history_diff_and_stale_translation(app, client, signed_in,
                                                        tmp_path: Path) -> None:
    texts = _copy_texts(tmp_path)
    app.config["CLAUSE_TEXTS_DIR"] = str(texts)
    services.sync(texts)
    _new_version(texts, "procurement", "de", "1.0", "1.1", "Ein neuer Absatz zur Klarstellung.")
    report = services.sync(texts)
    assert report.added == ["procurement 1.1 (de)"]
    assert services.current_version("procurement", "de").version == "1.1"
    rows = {(r.variant, r.language): r for r in services.library_overview()}
    assert rows[("procurement", "en")].stale_translation
    assert not rows[("grant", "en")].stale_translation

    signed_in("procurement_officer")
    library = german(client).get("/clauses/").get_data(as_text=True)
    assert "1.1" in library
    assert "Die Übersetzung muss aktualisiert werden." in library
    diff = client.get("/clauses/procurement/de/diff?old=1.0&new=1.1").get_data(as_text=True)
    assert "<ins>" in diff and "Ein neuer Absatz zur Klarstellung." in diff
    unified = services.unified_diff(services.get_version("procurement", "de", "1.0"),
                                    services.get_version("procurement", "de", "1.1"))
    assert "+Ein neuer Absatz zur Klarstellung." in unified


def test_library_pages_for_every_role(client, signed_in, published_clauses) -> None:
    signed_in("grant_manager")
    page = client.get("/clauses/grant/de/1.0").get_data(as_text=True)
    assert "Art. 5 Abs. 3 GG" in page
    assert client.get("/clauses/grant/en/1.0").status_code == 200
    assert client.get("/clauses/grant/fr/1.0").status_code == 404
    assert client.get("/clauses/nonsense/de/diff").status_code == 404


def test_cli_list_show_diff(app, runner, published_clauses) -> None:
    listing = runner.invoke(args=["clauses", "list"]).output
    assert listing.count("\n") == 8
    shown = runner.invoke(args=["clauses", "show", "grant", "--lang", "en"])
    assert shown.exit_code == 0
    assert "Article 5(3) GG" in shown.output
    same = runner.invoke(args=["clauses", "diff", "grant", "1.0", "1.0"])
    assert same.output.strip() == "identical"
    unknown = runner.invoke(args=["clauses", "diff", "grant", "1.0", "9.9"])
    assert unknown.exit_code != 0 and "9.9" in unknown.output


def test_broken_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "procurement"
    bad.mkdir()
    (bad / "1.0.de.md").write_text("# Titel ohne Metadaten\n", encoding="utf-8")
    with pytest.raises(ClauseFileError, match=r"1\.0\.de\.md"):
        load_file(bad / "1.0.de.md")
