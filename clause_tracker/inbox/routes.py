from __future__ import annotations

from flask import g, render_template
from flask_login import current_user

from clause_tracker.clock import today
from clause_tracker.inbox import bp, services
from clause_tracker.permissions import Permission, requires


def tasks() -> list[services.Task]:
    """The signed-in user's tasks, read once per request (the page and the navigation's
    count both show them)."""
    if "inbox_tasks" not in g:
        g.inbox_tasks = services.tasks_for(current_user, today())
    return g.inbox_tasks


@bp.app_context_processor
def task_count() -> dict[str, object]:
    return {"inbox_count": lambda: len(tasks()) if current_user.is_authenticated else 0}


@bp.route("/")
@requires(Permission.SIGNED_IN)
def index():
    return render_template("inbox/index.html", tasks=tasks(), today=today())
