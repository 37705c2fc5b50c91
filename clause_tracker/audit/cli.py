from __future__ import annotations

import click
from flask.cli import AppGroup

from clause_tracker.audit.services import verify_chain

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify() -> None:
    """Check the hash chain; name the first event that was edited, removed or reordered."""
    result = verify_chain()
    if result.ok:
        click.echo(f"ok: {result.checked} events, chain intact")
        return
    problem = result.problem
    click.echo(f"TAMPERED: {problem.message} ({problem.kind}; {result.checked} events intact "
               f"before it)", err=True)
    raise SystemExit(1)
