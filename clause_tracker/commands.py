"""The project's commands (init, demo, users) and where every package's commands are added to
the app's CLI."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from werkzeug.serving import run_simple

from clause_tracker.agreements.cli import import_cli
from clause_tracker.audit.cli import audit_cli
from clause_tracker.auth import directory_accounts
from clause_tracker.auth.directory import DirectoryUnavailable
from clause_tracker.auth.services import UserError
from clause_tracker.auth.services import create_user as create
from clause_tracker.bootstrap import init_database, load_demo_data
from clause_tracker.clauses.cli import clauses_cli
from clause_tracker.demo import DemoRefused, load_city
from clause_tracker.documents.cli import docx_cli, verify_cli
from clause_tracker.extensions import db
from clause_tracker.interop.cli import export_cli, import_eforms
from clause_tracker.jobs.cli import scheduler_cli
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.overview.cli import report_cli
from clause_tracker.retention.cli import retention_cli
from clause_tracker.storage.cli import storage_cli


@click.command("init")
@with_appcontext
def init() -> None:
    """Create or upgrade the database and publish the clause texts."""
    report = init_database()
    click.echo(f"database ready; clause library: {len(report.added)} new, "
               f"{report.unchanged} unchanged")


@click.command("demo")
@with_appcontext
@click.option("--serve", is_flag=True, help="Start the development server afterwards.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-records", is_flag=True,
              help="Units and users only, without the demo city's records.")
def demo(serve: bool, host: str, port: int, no_records: bool) -> None:
    """Initialise the database, add the demo units, one demo user per role and (into an
    empty registry) the demo city: contracts and grants in every state, one sweep run."""
    init_database()
    logins = load_demo_data()
    if not no_records:
        try:
            city = load_city()
        except DemoRefused as exc:
            click.echo(f"demo records: not loaded ({exc}); the demo loads into an empty "
                       "registry only")
        else:
            states = ", ".join(f"{state} {count}" for state, count in sorted(city.by_state.items()))
            click.echo(f"demo records: {city.agreements} contracts and grants ({states}); "
                       f"{len(city.by_reason)} reasons; {city.documents} documents; "
                       f"{city.complaints} complaints; checks due {city.checks_due}, overdue "
                       f"{city.checks_overdue}; loaded in {city.seconds:.1f} s")
    url = f"http://{host}:{port}/"
    click.echo("\nclause_tracker demo is ready.\n")
    click.echo(f"  URL: {url}\n")
    click.echo(f"  {'username':15} {'password':18} {'role':22} unit")
    for login in logins:
        click.echo(f"  {login.username:15} {login.password:18} {login.role:22} {login.unit or '—'}")
    click.echo("\n(Passwords are new each time 'clause-tracker demo' runs.)")
    click.echo("Reminders and the daily sweep need the scheduler beside the server: "
               "'clause-tracker scheduler run' in a second terminal.\n")
    if serve:
        # Flask refuses app.run() inside its own CLI; the development server itself is fine.
        run_simple(host, port, current_app._get_current_object(),  # type: ignore[attr-defined]  # the LocalProxy's
                   threaded=True)


users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["procurement_officer", "grant_manager", "auditor", "admin"]))
@click.option("--unit", "unit_code", help="Code of the organisational unit, e.g. KIJ.")
@click.option("--name", "display_name", default="")
@click.option("--email", default=None)
@click.password_option(help="Prompted for when not given.")
def create_user(username: str, role: str, unit_code: str | None, display_name: str,
                email: str | None, password: str) -> None:
    """Create a user account."""
    unit = None
    if unit_code:
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code!r}")
    try:
        user = create(username, password, role, display_name=display_name, org_unit=unit,
                      email=email)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.username} ({user.role})")


@users_cli.command("sync-directory")
def sync_directory() -> None:
    """Check every account of the city's directory against it (LDAP_*): gone, disabled or in
    no mapped group → deactivated; name, e-mail, role and unit updated."""
    if not current_app.config.get("LDAP_ENABLED"):
        raise click.ClickException("directory sign-in is off (LDAP_ENABLED)")
    try:
        report = directory_accounts.sync()
    except directory_accounts.SyncInterrupted as exc:
        raise click.ClickException(f"the directory failed halfway: {exc}") from exc
    except DirectoryUnavailable as exc:
        raise click.ClickException(f"the directory cannot be read, nothing changed: {exc}"
                                   ) from exc
    for label, names in (("updated", report.updated), ("reactivated", report.reactivated),
                         ("deactivated", report.deactivated)):
        for name in names:
            click.echo(f"{label}: {name}")
    click.echo(", ".join(f"{name} {count}" for name, count in report.counts().items()))


def register_commands(app: Flask) -> None:
    """On app.cli, so `flask --app wsgi …` and the test runner see them too."""
    import_cli.add_command(import_eforms)  # the import group of the agreements, a layer below
    for command in (init, demo, users_cli, clauses_cli, audit_cli, import_cli, scheduler_cli,
                    retention_cli, report_cli, docx_cli, verify_cli, export_cli, storage_cli):
        app.cli.add_command(command)
