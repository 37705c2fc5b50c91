"""`clause-tracker docx …` and `clause-tracker verify`: insert and verify from the command line,
without a database.

A thin layer over the engine: it reads clause_texts/ (or --texts), reads the
limits from the Flask config when an app context is active, and turns every
DocumentRejected into one `error: <file>: <reason>` line on stderr.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from clause_tracker.clauses.texts import (
    ClauseFileError,
    ClauseText,
    default_library_dir,
    load_library,
)
from clause_tracker.documents.errors import ClauseUnavailable, DocumentError, DocumentRejected
from clause_tracker.documents.ingest import Limits, check_size
from clause_tracker.documents.insert import insert_clause, select_clause
from clause_tracker.documents.returned import settings, verify_returned
from clause_tracker.documents.sandbox import ReturnedLimits
from clause_tracker.documents.verify import VerifyResult

EXIT_FAILED = 1  # a file was rejected or did not verify
EXIT_USAGE = 2  # no clause text, unreadable library

docx_cli = click.Group(
    "docx", help="Insert the anti-racism clause into DOCX files and verify returned ones."
)


def _error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


def _library(texts: Path | None) -> list[ClauseText]:
    try:
        library = load_library(texts or default_library_dir())
    except (ClauseFileError, OSError) as exc:
        _error(str(exc))
        raise SystemExit(EXIT_USAGE) from exc
    if not library:
        _error(f"no clause texts in {texts or default_library_dir()}")
        raise SystemExit(EXIT_USAGE)
    return library


def _read(path: Path, limits: Limits) -> bytes:
    """The file's bytes; the size is checked before reading so a huge file is never loaded."""
    check_size(path.stat().st_size, limits)
    return path.read_bytes()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".docx.part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _targets(inputs: tuple[Path, ...], output: Path) -> list[tuple[Path, Path]]:
    if len(inputs) == 1 and not output.is_dir():
        return [(inputs[0], output)]
    if output.exists() and not output.is_dir():
        raise click.UsageError("with several inputs, -o must be a folder")
    used: set[str] = set()
    pairs = []
    for path in inputs:
        name, number = path.name, 1
        while name in used:
            number += 1
            name = f"{path.stem}-{number}{path.suffix}"
        used.add(name)
        pairs.append((path, output / name))
    return pairs


@docx_cli.command("insert")
@click.argument(
    "inputs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output file (one input) or folder (several inputs).")
@click.option("--variant", default="procurement", show_default=True,
              type=click.Choice(["procurement", "grant", "subcontract"]))
@click.option("--lang", "language", default="de", show_default=True,
              type=click.Choice(["de", "en"]))
@click.option("--version", default=None, help="Clause version (default: the current one).")
@click.option("--texts", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Clause text folder (default: clause_texts/ of this checkout).")
def insert_command(
    inputs: tuple[Path, ...],
    output: Path,
    variant: str,
    language: str,
    version: str | None,
    texts: Path | None,
) -> None:
    """Insert the clause into INPUT files; rejected files are reported and skipped."""
    library = _library(texts)
    try:
        clause = select_clause(library, variant, language, version)
    except ClauseUnavailable as exc:
        _error(str(exc))
        raise SystemExit(EXIT_USAGE) from exc
    limits = Limits.current()
    done = failed = 0
    for source, target in _targets(inputs, output):
        try:
            result = insert_clause(_read(source, limits), clause, limits=limits, known=library)
            _write_atomically(target, result.data)
        except (DocumentError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _error(f"{source}: {reason}")
            failed += 1
            continue
        for warning in result.warnings:
            click.echo(f"warning: {source}: {warning}", err=True)
        click.echo(f"{source} -> {target} ({result.location.mode}, "
                   f"{clause.clause_id} {clause.version} {clause.language})")
        done += 1
    if len(inputs) > 1:
        click.echo(f"{done} inserted, {failed} rejected")
    if failed:
        raise SystemExit(EXIT_FAILED)


_VERIFY_HELP = (
    "Check that the returned FILE (DOCX, PDF, PNG, JPEG or TIFF) carries a published clause "
    "text unchanged; exit 0 only if it does (verbatim or formatting_only). A scan read by "
    "OCR (ocr_match) exits 1: a person must confirm it."
)


def _verify(file: Path, as_json: bool, texts: Path | None) -> None:
    library = _library(texts)
    limits = Limits.current()
    threshold, trust_dir = settings()
    try:
        result = verify_returned(_read(file, limits), library, limits=limits,
                                 returned_limits=ReturnedLimits.current(),
                                 ocr_threshold=threshold, trust_dir=trust_dir)
    except (DocumentRejected, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _error(f"{file}: {reason}")
        raise SystemExit(EXIT_FAILED) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print(result)
    if not result.passed:
        raise SystemExit(EXIT_FAILED)


def _print(result: VerifyResult) -> None:
    what = " ".join(v for v in (result.clause_id, result.version, result.language) if v)
    click.echo(f"{result.status}: {what or 'no clause found'} (sha256 {result.sha256})")
    if result.method != "docx":
        click.echo(f"  read from: {result.method}, similarity {result.similarity:.4f}")
    if result.status == "ocr_match":
        click.echo("  read by OCR: not proof of the exact words; a person must compare the "
                   "scan with the published text and confirm (exit 1)")
    for op in result.diff:
        click.echo(f"  {op}")
    for sig in result.signatures:
        click.echo(f"  signature {sig.get('field')}: signer {sig.get('signer')}, "
                   f"{sig.get('signing_time')}, intact {sig.get('intact')}, "
                   f"{sig.get('coverage')}; {sig.get('trust')}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.command("verify", help=_VERIFY_HELP)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--texts", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Clause text folder (default: clause_texts/ of this checkout).")
def verify_cli(file: Path, as_json: bool, texts: Path | None) -> None:
    _verify(file, as_json, texts)


@docx_cli.command("verify", help=_VERIFY_HELP + " The same as `clause-tracker verify`.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--texts", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Clause text folder (default: clause_texts/ of this checkout).")
def verify_command(file: Path, as_json: bool, texts: Path | None) -> None:
    _verify(file, as_json, texts)
