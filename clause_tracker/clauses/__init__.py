"""The versioned clause library: published, immutable versions per variant and language."""

from flask import Blueprint

bp = Blueprint("clauses", __name__, url_prefix="/clauses")

