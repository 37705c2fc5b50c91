"""`clause-tracker docx insert|verify` through click's test runner, without any database."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from clause_tracker.documents.cli import docx_cli
from tests.documents.docx_builders import NS, clause_control, edit_document, simple_document


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(docx_cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_insert_one_file_then_verify(tmp_path: Path) -> None:
    source = tmp_path / "vertrag.docx"
    source.write_bytes(simple_document("Text", "Unterschrift"))
    target = tmp_path / "out.docx"
    code, out, err = run("insert", str(source), "-o", str(target))
    assert code == 0, err
    assert "signature" in out and target.exists()
    code, out, _ = run("verify", str(target))
    assert code == 0 and out.startswith("verbatim: jena-ark-procurement")


def test_verify_json(tmp_path: Path) -> None:
    target = tmp_path / "out.docx"
    source = tmp_path / "in.docx"
    source.write_bytes(simple_document("Text"))
    run("insert", str(source), "-o", str(target), "--variant", "grant", "--lang", "en")
    code, out, _ = run("verify", str(target), "--json")
    payload = json.loads(out)
    assert code == 0
    assert {"status", "clause_id", "version", "language", "sha256", "diff"} <= set(payload)
    assert (payload["status"], payload["language"], payload["variant"]) == (
        "verbatim", "en", "grant"
    )


def test_verify_fails_for_deviation_and_missing(tmp_path: Path) -> None:
    source, target = tmp_path / "in.docx", tmp_path / "out.docx"
    source.write_bytes(simple_document("Text"))
    run("insert", str(source), "-o", str(target))

    def edit(root: object) -> None:
        clause_control(root).findall(".//w:t", NS)[2].text = "Geändert."

    changed = tmp_path / "changed.docx"
    changed.write_bytes(edit_document(target.read_bytes(), edit))
    code, out, _ = run("verify", str(changed), "--json")
    assert code != 0 and json.loads(out)["status"] == "deviation"
    assert json.loads(out)["diff"]
    code, out, _ = run("verify", str(source))
    assert code != 0 and out.startswith("missing")


def test_rejected_file_gives_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    code, _, err = run("insert", str(bad), "-o", str(tmp_path / "x.docx"))
    assert code != 0
    assert err.strip().count("\n") == 0
    assert err.startswith(f"error: {bad}: ") and "encrypted" in err
    code, _, err = run("verify", str(bad))
    assert code != 0 and err.startswith("error: ")


def test_batch_continues_after_a_rejection(tmp_path: Path) -> None:
    good = [tmp_path / f"v{i}.docx" for i in range(2)]
    for path in good:
        path.write_bytes(simple_document("Text"))
    bad = tmp_path / "kaputt.docx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    out_dir = tmp_path / "out"
    code, out, err = run("insert", str(good[0]), str(bad), str(good[1]), "-o", str(out_dir))
    assert code != 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["v0.docx", "v1.docx"]
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        line for line in err.splitlines() if str(bad) in line
    ]
    assert "2 inserted, 1 rejected" in out


def test_explicit_texts_folder_and_version(tmp_path: Path, tiny_library_dir: Path) -> None:
    source, target = tmp_path / "in.docx", tmp_path / "out.docx"
    source.write_bytes(simple_document("Text"))
    code, _, err = run("insert", str(source), "-o", str(target), "--texts",
                         str(tiny_library_dir), "--version", "1.0")
    assert code == 0, err
    code, out, _ = run("verify", str(target), "--texts", str(tiny_library_dir), "--json")
    assert code == 0 and json.loads(out)["version"] == "1.0"


def test_unknown_version_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "in.docx"
    source.write_bytes(simple_document("Text"))
    code, _, err = run("insert", str(source), "-o", str(tmp_path / "o.docx"), "--version", "9.9")
    assert code != 0 and err.startswith("error: ") and "9.9" in err
