"""Declarations (Eigenerklärungen) and grantees' voluntary self-commitments."""

from flask import Blueprint

# The routes are imported by create_app, not here: the models of the registry's packages
# refer to each other, and importing a model must not pull in every view.

bp = Blueprint("declarations", __name__, url_prefix="/declarations")
