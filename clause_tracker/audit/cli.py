from __future__ import annotations

import click
from flask.cli import AppGroup

from clause_tracker.audit.services import check_anchor, head, record_verification, verify_chain

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option("--anchor", "anchors", multiple=True, metavar="ID:HASH",
              help="An earlier `audit head`; it must still be there, unchanged.")
@click.option("--record", "record_it", is_flag=True,
              help="Write the chain's result into the trail (shown on the audit pages).")
def verify(anchors: tuple[str, ...], record_it: bool) -> None:
    """Check the hash chain; name the first event that was edited, removed or reordered."""
    result = verify_chain()
    if record_it:
        record_verification(result)
    problem = result.problem
    for anchor in anchors if problem is None else ():
        try:
            problem = check_anchor(anchor)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--anchor") from exc
        if problem:
            break
    if problem is None:
        click.echo(f"ok: {result.checked} events, chain intact"
                   + (f", {len(anchors)} anchor(s) present" if anchors else ""))
        return
    click.echo(f"TAMPERED: {problem.message} ({problem.kind}; {result.checked} events intact "
               f"before it)", err=True)
    raise SystemExit(1)


@audit_cli.command("head")
def show_head() -> None:
    """Print the newest event as ID:HASH, to be kept outside the database (an anchor)."""
    event = head()
    if event is None:
        raise click.ClickException("the audit trail is empty")
    click.echo(f"{event.id}:{event.hash}")
