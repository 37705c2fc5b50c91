"""Home page, language choice and the health check."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from clause_tracker.main import routes  # noqa: E402,F401
