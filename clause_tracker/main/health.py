"""What /healthz reports: the database answers and its schema is at the newest migration."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from clause_tracker.extensions import db
from clause_tracker.jobs import heartbeat

_HEADS = "clause_tracker.migration_heads"


def migration_heads() -> set[str]:
    """The newest migrations of this release, read from the scripts once per app (they do
    not change while it runs; reading them took half of each /healthz call)."""
    heads = current_app.extensions.get(_HEADS)
    if heads is None:
        directory = Path(current_app.extensions["migrate"].directory)
        cfg = Config()
        cfg.set_main_option("script_location", str(directory))
        heads = frozenset(ScriptDirectory.from_config(cfg).get_heads())
        current_app.extensions[_HEADS] = heads
    return set(heads)


def health() -> dict[str, object]:
    report: dict[str, object] = {"database": "ok", "migrations": "current"}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        current_app.logger.warning("health check: database unreachable: %s", exc)
        return {"status": "error", "database": "unreachable", "migrations": "unknown"}
    heads = migration_heads()
    if current != heads:
        report["migrations"] = "pending"
        report["database_revision"] = sorted(current)
        report["expected_revision"] = sorted(heads)
    report["status"] = "ok" if report["migrations"] == "current" else "error"
    if report["migrations"] == "current":
        scheduler = report["scheduler"] = scheduler_status()
        if current_app.config.get("HEALTHZ_REQUIRE_SCHEDULER") and scheduler["status"] != "ok":
            report["status"] = "error"
    return report


def scheduler_status() -> dict[str, object]:
    """The compliance scheduler's heartbeat. Informational unless HEALTHZ_REQUIRE_SCHEDULER:
    the web answers without it, so a stopped scheduler does not take the web nodes out of
    the load balancer."""

    try:
        stale = heartbeat.stale_after(current_app.config)
        return heartbeat.status(stale).as_dict()
    except SQLAlchemyError as exc:
        db.session.rollback()
        current_app.logger.warning("health check: scheduler heartbeat unreadable: %s", exc)
        return {"status": "unknown"}
