"""The documents desk: insert the clause, generate from templates, verify returned documents."""

from flask import Blueprint

bp = Blueprint("documents", __name__, url_prefix="/documents")

