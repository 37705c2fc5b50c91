"""Contractors and grantees (Vertragspartner, Zuwendungsempfänger) and their contact persons."""

from flask import Blueprint

# The routes are imported by create_app, not here: the models of the registry's packages
# refer to each other, and importing a model must not pull in every view.

bp = Blueprint("counterparties", __name__, url_prefix="/counterparties")
