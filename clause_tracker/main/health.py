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


def migration_heads() -> set[str]:

    directory = Path(current_app.extensions["migrate"].directory)
    cfg = Config()
    cfg.set_main_option("script_location", str(directory))
    return set(ScriptDirectory.from_config(cfg).get_heads())


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
        report["scheduler"] = scheduler_status()
    return report


def scheduler_status() -> dict[str, object]:
    """The compliance scheduler's heartbeat. Informational: the web answers without it,
    so a stopped scheduler does not take the web nodes out of the load balancer."""

    try:
        stale = int(current_app.config["SCHEDULER_STALE_SECONDS"])
        return heartbeat.status(stale).as_dict()
    except SQLAlchemyError as exc:
        db.session.rollback()
        current_app.logger.warning("health check: scheduler heartbeat unreadable: %s", exc)
        return {"status": "unknown"}
