from __future__ import annotations

import click
from flask.cli import AppGroup

from clause_tracker.clauses import services
from clause_tracker.clauses.texts import LANGUAGES, VARIANTS, ClauseFileError

clauses_cli = AppGroup("clauses", help="The clause library (clause_texts/).")


@clauses_cli.command("sync")
def sync() -> None:
    """Publish new versions from clause_texts/; refuse if a published file changed."""
    try:
        report = services.sync()
    except (services.ClauseChangedError, ClauseFileError) as exc:
        raise click.ClickException(str(exc)) from exc
    for label in report.added:
        click.echo(f"published: {label}")
    for label in report.orphaned:
        click.echo(f"warning: {label} is published but its file is gone", err=True)
    click.echo(f"{len(report.added)} new, {report.unchanged} unchanged")


@clauses_cli.command("list")
def list_versions() -> None:
    """Every published version with its fingerprint."""
    for v in services.versions():
        click.echo(f"{v.variant:16} {v.language} {v.version:6} {v.valid_from.isoformat()} "
                   f"{v.sha256[:16]}  {v.title}")


@clauses_cli.command("show")
@click.argument("variant", type=click.Choice(VARIANTS))
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default="de", show_default=True)
@click.option("--version", "version", help="Default: the current version.")
def show(variant: str, language: str, version: str | None) -> None:
    """Print one version's text."""
    clause = (services.get_version(variant, language, version) if version
              else services.current_version(variant, language))
    if clause is None:
        raise click.ClickException(f"no version of {variant} ({language}); run 'clauses sync'?")
    click.echo(f"{clause.clause_id} {clause.version} ({clause.language}) sha256={clause.sha256}")
    click.echo(clause.canonical_text)


@clauses_cli.command("diff")
@click.argument("variant", type=click.Choice(VARIANTS))
@click.argument("old")
@click.argument("new")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default="de", show_default=True)
def diff(variant: str, old: str, new: str, language: str) -> None:
    """Unified diff between two versions of a variant."""
    a = services.get_version(variant, language, old)
    b = services.get_version(variant, language, new)
    if a is None or b is None:
        missing = [v for v, found in ((old, a), (new, b)) if found is None]
        raise click.ClickException(f"unknown version(s) of {variant} ({language}): "
                                   + ", ".join(missing))
    click.echo(services.unified_diff(a, b) or "identical")
