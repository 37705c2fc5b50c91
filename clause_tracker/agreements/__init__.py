"""Contracts and grants: the registry of awards that carry the clause."""

from flask import Blueprint

# The routes are imported by create_app, not here: the models of the registry's packages
# refer to each other, and importing a model must not pull in every view.

bp = Blueprint("agreements", __name__, url_prefix="/agreements")
