from __future__ import annotations

import click
from flask.cli import AppGroup

from clause_tracker.audit import anchors as anchor_log
from clause_tracker.audit.services import head, record_verification, verify_anchored

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option("--anchor", "anchors", multiple=True, metavar="ID:HASH",
              help="An earlier `audit head`; it must still be there, unchanged.")
@click.option("--no-anchor-log", "skip_log", is_flag=True,
              help="Do not compare with the newest anchor of the anchor log "
                   "(AUDIT_ANCHOR_FILE).")
@click.option("--record", "record_it", is_flag=True,
              help="Write the chain's result into the trail (shown on the audit pages).")
def verify(anchors: tuple[str, ...], skip_log: bool, record_it: bool) -> None:
    """Check the hash chain and the newest anchor of the anchor log; name the first event
    that was edited, removed or reordered, or the anchor the trail falls short of."""
    for anchor in anchors:
        try:
            anchor_log.parse(anchor)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--anchor") from exc
    result = verify_anchored(anchors, use_log=not skip_log)
    if record_it:
        record_verification(result)
    problem = result.problem
    if problem is None:
        click.echo(f"ok: {result.checked} events, chain intact"
                   + (f", {result.anchors} anchor(s) present" if result.anchors else ""))
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
